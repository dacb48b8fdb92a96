//! The store contract: the OTP store, jobs, limits, idempotency keys and usage counters, run
//! directly on each database (no HTTP server), so both backends keep the same promises.
use super::harness::TestDb;
use crate::args;
use crate::domain::code::CodeType;
use crate::domain::destination::Destination;
use crate::domain::ids::LimitSid;
use crate::domain::limit::{Bucket, Limit};
use crate::domain::otp::{CodeHash, SendReceipt, Voice};
use crate::domain::phone::PhoneDestination;
use crate::domain::timeline::OtpEvent;
use crate::domain::{AccountSid, Channel, OtpSid, OtpStatus, Transition, Workflow};
use crate::server::clock::{Clock, SystemClock};
use crate::server::db::jobs::{self, JobKind};
use crate::server::db::limits::{self, Charge};
use crate::server::db::otps::changes::{Move, OtpChanges, Selection};
use crate::server::db::otps::send::{self, NewOtp, SendWrite, Written};
use crate::server::db::otps::{self, search};
use crate::server::db::{idempotency, usage, Backend, Db};

super::both_backends!(
    every_transition_moves_exactly_its_starting_states,
    a_send_writes_its_otp_code_timeline_and_job,
    wrong_codes_count_and_lock_in_one_change,
    limits_block_when_full_and_idempotency_keys_replay,
    jobs_are_leased_once_and_retried_later,
    claims_take_turns_between_accounts,
    searches_find_by_filter_and_position,
);

struct Store {
    db: Db,
    account: AccountSid,
    _db: TestDb,
}

async fn store(b: Backend) -> Store {
    let test_db = TestDb::new(b).await;
    let db = Db::connect_url(
        &test_db.url,
        5,
        crate::server::config::SqliteSynchronous::Normal,
    )
    .await
    .unwrap();
    db.migrate().await.unwrap();
    let created = crate::server::services::accounts::create(
        &db,
        &SystemClock,
        crate::server::services::accounts::NewAccount {
            friendly_name: "Store".into(),
            parent: None,
            admin: None,
        },
    )
    .await
    .unwrap();
    Store {
        db,
        account: created.account.sid,
        _db: test_db,
    }
}

fn new_otp(s: &Store, to: &str, at: i64) -> NewOtp {
    NewOtp {
        sid: OtpSid::generate(),
        account_sid: s.account.clone(),
        service: "S".into(),
        reference: Some("ref-1".into()),
        workflow: Workflow::new(vec![Channel::Sms, Channel::Email]).unwrap(),
        workflow_timeout_secs: 60,
        to: Some(to.into()),
        from: None,
        email_to: Some("ana@example.com".into()),
        email_from: None,
        subject: None,
        body: None,
        country_code: Some("US".into()),
        language: "en-US".into(),
        voice: Voice::Woman,
        repeat: 2,
        code_hash: CodeHash("hash".into()),
        code_length: 6,
        code_type: CodeType::Numeric,
        expires_at: at + 600_000,
        max_attempts: 3,
        status_callback: Some("https://example.com/cb".into()),
        limits: Vec::new(),
        date_created: at,
    }
}

fn accepted(o: &NewOtp) -> SendReceipt {
    SendReceipt::Accepted {
        request_id: o.sid.clone(),
        channel: Channel::Sms,
        to: o.to.clone(),
        email_to: None,
        expires_at: o.expires_at,
        attempts_left: o.max_attempts,
    }
}

/// Writes an accepted send (superseding nothing) and answers its sid.
async fn sent(s: &Store, to: &str, at: i64) -> OtpSid {
    sent_in(s, &s.account, to, at).await
}

/// A send to `to` at `at` in `account`, accepted.
async fn sent_in(s: &Store, account: &AccountSid, to: &str, at: i64) -> OtpSid {
    let mut o = new_otp(s, to, at);
    o.account_sid = account.clone();
    let w = SendWrite {
        otp: &o,
        sealed_code: "sealed",
        supersede: None,
        charges: &[],
        idempotency: None,
        accepted: &accepted(&o),
        fraud: None,
        protection: None,
    };
    assert!(matches!(
        send::write(&s.db, &w).await.unwrap(),
        Written::Accepted
    ));
    o.sid
}

async fn status(s: &Store, sid: &OtpSid) -> OtpStatus {
    otps::get(&s.db, sid).await.unwrap().unwrap().status
}

/// Applies one move to one OTP; answers whether it moved.
async fn apply(s: &Store, sid: &OtpSid, m: Move<'_>, at: i64) -> bool {
    let mut c = OtpChanges::new();
    let applied = c.apply(Selection::one(sid), m, at).push();
    c.commit(&s.db).await.unwrap().moved(applied) == 1
}

/// An OTP in `want`, reached through the store's own changes.
async fn otp_in(s: &Store, want: OtpStatus, n: usize, now: i64) -> OtpSid {
    let to = format!("+1415555{:04}", 1000 + n);
    if want == OtpStatus::Blocked {
        let o = new_otp(s, &to, now);
        let limit = Limit {
            sid: LimitSid::generate(),
            account_sid: s.account.clone(),
            name: format!("full{n}"),
            description: String::new(),
            buckets: vec![Bucket {
                name: "b".into(),
                max_otp: 1,
                interval: 60,
            }],
            date_created: now,
            date_updated: now,
        };
        limits::insert(&s.db, &limit).await.unwrap();
        let charge = Charge {
            limit_sid: limit.sid.clone(),
            name: limit.name.clone(),
            key: "k".into(),
            buckets: limit.buckets.clone(),
        };
        for o in [new_otp(s, &to, now), o.clone()] {
            let charges = [charge.clone()];
            let w = SendWrite {
                otp: &o,
                sealed_code: "x",
                supersede: None,
                charges: &charges,
                idempotency: None,
                accepted: &accepted(&o),
                fraud: None,
                protection: None,
            };
            send::write(&s.db, &w).await.unwrap();
        }
        return o.sid;
    }
    let sid = sent(s, &to, now).await;
    let moved = match want {
        OtpStatus::Pending => true,
        OtpStatus::Sent => apply(s, &sid, Move::Deliver, now).await,
        OtpStatus::Delivered => apply(s, &sid, Move::ReportDelivered, now).await,
        OtpStatus::Verified => apply(s, &sid, Move::Verify, now).await,
        OtpStatus::Expired => apply(s, &sid, Move::Expire, now).await,
        OtpStatus::Canceled => apply(s, &sid, Move::Cancel { reason: "r" }, now).await,
        OtpStatus::Failed => apply(s, &sid, Move::Fail, now).await,
        OtpStatus::MaxAttempts => {
            for _ in 0..3 {
                otps::count_wrong_code(&s.db, &sid, now).await.unwrap();
            }
            true
        }
        OtpStatus::Blocked => unreachable!(),
    };
    assert!(moved);
    assert_eq!(status(s, &sid).await, want);
    sid
}

async fn every_transition_moves_exactly_its_starting_states(b: Backend) {
    let s = store(b).await;
    let now = SystemClock.now_ms();
    let moves = [
        Move::Deliver,
        Move::ReportDelivered,
        Move::Verify,
        Move::Expire,
        Move::Cancel { reason: "x" },
        Move::Supersede,
        Move::Advance {
            step: 1,
            channel: Channel::Email,
        },
        Move::Fail,
    ];
    let mut n = 0;
    for from in OtpStatus::ALL {
        for m in &moves {
            n += 1;
            let sid = otp_in(&s, from, n, now).await;
            let t = m.transition();
            let moved = apply(&s, &sid, m.clone(), now).await;
            assert_eq!(
                moved,
                t.from().contains(&from),
                "{t:?} from {from}: moved {moved}"
            );
            let after = status(&s, &sid).await;
            let expected = if moved { t.to().unwrap() } else { from };
            assert_eq!(after, expected, "{t:?} from {from}");
            assert!(
                !moved || from == expected || from.can_become(expected),
                "{from} -> {expected} is not in the state machine"
            );
        }
    }
    // A final status forgets the sealed code, whichever move got there.
    let sid = otp_in(&s, OtpStatus::Canceled, 9999, now).await;
    let (_, sealed) = otps::get_with_sealed_code(&s.db, &sid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sealed, None);
    assert_eq!(Transition::ALL.len(), 13);
}

async fn a_send_writes_its_otp_code_timeline_and_job(b: Backend) {
    let s = store(b).await;
    let now = SystemClock.now_ms();
    let first = sent(&s, "+14155550100", now).await;
    // A second send to the destination supersedes the first, in the same transaction.
    let o = new_otp(&s, "+14155550100", now + 1);
    let dest = Destination::Phone(PhoneDestination::parse("+14155550100").unwrap());
    let w = SendWrite {
        otp: &o,
        sealed_code: "sealed-2",
        supersede: Some(&dest),
        charges: &[],
        idempotency: None,
        accepted: &accepted(&o),
        fraud: None,
        protection: None,
    };
    assert!(matches!(
        send::write(&s.db, &w).await.unwrap(),
        Written::Accepted
    ));
    let old = otps::get(&s.db, &first).await.unwrap().unwrap();
    assert_eq!(
        (old.status, old.cancel_reason.as_deref()),
        (OtpStatus::Canceled, Some("superseded"))
    );
    let (_, events) = otps::history(&s.db, &first).await.unwrap();
    assert_eq!(events.last().unwrap().kind, "canceled");
    assert_eq!(events.last().unwrap().detail["by"], o.sid.as_str());

    let (otp, sealed) = otps::get_with_sealed_code(&s.db, &o.sid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sealed.as_deref(), Some("sealed-2"));
    assert_eq!(otp.status, OtpStatus::Pending);
    assert_eq!(otp.workflow.to_text(), "sms,email");
    assert_eq!(otp.reference.as_deref(), Some("ref-1"));
    assert!(otps::find(&s.db, &s.account, &o.sid)
        .await
        .unwrap()
        .is_some());
    let stranger = AccountSid::parse(&format!("AC{}", "0".repeat(32))).unwrap();
    assert!(otps::find(&s.db, &stranger, &o.sid)
        .await
        .unwrap()
        .is_none());
    let (_, events) = otps::history(&s.db, &o.sid).await.unwrap();
    assert_eq!(events[0].kind, "created");
    assert_eq!(events[0].detail["workflow"], "sms,email");

    // Its first delivery job, and the changes a delivery commits with its completion.
    let claimed = jobs::claim(&s.db, "w1", now + 1, 30_000, 16, jobs::Lane::All)
        .await
        .unwrap();
    let job = claimed.iter().find(|j| j.otp_sid == o.sid).unwrap();
    assert_eq!(
        (job.kind, job.step, job.tries),
        (Some(JobKind::Deliver), 0, 1)
    );
    let mut c = OtpChanges::new();
    let moved = c
        .apply(Selection::one(&o.sid).on_step(0), Move::Deliver, now + 2)
        .event(OtpEvent::AttemptSent {
            channel: Channel::Sms,
            provider: "p".into(),
            provider_sid: "P1".into(),
        })
        .job(JobKind::Fallback, 0, now + 60_000)
        .callback(true)
        .push();
    let committed = c.commit(&s.db).await.unwrap();
    assert_eq!(committed.moved(moved), 1);
    let otp = otps::get(&s.db, &o.sid).await.unwrap().unwrap();
    assert_eq!((otp.status, otp.sent_at), (OtpStatus::Sent, Some(now + 2)));
    let due = jobs::claim(&s.db, "w1", now + 60_000, 30_000, 16, jobs::Lane::All)
        .await
        .unwrap();
    let kinds: Vec<_> = due.iter().map(|j| j.kind).collect();
    assert!(kinds.contains(&Some(JobKind::Fallback)), "{kinds:?}");
    let callback = due
        .iter()
        .find(|j| j.kind == Some(JobKind::Callback) && j.otp_sid == o.sid)
        .unwrap();
    assert_eq!(callback.callback_status, Some(OtpStatus::Sent));
    // The step moved on: a change for step 0 no longer applies.
    assert!(
        apply(
            &s,
            &o.sid,
            Move::Advance {
                step: 1,
                channel: Channel::Email
            },
            now + 3
        )
        .await
    );
    let mut c = OtpChanges::new();
    let stale = c
        .apply(Selection::one(&o.sid).on_step(0), Move::Deliver, now + 4)
        .push();
    assert_eq!(c.commit(&s.db).await.unwrap().moved(stale), 0);
    let otp = otps::get(&s.db, &o.sid).await.unwrap().unwrap();
    assert_eq!(
        (otp.step, otp.channel, otp.status),
        (1, Channel::Email, OtpStatus::Pending)
    );

    // The usage counters follow every change, in the same transactions.
    assert_eq!(
        usage::live(&s.db, Some(s.account.as_str())).await.unwrap(),
        usage::from_otps(&s.db, Some(s.account.as_str()))
            .await
            .unwrap()
    );
}

async fn wrong_codes_count_and_lock_in_one_change(b: Backend) {
    let s = store(b).await;
    let now = SystemClock.now_ms();
    let sid = sent(&s, "+14155550111", now).await;
    assert_eq!(
        otps::count_wrong_code(&s.db, &sid, now).await.unwrap(),
        Some((1, false))
    );
    assert_eq!(
        otps::count_wrong_code(&s.db, &sid, now).await.unwrap(),
        Some((2, false))
    );
    assert_eq!(
        otps::count_wrong_code(&s.db, &sid, now).await.unwrap(),
        Some((3, true))
    );
    assert_eq!(status(&s, &sid).await, OtpStatus::MaxAttempts);
    assert_eq!(
        otps::count_wrong_code(&s.db, &sid, now).await.unwrap(),
        None
    );
    let (_, events) = otps::history(&s.db, &sid).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "created",
            "verify_failed",
            "verify_failed",
            "verify_failed",
            "max_attempts"
        ]
    );
    assert_eq!(events[3].detail["attemptsLeft"], 0);
    // An expired OTP counts nothing.
    let late = sent(&s, "+14155550112", now - 700_000).await;
    assert_eq!(
        otps::count_wrong_code(&s.db, &late, now).await.unwrap(),
        None
    );
}

async fn limits_block_when_full_and_idempotency_keys_replay(b: Backend) {
    let s = store(b).await;
    let now = SystemClock.now_ms();
    let limit = Limit {
        sid: LimitSid::generate(),
        account_sid: s.account.clone(),
        name: "per_ip".into(),
        description: "d".into(),
        buckets: vec![Bucket {
            name: "minute".into(),
            max_otp: 2,
            interval: 60,
        }],
        date_created: now,
        date_updated: now,
    };
    limits::insert(&s.db, &limit).await.unwrap();
    assert!(matches!(
        limits::insert(
            &s.db,
            &Limit {
                sid: LimitSid::generate(),
                ..limit.clone()
            }
        )
        .await,
        Err(limits::WriteError::DuplicateName)
    ));
    let found = limits::find_by_name(&s.db, &s.account, "per_ip")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, limit);
    let (listed, total) = limits::list(
        &s.db,
        &s.account,
        &limits::NameFilter::Prefix("per".into()),
        10,
        0,
    )
    .await
    .unwrap();
    assert_eq!((listed.len(), total), (1, 1));
    let charge = Charge {
        limit_sid: limit.sid.clone(),
        name: limit.name.clone(),
        key: "203.0.113.7".into(),
        buckets: limit.buckets.clone(),
    };
    let mut outcomes = Vec::new();
    for i in 0..3 {
        let o = new_otp(&s, &format!("+1415555020{i}"), now + i);
        let charges = [charge.clone()];
        let w = SendWrite {
            otp: &o,
            sealed_code: "x",
            supersede: None,
            charges: &charges,
            idempotency: None,
            accepted: &accepted(&o),
            fraud: None,
            protection: None,
        };
        outcomes.push((o.sid.clone(), send::write(&s.db, &w).await.unwrap()));
    }
    assert!(matches!(outcomes[0].1, Written::Accepted));
    assert!(matches!(outcomes[1].1, Written::Accepted));
    let Written::Blocked(refusal) = &outcomes[2].1 else {
        panic!("the third send in a minute is blocked: {:?}", outcomes[2].1)
    };
    assert_eq!(
        (refusal.limit.as_str(), refusal.bucket.as_str()),
        ("per_ip", "minute")
    );
    assert_eq!(refusal.retry_after(), 60);
    assert_eq!(status(&s, &outcomes[2].0).await, OtpStatus::Blocked);
    let counts = limits::with_blocked_counts(&s.db, &s.account, now - 1)
        .await
        .unwrap();
    assert_eq!(counts[0].1, 1);

    // An idempotency key is claimed once; the second request with it writes nothing.
    let o = new_otp(&s, "+14155550300", now);
    let w = SendWrite {
        otp: &o,
        sealed_code: "x",
        supersede: None,
        charges: &[],
        idempotency: Some(("key-1", "hash-1")),
        accepted: &accepted(&o),
        fraud: None,
        protection: None,
    };
    assert!(matches!(
        send::write(&s.db, &w).await.unwrap(),
        Written::Accepted
    ));
    let again = new_otp(&s, "+14155550300", now);
    let w2 = SendWrite {
        otp: &again,
        idempotency: Some(("key-1", "hash-1")),
        accepted: &accepted(&again),
        ..w
    };
    assert!(matches!(
        send::write(&s.db, &w2).await.unwrap(),
        Written::Replay
    ));
    assert!(otps::get(&s.db, &again.sid).await.unwrap().is_none());
    let stored = idempotency::find(&s.db, &s.account, "key-1")
        .await
        .unwrap()
        .unwrap();
    // The answer is kept as the API gave it: times to the second.
    let SendReceipt::Accepted { expires_at, .. } = stored.receipt.clone() else {
        panic!("{:?}", stored.receipt)
    };
    assert_eq!(expires_at, o.expires_at / 1000 * 1000);
    let SendReceipt::Accepted {
        request_id,
        attempts_left,
        ..
    } = stored.receipt
    else {
        unreachable!()
    };
    assert_eq!((request_id, attempts_left), (o.sid.clone(), 3));
    assert_eq!(stored.request_hash, "hash-1");

    limits::delete(&s.db, &limit.sid).await.unwrap();
    assert!(limits::find(&s.db, &s.account, limit.sid.as_str())
        .await
        .unwrap()
        .is_none());
}

async fn jobs_are_leased_once_and_retried_later(b: Backend) {
    let s = store(b).await;
    let now = SystemClock.now_ms();
    let sid = sent(&s, "+14155550400", now).await;
    let a = jobs::claim(&s.db, "a", now, 30_000, 16, jobs::Lane::All)
        .await
        .unwrap();
    let b2 = jobs::claim(&s.db, "b", now, 30_000, 16, jobs::Lane::All)
        .await
        .unwrap();
    assert_eq!(a.len(), 1);
    assert!(b2.is_empty(), "leased: nobody else gets it");
    // The lease runs out: another worker takes it over.
    let c = jobs::claim(&s.db, "b", now + 30_001, 30_000, 16, jobs::Lane::All)
        .await
        .unwrap();
    assert_eq!((c.len(), c[0].tries), (1, 2));
    let mut script = crate::server::db::script::Script::new();
    jobs::retry_later(&mut script, c[0].id, now + 90_000, "busy");
    crate::server::db::commit_script(&s.db, script)
        .await
        .unwrap();
    assert!(
        jobs::claim(&s.db, "b", now + 89_999, 30_000, 16, jobs::Lane::All)
            .await
            .unwrap()
            .is_empty()
    );
    let d = jobs::claim(&s.db, "b", now + 90_000, 30_000, 16, jobs::Lane::All)
        .await
        .unwrap();
    assert_eq!(d[0].otp_sid, sid);
    jobs::complete(&s.db, d[0].id, now, None).await.unwrap();
    assert!(
        jobs::claim(&s.db, "c", now + 999_999, 30_000, 16, jobs::Lane::All)
            .await
            .unwrap()
            .is_empty()
    );
    let pending =
        s.db.scalar_i64("SELECT COUNT(*) FROM jobs WHERE done_at IS NULL", args![])
            .await
            .unwrap();
    assert_eq!(pending, 0);
}

async fn searches_find_by_filter_and_position(b: Backend) {
    let s = store(b).await;
    let now = SystemClock.now_ms();
    let mut sids = Vec::new();
    for i in 0..7 {
        sids.push(sent(&s, &format!("+1415555050{i}"), now + i).await);
    }
    apply(&s, &sids[3], Move::Fail, now).await;
    let all = search::OtpFilter::default();
    let (page, total, _) = search::page(&s.db, &s.account, &all, 3, 0).await.unwrap();
    assert_eq!(total, 7);
    assert_eq!(page[0].sid, sids[6], "newest first");
    let failed = search::OtpFilter {
        status: Some(OtpStatus::Failed),
        ..Default::default()
    };
    assert_eq!(
        search::count(&s.db, &s.account, &failed).await.unwrap(),
        (1, false)
    );
    let one = search::OtpFilter {
        to: Some("+14155550502".into()),
        ..Default::default()
    };
    let (found, _, _) = search::page(&s.db, &s.account, &one, 10, 0).await.unwrap();
    assert_eq!(found[0].sid, sids[2]);
    // Walking by position visits every OTP once, in order.
    let mut seen = Vec::new();
    let mut seek = search::Seek::First;
    loop {
        let (rows, more) = search::keyset(&s.db, &s.account, &all, &seek, 2)
            .await
            .unwrap();
        seen.extend(rows.iter().map(|o| o.sid.clone()));
        match rows.last() {
            Some(last) if more => seek = search::Seek::Older(search::Cursor::of(last)),
            _ => break,
        }
    }
    let mut newest_first = sids.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);
    assert_eq!(
        search::count_capped(&s.db, &s.account, &all, 4)
            .await
            .unwrap(),
        4
    );
    let cursor = search::cursor_of(&s.db, &s.account, &sids[4])
        .await
        .unwrap()
        .unwrap();
    let (older, _) = search::keyset(&s.db, &s.account, &all, &search::Seek::Older(cursor), 10)
        .await
        .unwrap();
    assert_eq!(older.len(), 4);
}

/// One account's flood of due deliveries does not make another account's wait behind it:
/// claims take each account's oldest job first, then each account's next.
async fn claims_take_turns_between_accounts(b: Backend) {
    let s = store(b).await;
    let other = crate::server::services::accounts::create(
        &s.db,
        &SystemClock,
        crate::server::services::accounts::NewAccount {
            friendly_name: "Quiet".into(),
            parent: None,
            admin: None,
        },
    )
    .await
    .unwrap()
    .account
    .sid;
    let now = SystemClock.now_ms();
    let mut flood = Vec::new();
    for i in 0..40 {
        flood.push(sent(&s, &format!("+1415555{:04}", 1000 + i), now - 1000 + i).await);
    }
    let quiet = sent_in(&s, &other, "+14155559999", now).await;
    let claimed = jobs::claim(&s.db, "w", now + 1, 30_000, 16, jobs::Lane::All)
        .await
        .unwrap();
    let sids: Vec<&OtpSid> = claimed.iter().map(|j| &j.otp_sid).collect();
    assert_eq!(sids.len(), 16);
    assert!(
        sids.contains(&&quiet),
        "the quiet account's job waits behind the flood"
    );
    // The flooding account's 15 oldest, in order.
    let flooded: Vec<&OtpSid> = sids.into_iter().filter(|s| **s != quiet).collect();
    assert_eq!(flooded, flood.iter().take(15).collect::<Vec<_>>());
}

/// On SQLite every write goes through the one writer connection, in turn: console sessions,
/// sign-in times, token rotations and provider changes too (a write on a read connection
/// would instead wait in SQLite's busy handler and fail after its timeout under load). While
/// the writer connection is taken, they wait; once it is free, they are all written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_writes_outside_scripts_wait_for_the_writer() {
    use crate::server::auth::session_store::DbSessionStore;
    use tower_sessions::session::{Id, Record};
    use tower_sessions::SessionStore as _;
    let s = store(Backend::Sqlite).await;
    let Db::Sqlite(pool) = &s.db else {
        unreachable!()
    };
    let sessions = DbSessionStore::new(&s.db);
    let held = crate::server::db::write_pool(pool).acquire().await.unwrap();
    let record = Record {
        id: Id::default(),
        data: Default::default(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
    };
    let session = {
        let (sessions, mut record) = (sessions.clone(), record.clone());
        tokio::spawn(async move {
            sessions.create(&mut record).await.unwrap();
            record.id
        })
    };
    let token = {
        let (db, account) = (s.db.clone(), s.account.clone());
        tokio::spawn(async move {
            crate::server::db::credentials::set_secret_hash(&db, account.as_str(), "rotated")
                .await
                .unwrap()
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !session.is_finished() && !token.is_finished(),
        "a write went around the writer connection"
    );
    drop(held);
    let id = session.await.unwrap();
    assert!(token.await.unwrap(), "the token's hash was replaced");
    assert!(sessions.load(&id).await.unwrap().is_some());
    let hash =
        s.db.text(
            "SELECT secret_hash FROM api_credentials WHERE sid = $1",
            args![s.account.as_str()],
        )
        .await
        .unwrap();
    assert_eq!(hash.as_deref(), Some("rotated"));
}
