//! The benchmarks' own code (feature `bench`): what they seed is real to every reader.
use super::harness::TestApp;
use crate::server::db::Backend;

super::both_backends!(search_benchmark_seeds_pages_and_exports);

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
