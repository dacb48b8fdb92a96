//! Scripts (several statements as one step of a write transaction) on both databases: values
//! reach the right statements, each statement's changed rows come back in order, a statement
//! guarded by a condition runs only when it holds, a failing statement leaves nothing, and
//! scripts committed together (group commit) still succeed or fail one by one.
use crate::args;
use crate::on_db;
use crate::server::db::script::{RunScript, Script};
use crate::server::db::{Backend, BeginWrite, Db};
use crate::tests::both_backends;
use crate::tests::harness::TestApp;

both_backends!(
    statements_run_in_order_with_their_own_values,
    a_failing_statement_leaves_nothing,
    concurrent_scripts_commit_together_and_fail_alone,
    each_script_of_a_shared_commit_gets_its_own_counts
);

/// A test app whose database has a `probe` table.
async fn with_probe(b: Backend) -> TestApp {
    let app = TestApp::start(b).await;
    let create =
        "CREATE TABLE probe (id BIGINT PRIMARY KEY, label TEXT, n BIGINT NOT NULL DEFAULT 0)";
    on_db!(app.state.db(), pool => sqlx::query(create).execute(pool).await.map(|_| ())).unwrap();
    app
}

/// Runs the script in a write transaction of its own (not the committer) and commits it.
async fn in_write_tx(db: &Db, script: &Script) -> sqlx::Result<Vec<u64>> {
    on_db!(db, pool => async {
        let mut tx = pool.begin_write().await?;
        let changed = tx.run(script).await?;
        tx.commit().await?;
        Ok(changed)
    }.await)
}

async fn statements_run_in_order_with_their_own_values(b: Backend) {
    let app = with_probe(b).await;
    let db = app.state.db();
    let mut s = Script::new();
    s.push(
        "INSERT INTO probe (id, label) VALUES ($1, $2)",
        args![1i64, "one"],
    );
    s.push(
        "INSERT INTO probe (id, label) VALUES ($1, $2), ($3, $4)",
        args![2i64, "two", 3i64, None::<String>],
    );
    // Guarded on a condition that holds, then on one that does not: 'dollar $1' stays text.
    s.push("UPDATE probe SET n = n + $1 WHERE EXISTS (SELECT 1 FROM probe WHERE id = $2 AND label = $3)", args![10i64, 1i64, "one"]);
    s.push("UPDATE probe SET label = 'dollar $1' WHERE id = $1 AND EXISTS (SELECT 1 FROM probe WHERE label = $2)", args![2i64, "nine"]);
    s.push(
        "UPDATE probe SET label = $2 WHERE id = $1 AND label IS NULL",
        args![3i64, "three"],
    );
    let changed = in_write_tx(db, &s).await.unwrap();
    assert_eq!(changed, vec![1, 2, 3, 0, 1]);
    let rows: Vec<(i64, Option<String>, i64)> = on_db!(db, pool => sqlx::query_as("SELECT id, label, n FROM probe ORDER BY id").fetch_all(pool).await).unwrap();
    assert_eq!(
        rows,
        vec![
            (1, Some("one".into()), 10),
            (2, Some("two".into()), 10),
            (3, Some("three".into()), 10)
        ]
    );
    // The same script text again (a cached statement on SQLite) with other values.
    let mut again = Script::new();
    again.push(
        "INSERT INTO probe (id, label) VALUES ($1, $2)",
        args![4i64, "four"],
    );
    again.push(
        "INSERT INTO probe (id, label) VALUES ($1, $2), ($3, $4)",
        args![5i64, "five", 6i64, "six"],
    );
    let changed = in_write_tx(db, &again).await.unwrap();
    assert_eq!(changed, vec![1, 2]);
    let n: i64 =
        on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM probe").fetch_one(pool).await)
            .unwrap();
    assert_eq!(n, 6);
}

async fn a_failing_statement_leaves_nothing(b: Backend) {
    let app = with_probe(b).await;
    let db = app.state.db();
    let mut s = Script::new();
    s.push(
        "INSERT INTO probe (id, label) VALUES ($1, $2)",
        args![1i64, "one"],
    );
    s.push(
        "INSERT INTO probe (id, label) VALUES ($1, $2)",
        args![1i64, "duplicate"],
    );
    s.push(
        "INSERT INTO probe (id, label) VALUES ($1, $2)",
        args![2i64, "never"],
    );
    let err = in_write_tx(db, &s).await.unwrap_err();
    assert!(crate::server::db::is_unique_violation(&err), "{err:?}");
    let n: i64 =
        on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM probe").fetch_one(pool).await)
            .unwrap();
    assert_eq!(n, 0, "the transaction rolled back as a whole");
    // The connection is usable again (no transaction left open on it).
    for _ in 0..20 {
        let mut ok = Script::new();
        ok.push("UPDATE probe SET n = n + 1", vec![]);
        in_write_tx(db, &ok).await.unwrap();
    }
}

/// The lookups of active OTPs by destination (superseding on send, cancelling the others on
/// verify) read the small partial indexes of active OTPs, never the service's whole history:
/// the planner only uses them when the condition matches theirs term by term.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn active_otps_of_a_destination_are_found_by_their_index() {
    use crate::domain::destination::Destination;
    use crate::domain::timeline::OtpEvent;
    use crate::server::db::otps::changes::{Move, OtpChanges, Selection};
    let app = TestApp::start(Backend::Sqlite).await;
    let crate::server::db::Db::Sqlite(pool) = app.state.db() else {
        unreachable!()
    };
    let account = crate::domain::AccountSid::parse(&format!("AC{}", "1".repeat(32))).unwrap();
    let by = crate::domain::OtpSid::parse(&format!("OTP{}", "2".repeat(32))).unwrap();
    for (destination, index) in [
        (
            Destination::Phone(
                crate::domain::phone::PhoneDestination::parse("+14155550100").unwrap(),
            ),
            "otps_active_by_to",
        ),
        (
            Destination::Email(crate::domain::EmailAddress::parse("a@example.com").unwrap()),
            "otps_active_by_email",
        ),
    ] {
        let mut c = OtpChanges::new();
        c.apply(
            Selection::destination(&account, "S", &destination),
            Move::Supersede,
            1,
        )
        .event(OtpEvent::Superseded { by: by.clone() })
        .push();
        for sql in c.script.statements() {
            let plan: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .fetch_all(pool)
                    .await
                    .unwrap();
            let plan: Vec<String> = plan.into_iter().map(|r| r.3).collect();
            assert!(
                plan.iter()
                    .any(|step| step.contains(&format!("INDEX {index} "))),
                "{sql}\n{plan:#?}"
            );
            assert!(
                !plan.iter().any(|step| step.contains("otps_by_service")),
                "{plan:#?}"
            );
        }
    }
}

/// Scripts committed at the same moment (on SQLite they share transactions): each gets its own
/// statements' counts, and one that fails (here a key that exists already, in the middle of the
/// crowd) fails alone: nothing of it is written, everything of the others is.
async fn concurrent_scripts_commit_together_and_fail_alone(b: Backend) {
    let app = with_probe(b).await;
    let db = app.state.db();
    let mut taken = Script::new();
    taken.push(
        "INSERT INTO probe (id, label) VALUES ($1, $2)",
        args![9999i64, "taken"],
    );
    crate::server::db::commit_script(db, taken).await.unwrap();
    let scripts = (0..60i64).map(|i| {
        let mut s = Script::new();
        // Script 30's second row has a key that is taken: it must leave nothing.
        let id = if i == 30 { 9999 } else { i };
        s.push(
            "INSERT INTO probe (id, label) VALUES ($1, $2)",
            args![1000 + i, format!("first {i}")],
        );
        s.push(
            "INSERT INTO probe (id, label) VALUES ($1, $2)",
            args![id, format!("script {i}")],
        );
        s.push("UPDATE probe SET n = n + 1 WHERE id = $1", args![1000 + i]);
        crate::server::db::commit_script(db, s)
    });
    let results = futures::future::join_all(scripts).await;
    for (i, r) in results.iter().enumerate() {
        if i == 30 {
            let err = r.as_ref().unwrap_err();
            assert!(crate::server::db::is_unique_violation(err), "{err:?}");
        } else {
            assert_eq!(r.as_ref().unwrap(), &[1, 1, 1], "script {i}");
        }
    }
    let labels: Vec<String> = on_db!(db, pool => sqlx::query_scalar("SELECT label FROM probe WHERE id <> 9999 ORDER BY id").fetch_all(pool).await).unwrap();
    assert_eq!(labels.len(), 118, "two rows from each of 59 scripts");
    assert!(!labels.iter().any(|l| l.ends_with(" 30")), "{labels:?}");
}

/// A crowd of scripts that all succeed: each gets back exactly its own statements' counts
/// (script `i` changes `i` rows in its second statement), whichever transaction it shared.
async fn each_script_of_a_shared_commit_gets_its_own_counts(b: Backend) {
    let app = with_probe(b).await;
    let db = app.state.db();
    // Group g has g rows of its own (no two scripts touch the same row: no lock waits on
    // PostgreSQL, where each script is its own transaction).
    let mut rows = Script::new();
    let mut id = 5000i64;
    for g in 0..64i64 {
        for _ in 0..g {
            rows.push(
                "INSERT INTO probe (id, label) VALUES ($1, $2)",
                args![id, format!("group {g}")],
            );
            id += 1;
        }
    }
    crate::server::db::commit_script(db, rows).await.unwrap();
    let scripts = (0..64i64).map(|i| {
        let mut s = Script::new();
        s.push(
            "INSERT INTO probe (id, label) VALUES ($1, $2)",
            args![2000 + i, "x"],
        );
        s.push(
            "UPDATE probe SET n = n + 1 WHERE label = $1",
            args![format!("group {i}")],
        );
        crate::server::db::commit_script(db, s)
    });
    let results = futures::future::join_all(scripts).await;
    for (i, r) in results.into_iter().enumerate() {
        assert_eq!(r.unwrap(), vec![1, i as u64], "script {i}");
    }
    let total: i64 = on_db!(db, pool => sqlx::query_scalar("SELECT CAST(SUM(n) AS BIGINT) FROM probe").fetch_one(pool).await).unwrap();
    assert_eq!(total, (0..64).sum::<i64>());
}
