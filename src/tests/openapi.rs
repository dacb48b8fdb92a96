//! The served OpenAPI document matches real answers: every required field documented is
//! present, every field answered is documented, answers validate against their documented
//! schema, and every status an operation can answer is documented (what Schemathesis checks in
//! `.ci/fuzz.sh`, kept here as fast regressions).
use super::harness::TestApp;
use crate::server::db::Backend;
use serde_json::{json, Value};
use std::collections::BTreeSet;

super::both_backends!(
    openapi_document_matches_real_answers,
    every_error_an_operation_answers_is_documented
);

fn schema_fields(doc: &Value, name: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let schema = &doc["components"]["schemas"][name];
    let mut all: BTreeSet<String> = schema["properties"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let mut required: BTreeSet<String> = schema["required"]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    // Flattened paging lists use allOf.
    if let Some(parts) = schema["allOf"].as_array() {
        for p in parts {
            let inner = match p["$ref"].as_str() {
                Some(r) => doc["components"]["schemas"][r.rsplit('/').next().unwrap()].clone(),
                None => p.clone(),
            };
            all.extend(
                inner["properties"]
                    .as_object()
                    .map(|m| m.keys().cloned().collect::<Vec<_>>())
                    .unwrap_or_default(),
            );
            required.extend(
                inner["required"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|v| v.as_str().unwrap().to_owned())
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default(),
            );
        }
    }
    assert!(!all.is_empty(), "schema {name} documented");
    (all, required)
}

fn check(doc: &Value, name: &str, real: &Value) {
    let (all, required) = schema_fields(doc, name);
    let keys: BTreeSet<String> = real.as_object().unwrap().keys().cloned().collect();
    let missing: Vec<_> = required.difference(&keys).collect();
    assert!(
        missing.is_empty(),
        "{name}: documented but missing {missing:?}"
    );
    let undocumented: Vec<_> = keys.difference(&all).collect();
    assert!(
        undocumented.is_empty(),
        "{name}: answered but undocumented {undocumented:?}"
    );
}

async fn openapi_document_matches_real_answers(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let res = app
        .http
        .get(app.url("/2fa/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/2fa/send",
        "/2fa/verify",
        "/2fa/cancel",
        "/2fa/search",
        "/2fa/search/{requestID}",
        "/2fa/sandbox/messages",
        "/2fa/accounts",
        "/2fa/accounts/{sid}",
        "/2fa/errors",
        "/2fa/usage/records",
        "/2fa/usage/records/{period}",
        "/2fa/audit",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    let (_, sent) = api
        .post(
            "/2fa/send",
            json!({"service": "S", "to": "+14155550150", "reference": "r"}),
        )
        .await;
    check(&doc, "SendResponse", &sent);
    let rid = sent["requestID"].as_str().unwrap().to_owned();
    app.deliver().await;
    let (_, sdr) = api.get(&format!("/2fa/search/{rid}")).await;
    check(&doc, "Sdr", &sdr);
    check(&doc, "DeliveryAttempt", &sdr["deliveryAttempts"][0]);
    check(&doc, "Event", &sdr["events"][0]);
    let (_, list) = api.get("/2fa/search").await;
    check(&doc, "SearchResponse", &list);
    let (_, outbox) = api.get("/2fa/sandbox/messages").await;
    check(&doc, "SandboxResponse", &outbox);
    check(&doc, "SandboxMessage", &outbox["messages"][0]);
    let (_, code) = api.sandbox_code(&rid).await;
    let (_, wrong) = api
        .post("/2fa/verify", json!({"requestID": rid, "code": "ZZZZ"}))
        .await;
    check(&doc, "ErrorEnvelope", &wrong);
    let (_, verified) = api
        .post("/2fa/verify", json!({"requestID": rid, "code": code}))
        .await;
    check(&doc, "VerifyResponse", &verified);
    let rid2 = api
        .send_ok(json!({"service": "T", "to": "+14155550151"}))
        .await;
    let (_, canceled) = api.post("/2fa/cancel", json!({"requestID": rid2})).await;
    check(&doc, "CancelResponse", &canceled);
    let (_, created) = api
        .post("/2fa/accounts", json!({"friendlyName": "Sub"}))
        .await;
    check(&doc, "Account", &created);
    let (_, one) = api.get(&format!("/2fa/accounts/{}", acc.sid)).await;
    check(&doc, "Account", &one);
    let (_, accounts) = api.get("/2fa/accounts").await;
    check(&doc, "AccountsResponse", &accounts);
    let (_, limit) = api
        .post(
            "/2fa/limits",
            json!({"name": "per_ip", "buckets": [{"name": "m", "maxOtp": 1, "interval": 60}]}),
        )
        .await;
    check(&doc, "Limit", &limit);
    check(&doc, "LimitBucket", &limit["buckets"][0]);
    let (_, limits) = api.get("/2fa/limits").await;
    check(&doc, "LimitsResponse", &limits);
    api.send_ok(json!({"service": "L", "to": "+14155550152", "limits": {"per_ip": "k"}}))
        .await;
    let (status, blocked) = api
        .post(
            "/2fa/send",
            json!({"service": "L", "to": "+14155550153", "limits": {"per_ip": "k"}}),
        )
        .await;
    assert_eq!(status, 429);
    check(&doc, "ErrorEnvelope", &blocked);
    let (_, usage) = api.get("/2fa/usage/records/Daily?groupBy=channel").await;
    check(&doc, "UsageRecordsResponse", &usage);
    check(&doc, "UsageRecord", &usage["usageRecords"][0]);
    let (_, audit) = api.get("/2fa/audit").await;
    check(&doc, "AuditResponse", &audit);
    check(&doc, "AuditEntry", &audit["entries"][0]);
    check(&doc, "AuditActor", &audit["entries"][0]["actor"]);
    let (_, errors) = api.get("/2fa/errors").await;
    check(&doc, "ErrorsResponse", &errors);
    check(&doc, "ErrorInfo", &errors["errors"][0]);
    assert!(doc["paths"]["/2fa/templates/{channel}/{language}"].is_object());
    let (_, templates) = api.get("/2fa/templates").await;
    check(&doc, "TemplatesResponse", &templates);
    check(&doc, "TemplateDto", &templates["templates"][0]);
    check(
        &doc,
        "SmsLengthDto",
        &templates["templates"][0]["smsLength"],
    );
    let (status, put) = api
        .post_method(
            "PUT",
            "/2fa/templates/email/es-MX",
            json!({"subject": "Código", "text": "{code}", "html": "<b>{code}</b>"}),
        )
        .await;
    assert_eq!(status, 200, "{put}");
    check(&doc, "TemplateDto", &put);

    // Whole answers validate against the schema documented for their status.
    for (path, method) in [
        ("/2fa/settings/countries", "get"),
        ("/2fa/settings", "get"),
        ("/2fa/settings/fraudGuard", "get"),
        ("/2fa/accounts", "get"),
        ("/2fa/limits", "get"),
        ("/2fa/search", "get"),
        ("/2fa/sandbox/messages", "get"),
        ("/2fa/templates", "get"),
        ("/2fa/providers", "get"),
        ("/2fa/fraudGuard/blocks", "get"),
        ("/2fa/usage/records", "get"),
        ("/2fa/audit", "get"),
        ("/2fa/errors", "get"),
    ] {
        let (status, body) = api.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        let schema = &doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]
            ["schema"];
        if let Err(e) = conforms(&doc, schema, &body, "") {
            panic!("{method} {path}: the answer does not match the document: {e}\n{body}");
        }
    }
    let (status, countries) = api
        .post_method(
            "PUT",
            "/2fa/settings/countries",
            json!({"sms": ["GB", "IE"], "call": "all"}),
        )
        .await;
    assert_eq!(status, 200, "{countries}");
    let schema = &doc["paths"]["/2fa/settings/countries"]["put"]["responses"]["200"]["content"]
        ["application/json"]["schema"];
    conforms(&doc, schema, &countries, "").unwrap();
    conforms(&doc, schema, &json!({"sms": {}}), "").expect_err("an object is not a country list");
}

/// Does `value` match `schema` (a JSON Schema of the document, `$ref`s resolved in `doc`)?
/// Covers what the generated document uses: type, enum, properties, required, items, oneOf,
/// allOf, anyOf.
fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap();
        return conforms(doc, &doc["components"]["schemas"][name], value, at);
    }
    if let Some(types) = match &schema["type"] {
        Value::String(t) => Some(vec![t.as_str()]),
        Value::Array(ts) => Some(ts.iter().filter_map(Value::as_str).collect()),
        _ => None,
    } {
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let ok = types
            .iter()
            .any(|t| *t == actual || (*t == "number" && actual == "integer"));
        if !ok {
            return Err(format!("{at}: {value} is not of type {types:?}"));
        }
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            return Err(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    if let Some(parts) = schema["allOf"].as_array() {
        for p in parts {
            conforms(doc, p, value, at)?;
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema[key].as_array() {
            let matching = options
                .iter()
                .filter(|o| conforms(doc, o, value, at).is_ok())
                .count();
            if matching == 0 || (key == "oneOf" && matching > 1) {
                return Err(format!(
                    "{at}: {value} matches {matching} of the {key} schemas"
                ));
            }
        }
    }
    if let Value::Object(map) = value {
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap();
            if !map.contains_key(name) {
                return Err(format!("{at}: required {name} is missing"));
            }
        }
        if let Some(props) = schema["properties"].as_object() {
            for (k, v) in map {
                if let Some(p) = props.get(k) {
                    conforms(doc, p, v, &format!("{at}/{k}"))?;
                }
            }
        }
    }
    if let (Value::Array(items), Some(item)) = (value, schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            conforms(doc, item, v, &format!("{at}/{i}"))?;
        }
    }
    Ok(())
}

/// Operation ids are unique, as OpenAPI requires: tools find operations (and follow links) by
/// them, and several handlers share a name (`get_one`, `update`…).
#[test]
fn operation_ids_are_unique() {
    use utoipa::OpenApi;
    let doc = serde_json::to_value(crate::server::rest::openapi::ApiDoc::openapi()).unwrap();
    let mut seen = std::collections::BTreeMap::<String, String>::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap().to_owned();
            if let Some(first) = seen.insert(id.clone(), format!("{method} {path}")) {
                panic!("operationId {id:?} is used by {first} and {method} {path}");
            }
        }
    }
    assert_eq!(
        doc["paths"]["/2fa/limits/{limitSid}"]["get"]["operationId"],
        "limits_get_one"
    );
}

/// Every documented operation answers only statuses its document lists, with the error
/// envelope: without credentials (401), refused by the auth throttle (429), with a malformed or
/// foreign `accountSid` (400, 403/404) and with an unsupported body (415).
async fn every_error_an_operation_answers_is_documented(b: Backend) {
    let app = TestApp::start_with(b, |s| {
        s.api_auth.slow_after = 1_000;
        s.api_auth.refuse_after = 1_000;
    })
    .await;
    let acc = app.account("Acme").await;
    let doc: Value = app
        .http
        .get(app.url("/2fa/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ops: Vec<(String, String, bool)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .iter()
                .map(|(m, op)| (path.clone(), m.clone(), op["requestBody"].is_object()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(ops.len() >= 38, "{} operations", ops.len());
    let mut checked = 0;
    for (path, method, has_body) in &ops {
        let concrete = path
            .replace("{channel}", "sms")
            .replace("{language}", "en-US")
            .replace("{period}", "Daily")
            .replace("{prefix}", "+4477009")
            .replace("{limitSid}", "LM00000000000000000000000000000000")
            .replace("{providerSid}", "PR00000000000000000000000000000000")
            .replace("{requestID}", "OTP00000000000000000000000000000000")
            .replace("{sid}", &acc.sid);
        let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let cases: Vec<(&str, reqwest::RequestBuilder)> = vec![
            (
                "no credentials",
                app.http.request(m.clone(), app.url(&concrete)),
            ),
            (
                "malformed accountSid",
                app.http
                    .request(m.clone(), app.url(&format!("{concrete}?accountSid=nope")))
                    .basic_auth(&acc.sid, Some(&acc.token)),
            ),
            (
                "foreign accountSid",
                app.http
                    .request(
                        m.clone(),
                        app.url(&format!(
                            "{concrete}?accountSid=AC00000000000000000000000000000000"
                        )),
                    )
                    .basic_auth(&acc.sid, Some(&acc.token)),
            ),
            (
                "text body",
                app.http
                    .request(m.clone(), app.url(&concrete))
                    .basic_auth(&acc.sid, Some(&acc.token))
                    .header("content-type", "text/plain")
                    .body("hello"),
            ),
        ];
        for (case, req) in cases {
            if case == "text body" && !has_body {
                continue;
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            let documented = &doc["paths"][path][method]["responses"][status.to_string()];
            assert!(
                documented.is_object(),
                "{method} {path} ({case}) answered {status}, which its document does not list: {body}"
            );
            if status < 400 {
                // An operation that takes no accountSid ignores it, as any unknown field.
                continue;
            }
            assert_eq!(body["code"], status, "{method} {path} ({case}): {body}");
            let code = body["errorCode"]
                .as_u64()
                .unwrap_or_else(|| panic!("{body}"));
            assert_eq!(body["moreInfo"], format!("/2fa/errors#{code}"), "{body}");
            let schema = &documented["content"]["application/json"]["schema"];
            conforms(&doc, schema, &body, "").unwrap_or_else(|e| panic!("{method} {path}: {e}"));
            checked += 1;
        }
    }
    assert!(checked >= 2 * 38, "{checked} error answers checked");

    // The auth throttle's refusal is documented for every operation too.
    let strict = TestApp::start_with(b, |s| {
        s.api_auth.slow_after = 1_000;
        s.api_auth.refuse_after = 1;
    })
    .await;
    for _ in 0..3 {
        strict
            .http
            .get(strict.url("/2fa/settings"))
            .basic_auth("AC00000000000000000000000000000000", Some("wrong"))
            .send()
            .await
            .unwrap();
    }
    let res = strict
        .http
        .get(strict.url("/2fa/limits"))
        .basic_auth("AC00000000000000000000000000000000", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    for (path, method, _) in &ops {
        assert!(
            doc["paths"][path][method]["responses"]["429"].is_object(),
            "{method} {path} does not document 429"
        );
    }
}
