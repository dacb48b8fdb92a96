//! `smart2fa-bench abuse` (`make bench-abuse`): does one tenant's abuse slow another tenant down?
//! An honest tenant runs full lifecycles (send → read → verify) at a modest concurrency, first
//! alone, then while an abusive tenant floods the server with sends whose status callbacks go
//! to a receiver that answers only after 10 s, the largest usage reports the API allows (and
//! ones over its cap), and bursts of wrong console passwords. Prints both tenants' figures and
//! the server's peak RSS. It measures; it never fails on time.
use super::loadgen::{self, LoadConfig};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct AbuseConfig {
    pub url: String,
    pub honest: (String, String),
    pub abuser: (String, String),
    /// The abusive tenant's console login email (its wrong-password bursts).
    pub abuser_email: String,
    pub honest_concurrency: usize,
    pub duration: Duration,
    pub watch_pid: Option<u32>,
}

/// What the abusive tenant's requests got, per kind and status.
type Tally = Arc<Mutex<BTreeMap<(&'static str, u16), u64>>>;

pub async fn run(cfg: AbuseConfig) -> anyhow::Result<String> {
    anyhow::ensure!(
        cfg.duration <= Duration::from_secs(300),
        "duration must be at most 300 s"
    );
    let honest = |duration| LoadConfig {
        url: cfg.url.clone(),
        account_sid: cfg.honest.0.clone(),
        auth_token: cfg.honest.1.clone(),
        concurrency: cfg.honest_concurrency,
        duration,
        limits: 0,
        rate: None,
        every: None,
        watch_pid: None,
        watch_files: Vec::new(),
    };
    let alone = loadgen::measure(honest(cfg.duration)).await?;

    // The slow receiver: answers every callback after 10 s (the server gives up sooner).
    let receiver = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let callback_url = format!("http://{}/slow", receiver.local_addr()?);
    let slow = axum::Router::new().fallback(|| async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        "late"
    });
    let receiver_task = tokio::spawn(async move { axum::serve(receiver, slow).await });

    // BENCH_ABUSE_KINDS=sends,reports,logins (default all): which floods run, to see what hurts.
    let kinds =
        std::env::var("BENCH_ABUSE_KINDS").unwrap_or_else(|_| "sends,reports,logins".into());
    let runs = |k: &str| kinds.split(',').any(|x| x.trim() == k);
    let tally: Tally = Arc::default();
    let deadline = Instant::now() + cfg.duration;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let (sid, token) = cfg.abuser.clone();
    let url = cfg.url.clone();
    let mut abusers = Vec::new();
    // `workers` tasks sending the request `make` builds (from the worker and a counter) until
    // the deadline, tallying the answers under `kind`.
    let mut flood =
        |kind: &'static str,
         workers: u64,
         make: Arc<dyn Fn(u64, u64) -> reqwest::RequestBuilder + Send + Sync>| {
            for worker in 0..workers {
                let (tally, make) = (tally.clone(), make.clone());
                abusers.push(tokio::spawn(async move {
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        n += 1;
                        let status = make(worker, n)
                            .send()
                            .await
                            .map(|r| r.status().as_u16())
                            .unwrap_or(0);
                        *tally.lock().unwrap().entry((kind, status)).or_default() += 1;
                    }
                }));
            }
        };
    if runs("sends") {
        let (client, url, sid, token) = (client.clone(), url.clone(), sid.clone(), token.clone());
        flood(
            "send, slow callback",
            16,
            Arc::new(move |worker, n| {
                let to = format!("+1202{:07}", 5_000_001 + (worker * 100_000 + n) % 4_999_998);
                client
                    .post(format!("{url}/2fa/send"))
                    .basic_auth(&sid, Some(&token))
                    .json(&json!({"service": "Abuse", "to": to, "statusCallback": callback_url}))
            }),
        );
    }
    // The largest reports the API allows (1 000 days), and ones over the cap.
    if runs("reports") {
        for (kind, query) in [
            (
                "report, 1 000 days",
                "startDate=-999days&groupBy=countryCode",
            ),
            (
                "report, 200 years",
                "startDate=1900-01-01&endDate=2099-12-31",
            ),
        ] {
            let (client, url, sid, token) =
                (client.clone(), url.clone(), sid.clone(), token.clone());
            flood(
                kind,
                2,
                Arc::new(move |_, _| {
                    client
                        .get(format!("{url}/2fa/usage/records/Daily?{query}"))
                        .basic_auth(&sid, Some(&token))
                }),
            );
        }
    }
    // Wrong console passwords for the abuser's own admin, in bursts.
    if runs("logins") {
        let (client, url, email) = (client.clone(), url.clone(), cfg.abuser_email.clone());
        flood(
            "console login, wrong password",
            8,
            Arc::new(move |_, _| {
                client
                    .post(format!("{url}/api/login"))
                    .form(&[("email", email.as_str()), ("password", "not the password")])
            }),
        );
    }
    let loaded = loadgen::measure(honest(cfg.duration)).await?;
    for a in abusers {
        a.await?;
    }
    receiver_task.abort();

    let mut out = format!(
        "honest tenant, concurrency {}, {} s each:\n",
        cfg.honest_concurrency,
        cfg.duration.as_secs()
    );
    for (label, r) in [("alone", &alone), ("under abuse", &loaded)] {
        out.push_str(&format!(
            "  {label:>12}: {:6.0} lifecycles/s, p50 {:7.2} ms, p99 {:7.2} ms, errors {}\n",
            r.lifecycles as f64 / cfg.duration.as_secs_f64(),
            r.p50_ms,
            r.p99_ms,
            r.errors
        ));
    }
    out.push_str(&format!(
        "  p99 under abuse / alone: {:.2}× (the goal: within 2×)\n",
        if alone.p99_ms > 0.0 {
            loaded.p99_ms / alone.p99_ms
        } else {
            0.0
        }
    ));
    out.push_str("abusive tenant's requests (kind, status: count):\n");
    for ((kind, status), n) in tally.lock().unwrap().iter() {
        let status = if *status == 0 {
            "no answer".to_owned()
        } else {
            status.to_string()
        };
        out.push_str(&format!("  {kind:>32}, {status}: {n}\n"));
    }
    if let Some(pid) = cfg.watch_pid {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        if let Some(peak) = status.lines().find_map(|l| l.strip_prefix("VmHWM:")) {
            out.push_str(&format!("server peak RSS: {}\n", peak.trim()));
        }
    }
    Ok(out)
}
