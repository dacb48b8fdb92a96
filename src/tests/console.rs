//! Console sessions through the real server functions and pages.
use super::harness::{call, client, TestApp};
use crate::domain::Role;
use crate::server::db::Backend;
use serde_json::Value;

super::both_backends!(
    login_whoami_logout,
    session_cookie_is_hardened_and_rotated,
    wrong_password_is_a_clear_generic_message,
    logins_are_throttled_per_user,
    a_parallel_burst_checks_at_most_the_threshold,
    password_checks_are_bounded_and_refused_when_busy,
    roles_are_checked_on_the_server,
    cross_site_posts_are_refused,
    pages_redirect_render_and_404,
    pages_hydrate_from_the_data_they_rendered,
);

async fn login(
    app: &TestApp,
    http: &reqwest::Client,
    email: &str,
    password: &str,
) -> reqwest::Response {
    http.post(app.url("/api/login"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
}

async fn whoami(app: &TestApp, http: &reqwest::Client) -> (u16, Value) {
    let res = http.post(app.url("/api/whoami")).send().await.unwrap();
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

async fn login_whoami_logout(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme Corp").await;
    let http = client();
    let (status, body) = whoami(&app, &http).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], 7001);

    let res = login(&app, &http, &acc.email, &acc.password).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers().get("serverfnredirect").is_some(),
        "the console is told to go home"
    );
    assert_eq!(res.headers()["location"], "/");

    let (status, me) = whoami(&app, &http).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["account_name"], "Acme Corp");
    assert_eq!(me["account_sid"], acc.sid.as_str());
    assert_eq!(me["role"], "admin");
    assert_eq!(me["email"], acc.email.as_str());

    let res = http.post(app.url("/api/logout")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["location"], "/login");
    let (status, _) = whoami(&app, &http).await;
    assert_eq!(status, 401, "logout ends the session");
}

async fn session_cookie_is_hardened_and_rotated(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    // A client without a cookie jar, so the test sees and replays cookies itself.
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = raw
        .post(app.url("/api/login"))
        .form(&[("email", &acc.email), ("password", &acc.password)])
        .send()
        .await
        .unwrap();
    let set_cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.starts_with("smart2fa_session="), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(set_cookie.contains("Path=/"), "{set_cookie}");
    let first = set_cookie.split(';').next().unwrap().to_owned();

    // Logging in again with that cookie issues a new session id; the old one is dead.
    let res = raw
        .post(app.url("/api/login"))
        .header("cookie", &first)
        .form(&[("email", &acc.email), ("password", &acc.password)])
        .send()
        .await
        .unwrap();
    let second = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_ne!(first, second);
    let res = raw
        .post(app.url("/api/whoami"))
        .header("cookie", &first)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = raw
        .post(app.url("/api/whoami"))
        .header("cookie", &second)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // A forged (unsigned) cookie is ignored.
    let res = raw
        .post(app.url("/api/whoami"))
        .header("cookie", "smart2fa_session=abc")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // Inactivity expiry: the session ends after the configured idle time (the store's clock is
    // the wall clock, so this checks the Max-Age/Expires the store was given).
    assert!(
        set_cookie.contains("Expires=") || set_cookie.contains("Max-Age="),
        "{set_cookie}"
    );
}

async fn wrong_password_is_a_clear_generic_message(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let http = client();
    for (email, password) in [
        (acc.email.as_str(), "wrong password"),
        ("nobody@example.com", acc.password.as_str()),
        ("not an email", "x"),
    ] {
        let res = login(&app, &http, email, password).await;
        assert_eq!(res.status(), 401);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], 7001);
        assert_eq!(
            body["message"], "Email or password is incorrect.",
            "same words whatever was wrong"
        );
    }
    // Without JavaScript the form post is redirected back with the reason in the URL.
    let res = http
        .post(app.url("/api/login"))
        .header("accept", "text/html")
        .form(&[
            ("email", acc.email.as_str()),
            ("password", "wrong password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/login?error=credentials");
    let page = http
        .get(app.url("/login?error=credentials"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Email or password is incorrect."),
        "the page shows the message"
    );
    // And a right plain-form login is redirected home.
    let res = http
        .post(app.url("/api/login"))
        .header("accept", "text/html")
        .form(&[
            ("email", acc.email.as_str()),
            ("password", acc.password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/");
}

async fn logins_are_throttled_per_user(b: Backend) {
    let app = TestApp::start_with(b, |s| {
        s.login.per_user = 3;
        s.login.per_address = 100;
    })
    .await;
    let acc = app.account("Acme").await;
    let other = app.account("Other").await;
    let http = client();
    for _ in 0..3 {
        assert_eq!(
            login(&app, &http, &acc.email, "wrong password")
                .await
                .status(),
            401
        );
    }
    let res = login(&app, &http, &acc.email, &acc.password).await;
    assert_eq!(res.status(), 429, "even the right password waits");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], 7060);
    assert!(body["message"].as_str().unwrap().contains("Try again in"));
    // Another user from the same address is not affected by the per-user limit.
    assert_eq!(
        login(&app, &client(), &other.email, &other.password)
            .await
            .status(),
        200
    );
    // After the window the user can sign in again.
    app.clock.advance_ms(16 * 60 * 1000);
    assert_eq!(
        login(&app, &http, &acc.email, &acc.password).await.status(),
        200
    );
}

/// 60 wrong passwords at once for one user: the failure slot is taken before the password is
/// checked, so exactly `per_user` are checked (401) and the rest refused unchecked (429); the
/// right password afterwards is refused too while the window lasts.
async fn a_parallel_burst_checks_at_most_the_threshold(b: Backend) {
    let app = TestApp::start_with(b, |s| {
        s.login.per_user = 5;
        s.login.per_address = 1000;
        // Not the bound under test here: every guess that gets a slot is checked.
        s.login.concurrent_password_checks = 64;
    })
    .await;
    let acc = app.account("Acme").await;
    let checks_before = app.state.guards().password_gate.checks();
    let burst = (0..60).map(|_| {
        let (app, email) = (&app, acc.email.clone());
        async move {
            login(app, &client(), &email, "wrong password")
                .await
                .status()
                .as_u16()
        }
    });
    let statuses = futures::future::join_all(burst).await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, refused), (5, 55), "{statuses:?}");
    assert_eq!(app.state.guards().password_gate.checks() - checks_before, 5);
    let res = login(&app, &client(), &acc.email, &acc.password).await;
    assert_eq!(res.status(), 429, "the right password waits too");
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(app.state.guards().password_gate.checks() - checks_before, 5);
    app.clock.advance_ms(16 * 60 * 1000);
    assert_eq!(
        login(&app, &client(), &acc.email, &acc.password)
            .await
            .status(),
        200
    );
}

/// With every password check busy, a login is refused at once (429, 7060, Retry-After) without
/// counting as a failure; once a check is free it goes through.
async fn password_checks_are_bounded_and_refused_when_busy(b: Backend) {
    let app = TestApp::start_with(b, |s| s.login.concurrent_password_checks = 1).await;
    let acc = app.account("Acme").await;
    let held = app
        .state
        .guards()
        .password_gate
        .try_enter()
        .expect("the only permit");
    for _ in 0..10 {
        let res = login(&app, &client(), &acc.email, &acc.password).await;
        assert_eq!(res.status(), 429);
        assert_eq!(res.headers()["retry-after"], "1");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], 7060, "{body}");
        assert!(body["message"].as_str().unwrap().contains("busy"), "{body}");
    }
    // Ten refusals while busy are not ten failures: the user is not throttled.
    let now = app.state.clock().now_ms();
    let key = crate::domain::EmailAddress::parse(&acc.email)
        .unwrap()
        .login_key();
    assert_eq!(app.state.guards().login_user_throttle.count(&key, now), 0);
    drop(held);
    assert_eq!(
        login(&app, &client(), &acc.email, &acc.password)
            .await
            .status(),
        200
    );
}

async fn roles_are_checked_on_the_server(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let (support_email, support_pw) = app.user(&acc.sid, Role::Support).await;
    let (dev_email, dev_pw) = app.user(&acc.sid, Role::Developer).await;

    let support = client();
    assert_eq!(
        login(&app, &support, &support_email, &support_pw)
            .await
            .status(),
        200
    );
    let res = support
        .post(app.url("/api/rotate_auth_token"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], 7002);
    // Nothing changed: the original token still works.
    let check = |token: String| {
        let app_url = app.url(&format!("/2fa/accounts/{}", acc.sid));
        let sid = acc.sid.clone();
        async move {
            client()
                .get(app_url)
                .basic_auth(sid, Some(token))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(check(acc.token.clone()).await, 200);

    // Developers manage API keys, not the account's master credential.
    let dev = client();
    assert_eq!(login(&app, &dev, &dev_email, &dev_pw).await.status(), 200);
    let res = dev
        .post(app.url("/api/rotate_auth_token"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], 7002);
    assert_eq!(check(acc.token.clone()).await, 200);
    let (status, key) = call(&app, &dev, "api_key_create", &[("name", "ci")]).await;
    assert_eq!(status, 200, "{key}");

    let admin = client();
    assert_eq!(
        login(&app, &admin, &acc.email, &acc.password)
            .await
            .status(),
        200
    );
    let res = admin
        .post(app.url("/api/rotate_auth_token"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let new_token: String = res.json().await.unwrap();
    assert_eq!(check(acc.token.clone()).await, 401);
    assert_eq!(check(new_token).await, 200);

    // Without a session: 401.
    let res = client()
        .post(app.url("/api/rotate_auth_token"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

async fn cross_site_posts_are_refused(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let http = client();
    assert_eq!(
        login(&app, &http, &acc.email, &acc.password).await.status(),
        200
    );
    let res = http
        .post(app.url("/api/logout"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = http
        .post(app.url("/api/logout"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        whoami(&app, &http).await.0,
        200,
        "the forged logouts did nothing"
    );
    let res = http
        .post(app.url("/api/logout"))
        .header("origin", app.base.as_str())
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(whoami(&app, &http).await.0, 401);
}

async fn pages_redirect_render_and_404(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Globex Ltd").await;
    let http = client();
    let res = http
        .get(app.url("/"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302, "signed out: to the login page");
    assert_eq!(res.headers()["location"], "/login");
    let res = http
        .get(app.url("/developers"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);

    let res = http.get(app.url("/login")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("<form") && page.contains("action=\"/api/login\""),
        "a real form works without JavaScript"
    );
    assert!(page.contains("name=\"email\"") && page.contains("name=\"password\""));

    assert_eq!(
        login(&app, &http, &acc.email, &acc.password).await.status(),
        200
    );
    let res = http.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("Globex Ltd"), "home shows the account name");
    for (href, label) in crate::ui::components::layout::NAV {
        assert!(
            page.contains(&format!("href=\"{href}\"")),
            "nav has {label}"
        );
    }
    let res = http.get(app.url("/developers")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains(&acc.sid));

    let res = http.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("Page not found"));
}

/// The data a page embeds for hydration must be the data it rendered: a page whose resources
/// are created twice during server rendering (e.g. inside a `Suspend`) can embed the answer of
/// a discarded copy, which ran without the request context (an internal error), so the browser
/// fails to hydrate. Repeated, because that copy's timing varies.
async fn pages_hydrate_from_the_data_they_rendered(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Initech").await;
    let http = client();
    assert_eq!(
        login(&app, &http, &acc.email, &acc.password).await.status(),
        200
    );
    let (status, _) = app
        .api(&acc)
        .post(
            "/2fa/limits",
            serde_json::json!({"name": "per_ip", "buckets": [{"maxOtp": 5, "interval": 60}]}),
        )
        .await;
    assert_eq!(status, 201);
    for round in 0..25 {
        for path in [
            "/",
            "/developers",
            "/limits",
            "/usage",
            "/usage?period=month&by=status",
        ] {
            // A page that does not answer within 20 s is stuck, not slow (each takes ms).
            let page = http
                .get(app.url(path))
                .timeout(std::time::Duration::from_secs(20))
                .send()
                .await
                .unwrap_or_else(|e| panic!("round {round}: {path} did not answer: {e}"));
            assert_eq!(page.status(), 200);
            let page = page.text().await.unwrap();
            let data: String = page
                .split("__RESOLVED_RESOURCES[")
                .skip(1)
                .map(|s| s.split("</script>").next().unwrap_or_default())
                .collect();
            assert!(!data.is_empty(), "{path} embeds its data");
            assert!(
                !data.contains("\\\"Err\\\""),
                "round {round}: {path} embeds an error it did not render: {data}"
            );
            if path == "/limits" {
                assert!(data.contains("per_ip") && page.contains("<strong>per_ip</strong>"));
            }
        }
    }
}

mod limits_page {
    use super::super::harness::{client, TestApp};
    use crate::domain::Role;
    use crate::server::db::Backend;
    use serde_json::{json, Value};

    super::super::both_backends!(limits_server_functions_follow_roles_and_name_fields);

    async fn limits_server_functions_follow_roles_and_name_fields(b: Backend) {
        let app = TestApp::start(b).await;
        let acc = app.account("Acme").await;
        let admin = client();
        assert_eq!(
            super::login(&app, &admin, &acc.email, &acc.password)
                .await
                .status(),
            200
        );
        let save = |http: &reqwest::Client, form: Vec<(&'static str, String)>| {
            http.post(app.url("/api/limits_save")).form(&form).send()
        };
        let form = |sid: &str, name: &str, max1: &str| {
            vec![
                ("sid", sid.to_owned()),
                ("name", name.to_owned()),
                ("description", "by IP".to_owned()),
                ("max1", max1.to_owned()),
                ("every1", "1".to_owned()),
                ("unit1", "minutes".to_owned()),
                ("max2", "30".to_owned()),
                ("every2", "1".to_owned()),
                ("unit2", "days".to_owned()),
            ]
        };
        let res = save(&admin, form("", "per_ip", "5")).await.unwrap();
        assert_eq!(res.status(), 200);
        let sid: String = res.json().await.unwrap();
        // The same limit over the REST API: 1 minute and 1 day in seconds.
        let (_, limit) = app.api(&acc).get(&format!("/2fa/limits/{sid}")).await;
        assert_eq!(
            limit["buckets"],
            json!([{"name": "first", "maxOtp": 5, "interval": 60}, {"name": "second", "maxOtp": 30, "interval": 86400}])
        );

        // Errors name the form field.
        let res = save(&admin, form("", "per_ip", "5")).await.unwrap();
        assert_eq!(res.status(), 409);
        let e: Value = res.json().await.unwrap();
        assert_eq!(
            (e["code"].clone(), e["field"].clone()),
            (json!(7050), json!("name"))
        );
        let res = save(&admin, form("", "other", "0")).await.unwrap();
        let e: Value = res.json().await.unwrap();
        assert_eq!(
            (e["code"].clone(), e["field"].clone()),
            (json!(7004), json!("bucket1"))
        );
        let res = save(&admin, form("", "other", "many")).await.unwrap();
        let e: Value = res.json().await.unwrap();
        assert_eq!(e["field"], "bucket1");

        // Support reads but cannot change.
        let (email, pw) = app.user(&acc.sid, Role::Support).await;
        let support = client();
        assert_eq!(
            super::login(&app, &support, &email, &pw).await.status(),
            200
        );
        let res = support
            .post(app.url("/api/limits_list"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let listed: Value = res.json().await.unwrap();
        assert_eq!(listed[0]["name"], "per_ip");
        assert_eq!(listed[0]["blocked_24h"], 0);
        assert_eq!(
            save(&support, form(&sid, "renamed", "9"))
                .await
                .unwrap()
                .status(),
            403
        );
        let res = support
            .post(app.url("/api/limits_delete"))
            .form(&[("sid", sid.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);

        // Another account's limit is not found, even for an admin.
        let other = app.account("Other").await;
        let other_admin = client();
        super::login(&app, &other_admin, &other.email, &other.password).await;
        let res = other_admin
            .post(app.url("/api/limits_delete"))
            .form(&[("sid", sid.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);

        // Edit and delete as admin.
        assert_eq!(
            save(&admin, form(&sid, "per_client", "7"))
                .await
                .unwrap()
                .status(),
            200
        );
        let (_, limit) = app.api(&acc).get(&format!("/2fa/limits/{sid}")).await;
        assert_eq!(
            (limit["name"].clone(), limit["buckets"][0]["maxOtp"].clone()),
            (json!("per_client"), json!(7))
        );
        let res = admin
            .post(app.url("/api/limits_delete"))
            .form(&[("sid", sid.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let (status, _) = app.api(&acc).get(&format!("/2fa/limits/{sid}")).await;
        assert_eq!(status, 404);
    }
}
