//! `smart2fa loadgen`: a bounded load generator for the full OTP lifecycle against a running
//! server on loopback — send (sandbox provider), read the code from the sandbox outbox, verify —
//! at a given concurrency for a given duration. Prints lifecycles/s and latency percentiles.
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct LoadConfig {
    pub url: String,
    pub account_sid: String,
    pub auth_token: String,
    pub concurrency: usize,
    pub duration: Duration,
    /// Named limits charged on every send (0–2): `loadgen_phone` keyed by the destination
    /// (a fresh key each send) and `loadgen_client` keyed by the load worker (a hot key).
    pub limits: usize,
}

#[derive(Default)]
struct Samples {
    send: Vec<Duration>,
    read: Vec<Duration>,
    verify: Vec<Duration>,
    lifecycle: Vec<Duration>,
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx].as_secs_f64() * 1000.0
}

pub async fn run(cfg: LoadConfig) -> anyhow::Result<String> {
    anyhow::ensure!(
        cfg.concurrency >= 1 && cfg.concurrency <= 512,
        "concurrency must be 1–512"
    );
    anyhow::ensure!(
        cfg.duration <= Duration::from_secs(600),
        "duration must be at most 600 s"
    );
    let host = cfg.url.split("://").nth(1).unwrap_or("");
    anyhow::ensure!(
        host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]"),
        "the load generator only targets loopback addresses"
    );
    anyhow::ensure!(cfg.limits <= 2, "limits must be 0, 1 or 2");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(cfg.concurrency)
        .timeout(Duration::from_secs(10))
        .build()?;
    for (name, max, interval) in [
        ("loadgen_phone", 5, 600),
        ("loadgen_client", 1_000_000, 86_400),
    ]
    .into_iter()
    .take(cfg.limits)
    {
        let res = client
            .post(format!("{}/2fa/limits", cfg.url))
            .basic_auth(&cfg.account_sid, Some(&cfg.auth_token))
            .json(&json!({"name": name, "buckets": [{"name": "window", "maxOtp": max, "interval": interval}]}))
            .send()
            .await?;
        anyhow::ensure!(
            res.status() == 201 || res.status() == 409,
            "creating limit {name}: {}",
            res.status()
        );
    }
    let samples = Arc::new(Mutex::new(Samples::default()));
    let errors = Arc::new(AtomicU64::new(0));
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + cfg.duration;
    let mut tasks = Vec::new();
    for worker in 0..cfg.concurrency {
        let (client, samples, errors, counter) = (
            client.clone(),
            samples.clone(),
            errors.clone(),
            counter.clone(),
        );
        let (url, sid, token, limits) = (
            cfg.url.clone(),
            cfg.account_sid.clone(),
            cfg.auth_token.clone(),
            cfg.limits,
        );
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                // A fresh destination each time (+1 202 5xx xxxx), so per-destination protection never trips.
                let mut to = format!(
                    "+1202{:07}",
                    5_000_000 + (n * 7919 + worker as u64) % 4_999_999
                );
                if to.ends_with("0000") {
                    // The sandbox fails such numbers on purpose; keep the benchmark on the happy path.
                    to.replace_range(to.len() - 1.., "1");
                }
                let mut charged = serde_json::Map::new();
                if limits >= 1 {
                    charged.insert("loadgen_phone".into(), Value::String(to.clone()));
                }
                if limits >= 2 {
                    charged.insert(
                        "loadgen_client".into(),
                        Value::String(format!("worker-{worker}")),
                    );
                }
                match lifecycle(&client, &url, &sid, &token, &to, Value::Object(charged)).await {
                    Ok((s, r, v, total)) => {
                        let mut g = samples.lock().unwrap();
                        g.send.push(s);
                        g.read.push(r);
                        g.verify.push(v);
                        g.lifecycle.push(total);
                    }
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut g = std::mem::take(&mut *samples.lock().unwrap());
    let Samples {
        send,
        read,
        verify,
        lifecycle,
    } = &mut g;
    for v in [send, read, verify, lifecycle] {
        v.sort();
    }
    let done = g.lifecycle.len();
    let mut out = format!(
        "lifecycles: {done} in {elapsed:.1} s = {:.0}/s at concurrency {}, {} named limit(s) per send (errors: {})\n",
        done as f64 / elapsed,
        cfg.concurrency,
        cfg.limits,
        errors.load(Ordering::Relaxed)
    );
    for (name, v) in [
        ("send", &g.send),
        ("read sandbox", &g.read),
        ("verify", &g.verify),
        ("lifecycle", &g.lifecycle),
    ] {
        out.push_str(&format!(
            "{name:>13}: p50 {:7.2} ms  p95 {:7.2} ms  p99 {:7.2} ms\n",
            pct(v, 0.50),
            pct(v, 0.95),
            pct(v, 0.99)
        ));
    }
    Ok(out)
}

async fn lifecycle(
    client: &reqwest::Client,
    url: &str,
    sid: &str,
    token: &str,
    to: &str,
    limits: Value,
) -> anyhow::Result<(Duration, Duration, Duration, Duration)> {
    let t0 = Instant::now();
    let res = client
        .post(format!("{url}/2fa/send"))
        .basic_auth(sid, Some(token))
        .json(&json!({"service": "Load", "to": to, "limits": limits}))
        .send()
        .await?;
    anyhow::ensure!(res.status() == 200, "send answered {}", res.status());
    let sent: Value = res.json().await?;
    let rid = sent["requestID"].as_str().unwrap_or_default().to_owned();
    let t1 = Instant::now();
    // Read the outbox with a long poll: the server answers as soon as the message is delivered
    // (bounded: 5 s), so reading adds no polling load and no polling delay.
    let code = loop {
        let outbox: Value = client
            .get(format!("{url}/2fa/sandbox/messages?requestID={rid}&wait=5"))
            .basic_auth(sid, Some(token))
            .send()
            .await?
            .json()
            .await?;
        if let Some(text) = outbox["messages"][0]["text"].as_str() {
            break text
                .split("code is ")
                .nth(1)
                .unwrap_or("")
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect::<String>();
        }
        anyhow::ensure!(
            t1.elapsed() < Duration::from_secs(5),
            "not delivered within 5 s"
        );
    };
    let t2 = Instant::now();
    let res = client
        .post(format!("{url}/2fa/verify"))
        .basic_auth(sid, Some(token))
        .json(&json!({"requestID": rid, "code": code}))
        .send()
        .await?;
    anyhow::ensure!(res.status() == 200, "verify answered {}", res.status());
    let t3 = Instant::now();
    Ok((t1 - t0, t2 - t1, t3 - t2, t3 - t0))
}
