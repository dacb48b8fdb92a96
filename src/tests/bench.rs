//! The benchmarks' own code (feature `bench`): what they seed is real to every reader.
use super::harness::TestApp;
use crate::server::db::Backend;

super::both_backends!(
    search_benchmark_seeds_pages_and_exports,
    soak_paces_lifecycles_and_reports_each_interval,
);

/// The benchmark's bulk rows are real OTPs to every reader: the pages and the export see them all.
async fn search_benchmark_seeds_pages_and_exports(b: Backend) {
    let app = TestApp::start(b).await;
    let report = crate::bench::search::run(app.state.db(), 20_345, 30)
        .await
        .unwrap();
    assert!(report.contains("on 20345 OTPs"), "{report}");
    assert!(report.contains("CSV export of all 20345 rows"), "{report}");
    assert_eq!(report.lines().count(), 1 + 1 + 4 + 4 + 1, "{report}");
}

/// The soak (`make soak`): paced lifecycles against a live server, one line per interval with
/// the server's RSS and the database files' growth.
async fn soak_paces_lifecycles_and_reports_each_interval(b: Backend) {
    let app = TestApp::start(b).await;
    crate::server::workers::spawn(app.state.clone());
    let acc = app.account("Soak").await;
    let db_file = app
        .state
        .settings()
        .database_url
        .as_deref()
        .and_then(|u| u.strip_prefix("sqlite://"))
        .map(std::path::PathBuf::from);
    let report = crate::bench::loadgen::run(crate::bench::loadgen::LoadConfig {
        url: app.base.clone(),
        account_sid: acc.sid.clone(),
        auth_token: acc.token.clone(),
        concurrency: 8,
        duration: std::time::Duration::from_secs(3),
        limits: 0,
        rate: Some(20.0),
        every: Some(std::time::Duration::from_secs(1)),
        watch_pid: Some(std::process::id()),
        watch_files: db_file.iter().cloned().collect(),
    })
    .await
    .unwrap();
    // 20 a second for 3 seconds: 60 lifecycles started, none early, none failed.
    let done: u64 = report
        .strip_prefix("lifecycles: ")
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{report}"));
    assert!((50..=60).contains(&done), "{report}");
    assert!(report.contains("(errors: 0)"), "{report}");
    let lines: Vec<&str> = report.lines().filter(|l| l.contains(" s: ")).collect();
    assert_eq!(lines.len(), 3, "{report}");
    for l in &lines {
        assert!(l.contains("errors 0") && l.contains(" MB, files "), "{l}");
        let n: u64 = l.split_whitespace().nth(2).unwrap().parse().unwrap();
        assert!((10..=30).contains(&n), "{l}");
    }
    assert!(report.contains("server RSS: "), "{report}");
    assert_eq!(
        report.contains("database files: "),
        db_file.is_some(),
        "{report}"
    );
    // The same account's OTPs: every lifecycle that was counted is verified in the database.
    let verified = app
        .state
        .db()
        .scalar_i64(
            "SELECT COUNT(*) FROM otps WHERE account_sid = $1 AND status = 'verified'",
            crate::args![acc.sid.clone()],
        )
        .await
        .unwrap();
    assert_eq!(verified as u64, done, "{report}");
}
