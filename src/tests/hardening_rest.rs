//! Hardening of the REST edge (issue 14): usage ranges capped and paged before records are
//! built, paging by offset capped and counts bounded, idempotency keys read exactly, cross-site
//! browser posts to `/2fa` refused, security headers on pages and answers.
use super::harness::{client, signed_in, TestApp};
use crate::server::db::Backend;
use serde_json::{json, Value};
use time::macros::datetime;
use time::Duration;

super::both_backends!(
    usage_ranges_are_capped_and_only_the_page_is_built,
    paging_by_offset_is_capped_and_counts_stop_at_the_cap,
    idempotency_keys_must_be_visible_ascii,
    cross_site_browser_posts_to_the_api_are_refused,
    security_headers_on_pages_and_answers,
);

fn at(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

async fn usage_ranges_are_capped_and_only_the_page_is_built(b: Backend) {
    let app = TestApp::start_with(b, |s| s.workers_enabled = false).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let today = datetime!(2026-02-15 10:00 UTC);
    let first = today.date() - Duration::days(999); // 1000 days up to today
                                                    // One OTP on the range's first day, one in the middle of the third page, one today.
    for when in [
        first.midnight().assume_utc(),
        today - Duration::days(999 - 650),
        today,
    ] {
        app.clock.set(at(when));
        api.send_ok(json!({"service": "Shop", "to": "+14155550177"}))
            .await;
    }

    // 200 years of days: refused before anything is read or built, naming the field and the cap.
    for (path, query) in [
        (
            "Daily",
            "startDate=1826-01-01&endDate=2026-01-01".to_owned(),
        ),
        ("Daily", format!("startDate={}", first - Duration::days(1))),
        ("Monthly", "startDate=1900-01-01".to_owned()),
        (
            "Yearly",
            "startDate=0001-01-01&endDate=2026-01-01".to_owned(),
        ),
    ] {
        let (status, e) = api.get(&format!("/2fa/usage/records/{path}?{query}")).await;
        assert_eq!(
            (status, e["errorCode"].as_u64(), e["field"].as_str()),
            (400, Some(7004), Some("startDate")),
            "{path}?{query}: {e}"
        );
        assert!(
            e["message"].as_str().unwrap().contains("at most 1000"),
            "the cap is in the message: {e}"
        );
    }

    // At the cap: 1000 daily records, paged; each page holds its own days and their counts.
    let mut uri = format!("/2fa/usage/records/Daily?startDate={first}&PageSize=300");
    let mut sizes = Vec::new();
    let mut days: Vec<(String, i64)> = Vec::new();
    for page in 0.. {
        assert!(page < 10, "bounded walk");
        let (status, v) = api.get(&uri).await;
        assert_eq!(status, 200, "{uri}: {v}");
        assert_eq!(
            (v["total"].as_i64(), v["page"].as_i64()),
            (Some(1000), Some(page))
        );
        assert_eq!(v["numPages"], 4);
        let records = v["usageRecords"].as_array().unwrap();
        sizes.push(records.len());
        days.extend(records.iter().map(|r| {
            (
                r["startTime"].as_str().unwrap().to_owned(),
                r["count"].as_i64().unwrap(),
            )
        }));
        match v["nextPageUri"].as_str() {
            Some(next) => uri = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(sizes, [300, 300, 300, 100]);
    let expected: Vec<String> = (0..1000)
        .map(|i| (first + Duration::days(i)).to_string())
        .collect();
    assert_eq!(
        days.iter().map(|(d, _)| d.clone()).collect::<Vec<_>>(),
        expected,
        "every day once, in order"
    );
    let busy: Vec<(usize, i64)> = days
        .iter()
        .enumerate()
        .filter(|(_, (_, n))| *n != 0)
        .map(|(i, (_, n))| (i, *n))
        .collect();
    assert_eq!(busy, [(0, 1), (650, 1), (999, 1)]);
    // Past the last page: no records, the same total.
    let (_, past) = api
        .get(&format!(
            "/2fa/usage/records/Daily?startDate={first}&PageSize=300&Page=4"
        ))
        .await;
    assert_eq!(
        (past["usageRecords"].clone(), past["total"].clone()),
        (json!([]), json!(1000))
    );
    // Grouped records page the same way (only periods with OTPs have one).
    let (_, grouped) = api
        .get(&format!(
            "/2fa/usage/records/Daily?startDate={first}&groupBy=channel&PageSize=2&Page=1"
        ))
        .await;
    assert_eq!(grouped["total"], 3, "{grouped}");
    assert_eq!(grouped["usageRecords"].as_array().unwrap().len(), 1);
    assert_eq!(
        grouped["usageRecords"][0]["startTime"],
        today.date().to_string()
    );

    // More sub-accounts than SQLite binds parameters: they are read by their parent, not bound
    // one by one. One of them has an OTP today.
    let child = app.account_with_parent("Acme EU", Some(&acc.sid)).await;
    app.api(&child)
        .send_ok(json!({"service": "Shop", "to": "+14155550178"}))
        .await;
    let hex = match app.state.db().backend() {
        Backend::Sqlite => "printf('%032x', n)",
        Backend::Postgres => "lpad(to_hex(n), 32, '0')",
    };
    let sql = format!(
        "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 33000) \
         INSERT INTO accounts (sid, parent_sid, friendly_name, status, date_created, date_updated) \
         SELECT 'AC' || {hex}, '{}', 'Sub ' || n, 'active', 0, 0 FROM seq",
        acc.sid
    );
    app.state
        .db()
        .execute(&sql, vec![])
        .await
        .expect("sub-accounts");
    let (status, all) = api
        .get("/2fa/usage/records/Today?includeSubaccounts=true")
        .await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["usageRecords"][0]["count"], 2, "{all}");
    assert!(all["usageRecords"][0]["description"]
        .as_str()
        .unwrap()
        .contains("and sub-accounts"));
}

/// Inserts `n` rows into `table` for `account` in one statement (both dialects).
async fn bulk_rows(app: &TestApp, table: &str, account: &str, n: i64) {
    let db = app.state.db();
    let hex = match db.backend() {
        Backend::Sqlite => "printf('%032x', n)",
        Backend::Postgres => "lpad(to_hex(n), 32, '0')",
    };
    let now = app.clock.now_ms();
    let insert = match table {
        "sandbox_messages" => format!(
            "INSERT INTO sandbox_messages (account_sid, otp_sid, step, channel, to_number, text, date_created) \
             SELECT '{account}', 'OTP' || {hex}, 0, 'sms', '+14155550100', 'Your code is 123456.', {now} FROM seq"
        ),
        _ => format!(
            "INSERT INTO audit_entries (sid, account_sid, at, actor_type, actor_sid, address, action, target) \
             SELECT 'AU' || {hex}, '{account}', {now} - n, 'credential', '{account}', '127.0.0.1', 'limit.create', 'LM' || {hex} FROM seq"
        ),
    };
    let sql = format!(
        "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {n}) {insert}"
    );
    db.execute(&sql, vec![]).await.expect("bulk insert");
}

use crate::server::clock::Clock;

async fn paging_by_offset_is_capped_and_counts_stop_at_the_cap(b: Backend) {
    let app = TestApp::start_with(b, |s| s.workers_enabled = false).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    bulk_rows(&app, "sandbox_messages", &acc.sid, 10_050).await;
    bulk_rows(&app, "audit_entries", &acc.sid, 10_050).await;

    // More than the cap match: the count stops there and says so.
    let (status, v) = api.get("/2fa/sandbox/messages?PageSize=100").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (
            &v["total"],
            &v["totalCapped"],
            &v["numPages"],
            &v["lastPageUri"]
        ),
        (&json!(10_000), &json!(true), &json!(100), &Value::Null),
        "{v}"
    );
    assert!(v["nextPageUri"].is_string());
    // Few match: exact, as before.
    let (_, few) = api
        .get(&format!("/2fa/sandbox/messages?requestID=OTP{:032x}", 7))
        .await;
    assert_eq!(
        (&few["total"], &few["totalCapped"]),
        (&json!(1), &json!(false)),
        "{few}"
    );

    // By offset, paging stops at item 10 000 with an answer saying how to go deeper.
    let (status, _) = api.get("/2fa/sandbox/messages?PageSize=50&Page=200").await;
    assert_eq!(status, 200, "offset 10 000 is still fine");
    let (status, e) = api.get("/2fa/sandbox/messages?PageSize=50&Page=201").await;
    assert_eq!(
        (status, e["errorCode"].as_u64(), e["field"].as_str()),
        (400, Some(7004), Some("Page")),
        "{e}"
    );
    for path in ["/2fa/search", "/2fa/audit"] {
        let (status, e) = api.get(&format!("{path}?Page=1000000&PageSize=1000")).await;
        assert_eq!(
            (status, e["field"].as_str()),
            (400, Some("Page")),
            "{path}: {e}"
        );
        assert!(
            e["message"].as_str().unwrap().contains("AfterSid"),
            "says how to page deeper: {e}"
        );
    }

    // Positional paging (AfterSid) is not held by the offset cap, and counts are capped too.
    let (_, first) = api.get("/2fa/audit?PageSize=5").await;
    assert_eq!(
        (&first["total"], &first["totalCapped"]),
        (&json!(10_000), &json!(true)),
        "{first}"
    );
    let next = first["nextPageUri"].as_str().unwrap().to_owned();
    assert!(next.contains("AfterSid=AU"), "{next}");
    let (status, second) = api.get(&next).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(
        (&second["page"], &second["totalCapped"]),
        (&json!(1), &json!(true))
    );
    let after = second["entries"][4]["auditSid"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, deep) = api
        .get(&format!("/2fa/audit?PageSize=5&Page=5000&AfterSid={after}"))
        .await;
    assert_eq!(status, 200, "{deep}");
    assert_eq!(deep["entries"].as_array().unwrap().len(), 5);
}

async fn idempotency_keys_must_be_visible_ascii(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let send = |key: &'static [u8], to: &'static str| {
        let req = app
            .http
            .post(app.url("/2fa/send"))
            .basic_auth(&acc.sid, Some(&acc.token))
            .header(
                "idempotency-key",
                reqwest::header::HeaderValue::from_bytes(key).unwrap(),
            )
            .json(&json!({"service": "Shop", "to": to}));
        async move {
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap())
        }
    };
    // Two different non-ASCII keys used to become the same key (and the second send a replay).
    for key in [
        "café".as_bytes(),
        "naïve".as_bytes(),
        b"\xff\xfe",
        b"tab\there",
    ] {
        let (status, e) = send(key, "+14155550101").await;
        assert_eq!(
            (status, e["errorCode"].as_u64(), e["field"].as_str()),
            (400, Some(7004), Some("Idempotency-Key")),
            "{key:?}: {e}"
        );
    }
    // Visible ASCII keys work and replay as before.
    let (status, first) = send(b"order-42 retry", "+14155550102").await;
    assert_eq!(status, 200, "{first}");
    let (status, again) = send(b"order-42 retry", "+14155550102").await;
    assert_eq!(status, 200);
    assert_eq!(first["requestID"], again["requestID"]);
}

async fn cross_site_browser_posts_to_the_api_are_refused(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let own_origin = app.url("");
    let post = |headers: Vec<(&'static str, String)>, to: &'static str| {
        let mut req = app
            .http
            .post(app.url("/2fa/send"))
            .basic_auth(&acc.sid, Some(&acc.token))
            .form(&[("service", "Shop"), ("to", to)]);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        async move {
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    // A form on another site posting with the browser's cached Basic credentials.
    for headers in [
        vec![("sec-fetch-site", "cross-site".to_owned())],
        vec![
            ("sec-fetch-site", "cross-site".to_owned()),
            ("origin", "https://evil.example".to_owned()),
        ],
        vec![("origin", "https://evil.example".to_owned())],
        vec![("origin", "null".to_owned())],
    ] {
        let (status, e) = post(headers.clone(), "+14155550110").await;
        assert_eq!(
            (status, e["errorCode"].as_u64()),
            (403, Some(7002)),
            "{headers:?}: {e}"
        );
        assert!(e["message"].as_str().unwrap().contains("Cross-site"), "{e}");
    }
    let (_, found) = app.api(&acc).get("/2fa/search").await;
    assert_eq!(found["total"], 0, "nothing was sent: {found}");

    // Servers (no Origin, no Sec-Fetch-Site) and this site's own pages still get through.
    for headers in [
        vec![],
        vec![("sec-fetch-site", "same-origin".to_owned())],
        vec![("origin", own_origin.clone())],
    ] {
        let (status, v) = post(headers.clone(), "+14155550111").await;
        assert_eq!(status, 200, "{headers:?}: {v}");
    }
    // Reading is not a forgery risk: a cross-site GET (a link to the docs) still answers.
    let res = app
        .http
        .get(app.url("/2fa/errors"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

async fn security_headers_on_pages_and_answers(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let header = |res: &reqwest::Response, name: &str| {
        res.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };

    // Pages: the policy allows exactly the inline scripts carrying this answer's nonce.
    let http = client();
    let login = http.get(app.url("/login")).send().await.unwrap();
    let admin = signed_in(&app, &acc.email, &acc.password).await;
    let home = admin.get(app.url("/")).send().await.unwrap();
    for (name, res) in [("/login", login), ("/", home)] {
        assert_eq!(res.status(), 200, "{name}");
        assert_eq!(
            header(&res, "x-content-type-options").as_deref(),
            Some("nosniff")
        );
        assert_eq!(
            header(&res, "referrer-policy").as_deref(),
            Some("same-origin")
        );
        assert_eq!(header(&res, "x-frame-options").as_deref(), Some("DENY"));
        assert_eq!(
            header(&res, "strict-transport-security"),
            None,
            "plain HTTP"
        );
        let csp = header(&res, "content-security-policy").expect("a policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{name}: {csp}");
        let html = res.text().await.unwrap();
        let nonce = html
            .split("nonce=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("{name}: the hydration script has a nonce"));
        assert!(
            csp.contains(&format!("'nonce-{nonce}'")),
            "{name}: the policy allows the page's nonce {nonce}: {csp}"
        );
        // Every script of the page is either a file of ours or carries the nonce, so the page
        // still hydrates (the Playwright suite drives hydrated pages in Chromium).
        for tag in html.split("<script").skip(1) {
            let open = tag.split('>').next().unwrap();
            assert!(
                open.contains(&format!("nonce=\"{nonce}\"")) || open.contains("src=\"/"),
                "{name}: a script the policy would block: <script{open}>"
            );
        }
    }
    // A second render gets a fresh nonce.
    let again = http.get(app.url("/login")).send().await.unwrap();
    let csp_again = header(&again, "content-security-policy").unwrap();
    let html_again = again.text().await.unwrap();
    assert!(csp_again.contains(
        html_again
            .split("nonce=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
    ));

    // API answers and files: never sniffed, never framed, nothing loads from them.
    let (status, _) = app.api(&acc).get("/2fa/search").await;
    assert_eq!(status, 200);
    for path in ["/2fa/search", "/2fa/nope", "/healthz"] {
        let res = app
            .http
            .get(app.url(path))
            .basic_auth(&acc.sid, Some(&acc.token))
            .send()
            .await
            .unwrap();
        assert_eq!(
            header(&res, "x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
        let csp = header(&res, "content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
    }

    // Behind TLS (production, or cookie_secure set), HSTS too.
    let tls = TestApp::start_with(b, |s| s.cookie_secure = Some(true)).await;
    for path in ["/login", "/healthz"] {
        let res = tls.http.get(tls.url(path)).send().await.unwrap();
        assert_eq!(
            header(&res, "strict-transport-security").as_deref(),
            Some("max-age=31536000"),
            "{path}"
        );
    }
}
