//! `smart2fa loadgen`: a bounded load generator for the full OTP lifecycle against a running
//! server on loopback — send (sandbox provider), read the code from the sandbox outbox, verify —
//! at a given concurrency for a given duration. Prints lifecycles/s and latency percentiles.
//! Paced (`rate`) and with `every` set it is the soak: per interval, lifecycles, errors, p99,
//! and the server's RSS and database files' size read from `/proc` and the file system.
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
    /// Lifecycles started per second at most (paced across the workers); `None`: as fast as
    /// the workers go.
    pub rate: Option<f64>,
    /// Report each such interval (the soak's per-minute lines).
    pub every: Option<Duration>,
    /// The server process whose RSS the interval lines show.
    pub watch_pid: Option<u32>,
    /// Files whose total size the interval lines show (the SQLite database and its WAL).
    pub watch_files: Vec<std::path::PathBuf>,
}

/// One interval of a soak: what ended in it and what the server looked like at its end.
struct Interval {
    lifecycles: Vec<Duration>,
    errors: u64,
    rss_kb: Option<u64>,
    file_bytes: u64,
}

fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn files_size(files: &[std::path::PathBuf]) -> u64 {
    files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum()
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

/// What a run measured: the printed report and the figures other benchmarks compare.
pub struct LoadReport {
    pub text: String,
    pub lifecycles: usize,
    pub errors: u64,
    /// Lifecycle latency percentiles, ms.
    pub p50_ms: f64,
    pub p99_ms: f64,
}

pub async fn run(cfg: LoadConfig) -> anyhow::Result<String> {
    Ok(measure(cfg).await?.text)
}

pub async fn measure(cfg: LoadConfig) -> anyhow::Result<LoadReport> {
    anyhow::ensure!(
        cfg.concurrency >= 1 && cfg.concurrency <= 512,
        "concurrency must be 1–512"
    );
    anyhow::ensure!(
        cfg.duration <= Duration::from_secs(3600),
        "duration must be at most 3600 s"
    );
    anyhow::ensure!(
        cfg.rate.is_none_or(|r| r > 0.0 && r <= 100_000.0),
        "rate must be above 0 and at most 100 000 lifecycles/s"
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
    let first_error: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let counter = Arc::new(AtomicU64::new(0));
    let file_bytes_before = files_size(&cfg.watch_files);
    let started = Instant::now();
    let deadline = started + cfg.duration;
    // The soak's intervals: each sample and error lands in the interval it ended in.
    let every = cfg
        .every
        .unwrap_or(cfg.duration.max(Duration::from_millis(1)));
    let slots = (cfg.duration.as_secs_f64() / every.as_secs_f64())
        .ceil()
        .max(1.0) as usize;
    let intervals: Arc<Mutex<Vec<Interval>>> = Arc::new(Mutex::new(
        (0..slots)
            .map(|_| Interval {
                lifecycles: Vec::new(),
                errors: 0,
                rss_kb: None,
                file_bytes: 0,
            })
            .collect(),
    ));
    let slot_of = move |t: Instant| {
        (((t - started).as_secs_f64() / every.as_secs_f64()) as usize).min(slots - 1)
    };
    // Samples the server at the end of each interval and prints the interval's line as it goes.
    let watcher = cfg.every.map(|_| {
        let (intervals, pid, files) = (intervals.clone(), cfg.watch_pid, cfg.watch_files.clone());
        tokio::spawn(async move {
            for slot in 0..slots {
                tokio::time::sleep_until(
                    (started + every * (slot as u32 + 1)).min(deadline).into(),
                )
                .await;
                let (rss, bytes) = (pid.and_then(rss_kb), files_size(&files));
                let mut g = intervals.lock().unwrap();
                g[slot].rss_kb = rss;
                g[slot].file_bytes = bytes;
                // Lifecycles that end a little after the boundary still count in this slot's
                // line when they are printed at the end; this live line is a progress report.
                eprintln!(
                    "{}",
                    interval_line(slot, every, &g[slot], file_bytes_before)
                );
            }
        })
    });
    let mut tasks = Vec::new();
    for worker in 0..cfg.concurrency {
        let (client, samples, errors, counter, intervals, first_error) = (
            client.clone(),
            samples.clone(),
            errors.clone(),
            counter.clone(),
            intervals.clone(),
            first_error.clone(),
        );
        let rate = cfg.rate;
        let (url, sid, token, limits) = (
            cfg.url.clone(),
            cfg.account_sid.clone(),
            cfg.auth_token.clone(),
            cfg.limits,
        );
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                if let Some(rate) = rate {
                    // The n-th lifecycle starts no earlier than n / rate seconds in.
                    let due = started + Duration::from_secs_f64(n as f64 / rate);
                    if due >= deadline {
                        break;
                    }
                    tokio::time::sleep_until(due.into()).await;
                }
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
                        drop(g);
                        intervals.lock().unwrap()[slot_of(Instant::now())]
                            .lifecycles
                            .push(total);
                    }
                    Err(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        first_error
                            .lock()
                            .unwrap()
                            .get_or_insert_with(|| format!("{e:#}"));
                        intervals.lock().unwrap()[slot_of(Instant::now())].errors += 1;
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(w) = watcher {
        w.await?;
    }
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
    if let Some(e) = first_error.lock().unwrap().as_deref() {
        out.push_str(&format!("first error: {e}\n"));
    }
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
    if cfg.every.is_some() {
        let g = intervals.lock().unwrap();
        out.push_str("per interval (lifecycles that ended in it; RSS and files at its end):\n");
        for (slot, i) in g.iter().enumerate() {
            out.push_str(&interval_line(slot, every, i, file_bytes_before));
            out.push('\n');
        }
        let rss: Vec<u64> = g.iter().filter_map(|i| i.rss_kb).collect();
        if let (Some(first), Some(last), Some(max)) = (rss.first(), rss.last(), rss.iter().max()) {
            out.push_str(&format!(
                "server RSS: {:.1} MB after the first interval, {:.1} MB at the end, {:.1} MB at most\n",
                *first as f64 / 1024.0,
                *last as f64 / 1024.0,
                *max as f64 / 1024.0
            ));
        }
        if !cfg.watch_files.is_empty() {
            let end = g.last().map(|i| i.file_bytes).unwrap_or(0);
            out.push_str(&format!(
                "database files: {:.1} MB before, {:.1} MB after ({:+.1} MB, {:.0} bytes per lifecycle)\n",
                file_bytes_before as f64 / 1e6,
                end as f64 / 1e6,
                (end as f64 - file_bytes_before as f64) / 1e6,
                if done > 0 { (end as f64 - file_bytes_before as f64) / done as f64 } else { 0.0 }
            ));
        }
    }
    let errors = errors.load(Ordering::Relaxed);
    Ok(LoadReport {
        text: out,
        lifecycles: done,
        errors,
        p50_ms: pct(&g.lifecycle, 0.50),
        p99_ms: pct(&g.lifecycle, 0.99),
    })
}

/// `   180 s:    4212 lifecycles (  70.2/s), errors 0, p99   12.30 ms, RSS 41.2 MB, files +1.2 MB`.
fn interval_line(slot: usize, every: Duration, i: &Interval, bytes_before: u64) -> String {
    let mut sorted = i.lifecycles.clone();
    sorted.sort();
    let secs = every.as_secs_f64();
    format!(
        "{:>6.0} s: {:>7} lifecycles ({:>6.1}/s), errors {}, p99 {:7.2} ms, RSS {}, files {:+.1} MB",
        (slot + 1) as f64 * secs,
        sorted.len(),
        sorted.len() as f64 / secs,
        i.errors,
        pct(&sorted, 0.99),
        i.rss_kb
            .map(|k| format!("{:.1} MB", k as f64 / 1024.0))
            .unwrap_or_else(|| "-".into()),
        (i.file_bytes as f64 - bytes_before as f64) / 1e6
    )
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
