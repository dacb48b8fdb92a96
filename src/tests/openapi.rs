//! The served OpenAPI document matches real answers: every required field documented is
//! present, and every field answered is documented.
use super::harness::TestApp;
use crate::server::db::Backend;
use serde_json::{json, Value};
use std::collections::BTreeSet;

super::both_backends!(openapi_document_matches_real_answers);

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
}
