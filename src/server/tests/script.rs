//! Scripts (several statements as one step of a write transaction) on both databases: values
//! reach the right statements, each statement's changed rows come back in order, a statement
//! guarded by a condition runs only when it holds, and a failing statement leaves nothing.
use super::both_backends;
use super::harness::TestApp;
use crate::args;
use crate::on_db;
use crate::server::db::script::{RunScript, Script};
use crate::server::db::{Backend, BeginWrite};

both_backends!(
    statements_run_in_order_with_their_own_values,
    a_failing_statement_leaves_nothing
);

const CREATE: &str =
    "CREATE TABLE probe (id BIGINT PRIMARY KEY, label TEXT, n BIGINT NOT NULL DEFAULT 0)";

async fn statements_run_in_order_with_their_own_values(b: Backend) {
    let app = TestApp::start(b).await;
    let db = app.state.db();
    on_db!(db, pool => sqlx::query(CREATE).execute(pool).await.map(|_| ())).unwrap();
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
    let changed = on_db!(db, pool => async {
        let mut tx = pool.begin_write().await?;
        let changed = tx.run(&s).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(changed)
    }.await)
    .unwrap();
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
    let changed = on_db!(db, pool => async {
        let mut tx = pool.begin_write().await?;
        let changed = tx.run(&again).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(changed)
    }.await)
    .unwrap();
    assert_eq!(changed, vec![1, 2]);
    let n: i64 =
        on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM probe").fetch_one(pool).await)
            .unwrap();
    assert_eq!(n, 6);
}

async fn a_failing_statement_leaves_nothing(b: Backend) {
    let app = TestApp::start(b).await;
    let db = app.state.db();
    on_db!(db, pool => sqlx::query(CREATE).execute(pool).await.map(|_| ())).unwrap();
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
    let err = on_db!(db, pool => async {
        let mut tx = pool.begin_write().await?;
        let changed = tx.run(&s).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(changed)
    }.await)
    .unwrap_err();
    assert!(crate::server::db::is_unique_violation(&err), "{err:?}");
    let n: i64 =
        on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM probe").fetch_one(pool).await)
            .unwrap();
    assert_eq!(n, 0, "the transaction rolled back as a whole");
    // The connection is usable again (no transaction left open on it).
    for _ in 0..20 {
        let mut ok = Script::new();
        ok.push("UPDATE probe SET n = n + 1", vec![]);
        on_db!(db, pool => async {
            let mut tx = pool.begin_write().await?;
            tx.run(&ok).await?;
            tx.commit().await
        }.await)
        .unwrap();
    }
}

/// The lookups of active OTPs by destination (superseding on send, cancelling the others on
/// verify) read the small partial indexes of active OTPs, never the service's whole history:
/// the planner only uses them when the condition matches theirs term by term.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn active_otps_of_a_destination_are_found_by_their_index() {
    use crate::server::db::otps::ACTIVE;
    use crate::server::services::otp::changes::Otps;
    let app = TestApp::start(Backend::Sqlite).await;
    let crate::server::db::Db::Sqlite(pool) = app.state.db() else {
        unreachable!()
    };
    for (column, index) in [
        ("to_number", "otps_active_by_to"),
        ("email_to", "otps_active_by_email"),
    ] {
        let mut s = Script::new();
        let set = Otps::of_destination("AC1", "S", column, "x")
            .and(&format!("status IN {ACTIVE}"), args![]);
        set.event(&mut s, 1, "canceled", &serde_json::Value::Null);
        set.delete_codes(&mut s);
        set.callback(&mut s, 1, "canceled");
        set.update(&mut s, "status = 'canceled'", args![]);
        for sql in s.statements() {
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
