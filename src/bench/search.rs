//! `smart2fa-bench search` and `smart2fa-bench usage`.
//!
//! `bench-search`: how the OTPs page and its export behave on a big history. Fills a
//! fresh account with `otps` OTPs through `smart2fa seed`'s bulk path, then times, through
//! the same functions the console uses: the first page, pages deep in the history by position
//! (and, for contrast, by OFFSET as `/2fa/search` pages), filtered pages, and a full CSV
//! export. Prints figures; never fails on time.
use crate::args;
use crate::domain::usage::{date_at, Period};
use crate::server::clock::{Clock, SystemClock};
use crate::server::db::Db;
use crate::server::services::accounts::{self, NewAccount};
use crate::server::services::otp::search::OtpFilter;
use crate::server::services::usage::{self, RecordsQuery};
use crate::server::services::AccountScope;
use crate::server_fns::export;
use crate::server_fns::otps::{search_otps_service, OtpQuery};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// Timed runs per measurement (the median and the slowest are printed).
const RUNS: usize = 15;

pub async fn run(db: &Db, otps: i64, days: i64) -> anyhow::Result<String> {
    let (scope, otps, _) = seeded_account(db, "Search benchmark", otps, days).await?;
    let svc = crate::server::services::otp::OtpService::new(
        db.clone(),
        std::sync::Arc::new(SystemClock),
        Vec::new(),
        Default::default(),
    );
    let days = days.clamp(1, 3650);
    let account = scope.sid().as_str().to_owned();
    let now = SystemClock.now_ms();
    let span = days * 86_400_000;
    // What autovacuum does after a bulk load on PostgreSQL (statistics and the visibility map).
    let analyze = match db {
        Db::Sqlite(_) => "ANALYZE",
        Db::Postgres(_) => "VACUUM ANALYZE otps",
    };
    db.execute(analyze, args![]).await?;

    let mut out = String::new();
    let backend = match db {
        Db::Sqlite(_) => "SQLite",
        Db::Postgres(_) => "PostgreSQL",
    };
    writeln!(out, "OTP search on {otps} OTPs over {days} days ({backend}), {RUNS} runs each: median / slowest")?;
    let svc = &svc;
    let page = |q: OtpQuery| {
        let scope = scope.clone();
        async move {
            search_otps_service(svc, &scope, &q)
                .await
                .map(|_| ())
                .map_err(|e| anyhow::anyhow!("{e}"))
        }
    };
    let line = |out: &mut String, label: &str, t: (Duration, Duration)| {
        let _ = writeln!(
            out,
            "  {label:<52} {:>8.2} ms / {:>8.2} ms",
            ms(t.0),
            ms(t.1)
        );
    };

    let t = time_n(RUNS, || page(OtpQuery::default())).await?;
    line(&mut out, "first page (50 rows + capped count)", t);
    for depth in [0.5, 0.99] {
        let offset = ((otps as f64) * depth) as i64;
        let cursor = cursor_at(db, &account, offset).await?;
        let q = OtpQuery {
            before: cursor,
            ..Default::default()
        };
        let t = time_n(RUNS, || page(q.clone())).await?;
        line(&mut out, &format!("page at row {offset} by position"), t);
        let t = time_n(3, || offset_page(db, &account, offset)).await?;
        line(
            &mut out,
            &format!("page at row {offset} by OFFSET (REST paging)"),
            t,
        );
    }
    let day = time::OffsetDateTime::from_unix_timestamp((now - span / 2) / 1000)?
        .date()
        .to_string();
    let phone = db
        .text(
            "SELECT to_number FROM otps WHERE account_sid = $1 AND to_number IS NOT NULL ORDER BY sid LIMIT 1",
            args![account.as_str()],
        )
        .await?
        .unwrap_or_default();
    let filters = [
        (
            "filter: one phone number",
            OtpQuery {
                destination: phone,
                ..Default::default()
            },
        ),
        (
            "filter: status failed, first page",
            OtpQuery {
                status: "failed".into(),
                ..Default::default()
            },
        ),
        (
            "filter: channel call + country GB, first page",
            OtpQuery {
                channel: "call".into(),
                country: "GB".into(),
                ..Default::default()
            },
        ),
        (
            "filter: one day in the middle",
            OtpQuery {
                from: day.clone(),
                until: day,
                ..Default::default()
            },
        ),
    ];
    for (label, q) in filters {
        let t = time_n(RUNS, || page(q.clone())).await?;
        line(&mut out, label, t);
    }

    // The export: every row through the same streaming code as GET /console/otps.csv.
    let filter = OtpFilter::default();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<export::Chunk>(2);
    let started = Instant::now();
    let reader = tokio::spawn(async move {
        let (mut bytes, mut biggest) = (0usize, 0usize);
        while let Some(Ok(chunk)) = rx.recv().await {
            bytes += chunk.len();
            biggest = biggest.max(chunk.len());
        }
        (bytes, biggest)
    });
    let rows = export::stream_csv(svc, &scope, &filter, &tx)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .unwrap_or_default();
    drop(tx);
    let (bytes, biggest) = reader.await?;
    let secs = started.elapsed().as_secs_f64();
    writeln!(
        out,
        "  CSV export of all {rows} rows: {secs:.1} s, {:.0} rows/s, {:.1} MB; largest chunk held {:.1} MB",
        rows as f64 / secs,
        bytes as f64 / 1e6,
        biggest as f64 / 1e6
    )?;
    Ok(out)
}

/// `  label   median ms / slowest ms`, as the usage benchmark prints each measurement.
fn timing_line(out: &mut String, label: &str, t: (Duration, Duration)) -> std::fmt::Result {
    writeln!(
        out,
        "  {label:<56} {:>8.2} ms / {:>8.2} ms",
        ms(t.0),
        ms(t.1)
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn time_n<F, Fut>(runs: usize, f: F) -> anyhow::Result<(Duration, Duration)>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    f().await?; // warm the cache once
    let mut all = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f().await?;
        all.push(t.elapsed());
    }
    all.sort();
    Ok((all[all.len() / 2], all[all.len() - 1]))
}

/// The position of the row `offset` rows down the newest-first list.
async fn cursor_at(db: &Db, account: &str, offset: i64) -> anyhow::Result<String> {
    let by_position =
        "FROM otps WHERE account_sid = $1 ORDER BY date_created DESC, sid DESC LIMIT 1 OFFSET $2";
    let at = db
        .scalar_i64(
            &format!("SELECT date_created {by_position}"),
            args![account, offset],
        )
        .await?;
    let sid = db
        .text(&format!("SELECT sid {by_position}"), args![account, offset])
        .await?
        .unwrap_or_default();
    Ok(format!("{at}.{sid}"))
}

async fn offset_page(db: &Db, account: &str, offset: i64) -> anyhow::Result<()> {
    // The same page as /2fa/search?Page=… reads.
    let filter = OtpFilter::default();
    let account = crate::domain::AccountSid::parse(account)?;
    crate::server::db::otps::search::page(db, &account, &filter, 50, offset).await?;
    Ok(())
}

/// A new account filled with `otps` OTPs over `days` days by the seed's bulk path, with
/// progress on stderr. Answers its scope, the rows written and the seconds it took.
async fn seeded_account(
    db: &Db,
    name: &str,
    otps: i64,
    days: i64,
) -> anyhow::Result<(AccountScope, i64, f64)> {
    let created = accounts::create(
        db,
        &SystemClock,
        NewAccount {
            friendly_name: name.into(),
            parent: None,
            admin: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("create account: {e}"))?;
    let scope = AccountScope::authenticated(created.account);
    let started = Instant::now();
    let mut last_report = 0;
    let rows = crate::server::seed::seed(db, scope.sid().as_str(), otps, days, &mut |n| {
        if n - last_report >= (otps / 20).max(1) || n == otps {
            last_report = n;
            eprintln!(
                "seeded {n}/{otps} OTPs ({:.0} rows/s)",
                n as f64 / started.elapsed().as_secs_f64()
            );
        }
    })
    .await?;
    Ok((scope, rows, started.elapsed().as_secs_f64()))
}

/// `smart2fa bench-usage`: seeds `otps` OTPs over `days` days into a new account (the same bulk
/// path as `smart2fa seed`), then times the usage API's answers, as issue-5 asks: a year of
/// Daily records for one country and channel, Monthly grouped by status, AllTime grouped by
/// country, and a few more.
pub async fn run_usage(
    db: &Db,
    settings: &crate::server::config::Settings,
    otps: i64,
    days: i64,
) -> anyhow::Result<String> {
    let (scope, rows, seeded_in) = seeded_account(db, "Usage benchmark", otps, days).await?;
    let counters = db
        .scalar_i64("SELECT COUNT(*) FROM usage_daily", args![])
        .await?;
    let mut out = String::new();
    let backend = match db {
        Db::Sqlite(_) => "SQLite",
        Db::Postgres(_) => "PostgreSQL",
    };
    writeln!(out, "Usage records on {rows} OTPs over {days} days ({backend}); seeded in {seeded_in:.0} s ({:.0} OTPs/s), {counters} daily counter rows; {RUNS} runs each: median / slowest", rows as f64 / seeded_in)?;
    let now = SystemClock.now_ms();
    use crate::domain::usage::Dimension;
    use crate::domain::Channel;
    let question = |period: Period, start: Option<&str>, groups: &[Dimension]| {
        let mut q = RecordsQuery::new(period);
        q.start = start.map(str::to_owned);
        q.group_by = groups.to_vec();
        q
    };
    let mut us_sms = question(Period::Daily, Some("-364days"), &[]);
    us_sms.country = Some("US".into());
    us_sms.channel = Some(Channel::Sms);
    let cases = [
        ("a year of Daily records, country US + channel sms", us_sms),
        (
            "Monthly for a year, grouped by status",
            question(Period::Monthly, Some("-1year"), &[Dimension::Status]),
        ),
        (
            "AllTime grouped by country",
            question(Period::AllTime, None, &[Dimension::Country]),
        ),
        (
            "last 30 days totals (the API default)",
            question(Period::Total, None, &[]),
        ),
        (
            "last 30 days Daily grouped by channel (Home chart)",
            question(Period::Daily, Some("-29days"), &[Dimension::Channel]),
        ),
        (
            "a year Monthly grouped by country and channel",
            question(
                Period::Monthly,
                Some("-1year"),
                &[Dimension::Country, Dimension::Channel],
            ),
        ),
    ];
    for (label, q) in cases {
        let scope = &scope;
        let q = &q;
        let t = time_n(RUNS, || async move {
            usage::records(db, scope, q, date_at(now))
                .await
                .map(|_| ())
                .map_err(|e| anyhow::anyhow!("{e}"))
        })
        .await?;
        timing_line(&mut out, label, t)?;
    }
    pages(&mut out, settings, &scope).await?;
    Ok(out)
}

/// Times whole console pages as the server renders them (HTTP on loopback, signed in, HTML
/// with the table and the hydration data): the Usage page in several states, and Home.
async fn pages(
    out: &mut String,
    settings: &crate::server::config::Settings,
    scope: &AccountScope,
) -> anyhow::Result<()> {
    use crate::server::app;
    use crate::server::services::users::{self, NewUser};
    let mut settings = settings.clone();
    settings.workers_enabled = false;
    let state = app::prepare(settings, std::sync::Arc::new(SystemClock)).await?;
    let password = crate::server::crypto::random_hex(12);
    let email = format!("bench-{}@example.com", crate::server::crypto::random_hex(4));
    users::create(
        state.db(),
        state.clock(),
        scope.sid(),
        NewUser {
            email: email.clone(),
            password: password.clone(),
            role: crate::domain::Role::Support,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("create user: {e}"))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app::serve(
        listener,
        app::router(state, crate::site::mount),
        async move {
            let _ = stopped.await;
        },
        Duration::from_secs(5),
    ));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let login = http
        .post(format!("{base}/api/login"))
        .form(&[("email", email.as_str()), ("password", password.as_str())])
        .send()
        .await?;
    let cookie = login
        .headers()
        .get_all(http::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect::<Vec<_>>()
        .join("; ");
    anyhow::ensure!(
        login.status().is_success() && !cookie.is_empty(),
        "bench login failed: {}",
        login.status()
    );
    writeln!(
        out,
        "Console pages rendered by the server (HTTP on loopback, whole HTML): median / slowest"
    )?;
    let cases = [
        ("Usage, default (30 days by day, by channel)", "/usage"),
        (
            "Usage, a year by day, country US + channel sms",
            "/usage?period=day&from=-364days&country=US&channel=sms",
        ),
        (
            "Usage, 12 months by status",
            "/usage?period=month&by=status",
        ),
        (
            "Usage, 5 years by year, by status",
            "/usage?period=year&by=status",
        ),
        ("Home (24 h cards, 30-day chart, failures)", "/"),
    ];
    for (label, path) in cases {
        let url = format!("{base}{path}");
        let (http, cookie) = (&http, &cookie);
        let t = time_n(RUNS, || {
            let url = url.clone();
            async move {
                let res = http
                    .get(&url)
                    .header(http::header::COOKIE, cookie)
                    .send()
                    .await?;
                anyhow::ensure!(res.status().is_success(), "{url}: {}", res.status());
                let page = res.text().await?;
                anyhow::ensure!(
                    page.contains("data-testid=\"usage-table\"")
                        || page.contains("data-channel=\"sms\""),
                    "{url}: no report rendered"
                );
                Ok(())
            }
        })
        .await?;
        timing_line(out, label, t)?;
    }
    let _ = stop.send(());
    let _ = server.await;
    Ok(())
}
