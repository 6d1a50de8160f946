//! Background jobs: every kind runs from the queue, failures are retried as the kind's policy
//! says and then given up, unknown kinds are left alone, and the scheduler runs the daily purge
//! once across instances. On both backends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{Duration, NaiveDate, NaiveTime};
use jikimi_core::jobs::{
    Backoff, Job, JobError, JobRegistry, JobRunner, KeysDestroy, MemberKey, PurgeDay,
    RetentionPurge, RetryPolicy, Scheduler,
};
use jikimi_core::retention::kst_to_utc;
use jikimi_core::{Actor, Clock, Jikimi, SUBJECT_ACCESS};
use jikimi_store::JobOutcome;
use jikimi_testkit::{Backend, TestApp, lifeplan_signup, person, seed_signup};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

jikimi_testkit::backend_tests!(
    sign_up_queues_no_job,
    keys_destroy_finishes_an_interrupted_withdrawal,
    keys_destroy_never_destroys_a_live_members_key,
    a_malformed_payload_is_given_up_at_once,
    retention_purge_runs_from_the_queue_at_its_kst_time,
    a_failing_job_is_retried_with_backoff_then_given_up,
    a_job_whose_runs_died_is_given_up_after_its_attempts,
    an_unknown_kind_is_not_run_and_not_lost,
    one_claim_takes_the_oldest_due_job_of_the_kinds_asked_with_its_kinds_lease,
    a_pass_runs_one_job_of_each_kind_in_turn,
    a_claim_takes_a_batch_of_one_kind_and_runs_it_only_while_its_lease_lasts,
    a_finish_counts_only_for_the_claim_that_ran_the_job,
    the_scheduler_runs_the_daily_purge_once_across_instances,
    the_background_loop_runs_jobs_and_stops_on_shutdown,
);

fn at_kst(day: NaiveDate, h: u32, m: u32) -> chrono::DateTime<chrono::Utc> {
    kst_to_utc(day, NaiveTime::from_hms_opt(h, m, 0).unwrap())
}

/// What the tests look at of a job's row.
#[derive(Debug)]
struct Row {
    state: String,
    attempts: i64,
    run_at: chrono::DateTime<chrono::Utc>,
    last_error: Option<String>,
    payload: serde_json::Value,
}

async fn job(app: &Jikimi, kind: &str, id: Uuid) -> Row {
    let j = app
        .store()
        .jobs(Some(kind))
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.id == id)
        .unwrap_or_else(|| panic!("job {id} of {kind} is in the table"));
    Row {
        state: j.state,
        attempts: j.attempts,
        run_at: j.run_at,
        last_error: j.last_error,
        payload: j.payload,
    }
}

async fn sign_up_queues_no_job(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    t.app.sign_up(seed_signup(&person(1))).await.unwrap();
    assert!(t.app.store().jobs(None).await.unwrap().is_empty());
    assert_eq!(t.row_counts().await["jobs"], 0);
}

/// A withdrawal committed, but its key deletion did not happen (the key store was down, or the
/// process died right after the commit): the `keys.destroy` job written with it finishes it.
async fn keys_destroy_finishes_an_interrupted_withdrawal(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let id = t.app.sign_up(seed_signup(&person(2))).await.unwrap();
    t.app
        .withdraw(&Actor::Member(id), id, "test")
        .await
        .unwrap();
    // The interruption: a key for the member is still in the key store.
    t.app.keyring().create_member_key(id).await.unwrap();
    assert!(t.app.keyring().member_key(id).await.unwrap().is_some());
    let queued = t.app.store().jobs(Some(KeysDestroy::KIND)).await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].state, "queued");
    assert_eq!(queued[0].payload, serde_json::json!({ "member_id": id }));

    assert_eq!(t.app.run_jobs_once().await.unwrap(), 1);
    assert!(
        t.app.keyring().member_key(id).await.unwrap().is_none(),
        "the job destroyed the key"
    );
    assert_eq!(t.row_counts().await["member_keys"], 0);
    let done = job(&t.app, KeysDestroy::KIND, queued[0].id).await;
    assert_eq!((done.state.as_str(), done.attempts), ("done", 1));
    assert_eq!(
        t.app.run_jobs_once().await.unwrap(),
        0,
        "nothing left to run"
    );
}

/// A `keys.destroy` job for a member who is still there is refused for good, and the key kept.
async fn keys_destroy_never_destroys_a_live_members_key(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let id = t.app.sign_up(seed_signup(&person(3))).await.unwrap();
    let now = t.clock.now();
    let jid = t
        .app
        .enqueue::<KeysDestroy>(&MemberKey { member_id: id }, now)
        .await
        .unwrap();
    assert_eq!(t.app.run_jobs_once().await.unwrap(), 1);
    let j = job(&t.app, KeysDestroy::KIND, jid).await;
    assert_eq!((j.state.as_str(), j.attempts), ("failed", 1));
    assert_eq!(
        j.last_error.as_deref(),
        Some("member still exists; key kept")
    );
    assert!(t.app.keyring().member_key(id).await.unwrap().is_some());
    let email = t
        .app
        .reveal(&Actor::Member(id), None, id, &["email"], SUBJECT_ACCESS)
        .await
        .unwrap();
    assert_eq!(
        email["email"].expose(),
        person(3).email,
        "the data still opens"
    );
    // Not retried later either.
    t.clock.advance(Duration::days(2));
    assert_eq!(t.app.run_jobs_once().await.unwrap(), 0);
}

/// A job of a known kind whose payload is not that kind's.
struct WrongPayload;

impl Job for WrongPayload {
    const KIND: &'static str = KeysDestroy::KIND;
    type Payload = serde_json::Value;
    fn retry(&self) -> RetryPolicy {
        unreachable_policy()
    }
    async fn run(&self, _: &Jikimi, _: serde_json::Value) -> Result<(), JobError> {
        panic!("never run: only used to write a row")
    }
}

fn unreachable_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 1,
        backoff: Backoff::Fixed(Duration::zero()),
        lease: Duration::minutes(1),
    }
}

async fn a_malformed_payload_is_given_up_at_once(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let jid = t
        .app
        .enqueue::<WrongPayload>(&serde_json::json!({ "member": "nobody" }), t.clock.now())
        .await
        .unwrap();
    assert_eq!(t.app.run_jobs_once().await.unwrap(), 1);
    let j = job(&t.app, KeysDestroy::KIND, jid).await;
    assert_eq!((j.state.as_str(), j.attempts), ("failed", 1));
    assert!(
        j.last_error
            .as_deref()
            .unwrap()
            .starts_with("malformed payload"),
        "{j:?}"
    );
}

/// The daily purge is a job like any other: due at `purge_at` (04:00 KST), it runs from the
/// queue and destroys what expired, with its audit entry and destruction record.
async fn retention_purge_runs_from_the_queue_at_its_kst_time(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    let id = t.app.sign_up(lifeplan_signup(&person(4))).await.unwrap();
    t.app
        .withdraw(&Actor::Member(id), id, "test")
        .await
        .unwrap();
    assert_eq!(t.app.run_jobs_once().await.unwrap(), 1); // keys.destroy
    let kept = t.row_counts().await["retained_records"];
    assert!(kept >= 2, "contract and consent records are kept");

    // Four years on (the consent records' period is over), at 03:59 KST.
    let day = t.clock.today_kst() + chrono::Days::new(4 * 365);
    t.clock.set(at_kst(day, 3, 59));
    assert!(t.app.schedule_purge().await.unwrap());
    let queued = t
        .app
        .store()
        .jobs(Some(RetentionPurge::KIND))
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);
    let purge = &queued[0];
    // The id and payload are what earlier releases wrote, so old and new instances schedule the
    // same job during an upgrade.
    let namespace = Uuid::from_u128(0x6a69_6b69_6d69_2d70_7572_6765_2d6a_6f62);
    assert_eq!(
        purge.id,
        Uuid::new_v5(&namespace, format!("retention.purge:{day}").as_bytes())
    );
    assert_eq!(
        purge.payload,
        serde_json::to_value(PurgeDay { day }).unwrap()
    );
    assert_eq!(purge.payload, serde_json::json!({ "day": day }));
    assert_eq!(purge.run_at, at_kst(day, 4, 0));

    assert_eq!(
        t.app.run_jobs_once().await.unwrap(),
        0,
        "not due before 04:00 KST"
    );
    assert_eq!(t.row_counts().await["retained_records"], kept);
    t.clock.set(at_kst(day, 4, 0));
    assert_eq!(t.app.run_jobs_once().await.unwrap(), 1);
    let j = job(&t.app, RetentionPurge::KIND, purge.id).await;
    assert_eq!((j.state.as_str(), j.attempts), ("done", 1));
    assert!(t.row_counts().await["retained_records"] < kept);
    let mut db = t.db().await;
    assert_eq!(
        db.count(
            "SELECT count(*) FROM audit_log WHERE action = 'retention.purge' AND actor = 'system'"
        )
        .await,
        1
    );
    assert!(
        t.app
            .store()
            .destruction_records()
            .await
            .unwrap()
            .iter()
            .any(|r| r.event == "purge" && r.class == "consent_records" && r.count == 1)
    );
}

/// A test kind that fails until its run number reaches `succeed_on` (never, if `None`).
#[derive(Clone, Default)]
struct Flaky {
    runs: Arc<Mutex<BTreeMap<String, u32>>>,
}

#[derive(Serialize, Deserialize)]
struct Attempt {
    label: String,
    succeed_on: Option<u32>,
}

impl Flaky {
    fn runs(&self, label: &str) -> u32 {
        self.runs.lock().unwrap().get(label).copied().unwrap_or(0)
    }
}

impl Job for Flaky {
    const KIND: &'static str = "test.flaky";
    type Payload = Attempt;

    fn retry(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            backoff: Backoff::Exponential {
                first: Duration::minutes(1),
                max: Duration::hours(1),
            },
            lease: Duration::minutes(5),
        }
    }

    async fn run(&self, _: &Jikimi, a: Attempt) -> Result<(), JobError> {
        let n = {
            let mut runs = self.runs.lock().unwrap();
            let n = runs.entry(a.label).or_default();
            *n += 1;
            *n
        };
        if a.succeed_on == Some(n) {
            Ok(())
        } else {
            Err(JobError::Retry(format!("flaky failure {n}")))
        }
    }
}

fn flaky_runner(flaky: &Flaky) -> JobRunner {
    JobRunner::new(JobRegistry::standard().with(flaky.clone()))
}

async fn enqueue_flaky(t: &TestApp, label: &str, succeed_on: Option<u32>) -> Uuid {
    let a = Attempt {
        label: label.into(),
        succeed_on,
    };
    t.app.enqueue::<Flaky>(&a, t.clock.now()).await.unwrap()
}

async fn a_failing_job_is_retried_with_backoff_then_given_up(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let flaky = Flaky::default();
    let runner = flaky_runner(&flaky);
    let never = enqueue_flaky(&t, "never", None).await;
    let second = enqueue_flaky(&t, "second", Some(2)).await;
    let start = t.clock.now();

    // Run 1 of each: both fail, both wait a minute.
    assert_eq!(runner.run_once(&t.app).await.unwrap(), 2);
    for id in [never, second] {
        let j = job(&t.app, Flaky::KIND, id).await;
        assert_eq!((j.state.as_str(), j.attempts), ("queued", 1));
        assert_eq!(j.run_at, start + Duration::minutes(1));
        assert_eq!(j.last_error.as_deref(), Some("flaky failure 1"));
    }
    assert_eq!(runner.run_once(&t.app).await.unwrap(), 0, "not due yet");
    t.clock.advance(Duration::seconds(59));
    assert_eq!(runner.run_once(&t.app).await.unwrap(), 0, "not due yet");

    // Run 2: `second` succeeds; `never` fails again and now waits two minutes.
    t.clock.advance(Duration::seconds(1));
    assert_eq!(runner.run_once(&t.app).await.unwrap(), 2);
    let s = job(&t.app, Flaky::KIND, second).await;
    assert_eq!((s.state.as_str(), s.attempts), ("done", 2));
    let n = job(&t.app, Flaky::KIND, never).await;
    assert_eq!((n.state.as_str(), n.attempts), ("queued", 2));
    assert_eq!(n.run_at, t.clock.now() + Duration::minutes(2));

    // Run 3, the last the policy allows: given up, with its error kept.
    t.clock.advance(Duration::minutes(1));
    assert_eq!(runner.run_once(&t.app).await.unwrap(), 0);
    t.clock.advance(Duration::minutes(1));
    assert_eq!(runner.run_once(&t.app).await.unwrap(), 1);
    let n = job(&t.app, Flaky::KIND, never).await;
    assert_eq!((n.state.as_str(), n.attempts), ("failed", 3));
    assert_eq!(
        n.last_error.as_deref(),
        Some("gave up after 3 attempts: flaky failure 3")
    );
    t.clock.advance(Duration::days(7));
    assert_eq!(runner.run_once(&t.app).await.unwrap(), 0);
    assert_eq!((flaky.runs("never"), flaky.runs("second")), (3, 2));
}

/// Runs that died (the process stopped with the job claimed) count as attempts: once their
/// leases ran out and no attempt is left, the job is given up without running again.
async fn a_job_whose_runs_died_is_given_up_after_its_attempts(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let flaky = Flaky::default();
    let runner = flaky_runner(&flaky);
    let id = enqueue_flaky(&t, "dies", Some(1)).await;
    for attempt in 1..=3 {
        let now = t.clock.now();
        let claimed = t
            .app
            .store()
            .claim_job(&[(Flaky::KIND, now + Duration::minutes(5))], now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((claimed.id, claimed.attempts), (id, attempt));
        // Held by the dead run until its lease ends.
        assert_eq!(runner.run_once(&t.app).await.unwrap(), 0);
        t.clock.advance(Duration::minutes(5));
    }
    assert_eq!(runner.run_once(&t.app).await.unwrap(), 1);
    let j = job(&t.app, Flaky::KIND, id).await;
    assert_eq!(j.state, "failed");
    assert!(
        j.last_error
            .as_deref()
            .unwrap()
            .starts_with("gave up after 3 attempts"),
        "{j:?}"
    );
    assert_eq!(flaky.runs("dies"), 0, "not run a fourth time");
}

/// A kind this build does not know (`mail.welcome` rows from earlier releases, say).
struct Unknown;

impl Job for Unknown {
    const KIND: &'static str = "mail.welcome";
    type Payload = MemberKey;
    fn retry(&self) -> RetryPolicy {
        unreachable_policy()
    }
    async fn run(&self, _: &Jikimi, _: MemberKey) -> Result<(), JobError> {
        panic!("never run: not registered")
    }
}

async fn an_unknown_kind_is_not_run_and_not_lost(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let member = t.app.sign_up(seed_signup(&person(5))).await.unwrap();
    let unknown = t
        .app
        .enqueue::<Unknown>(&MemberKey { member_id: member }, t.clock.now())
        .await
        .unwrap();
    t.app
        .withdraw(&Actor::Member(member), member, "test")
        .await
        .unwrap();
    assert!(!JobRegistry::standard().kinds().contains(&Unknown::KIND));
    // The known job runs; the unknown one is not claimed.
    assert_eq!(t.app.run_jobs_once().await.unwrap(), 1);
    t.clock.advance(Duration::days(1));
    assert_eq!(t.app.run_jobs_once().await.unwrap(), 0);
    let j = job(&t.app, Unknown::KIND, unknown).await;
    assert_eq!((j.state.as_str(), j.attempts), ("queued", 0));
    assert_eq!(j.last_error, None);
    assert_eq!(j.payload, serde_json::json!({ "member_id": member }));
    assert_eq!(t.app.store().jobs(None).await.unwrap().len(), 2);
}

/// A claim is one statement for several kinds: it takes the oldest due job among the kinds asked
/// (not an older job of another kind, not one due later), marks it running with one attempt
/// more, and leases it for as long as its own kind says.
async fn one_claim_takes_the_oldest_due_job_of_the_kinds_asked_with_its_kinds_lease(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let now = t.clock.now();
    let store = t.app.store();
    let key = MemberKey {
        member_id: Uuid::new_v4(),
    };
    let attempt = |label: &str| Attempt {
        label: label.into(),
        succeed_on: Some(1),
    };
    let schedule = |job: jikimi_store::NewJob| async move {
        assert!(store.schedule_job(job, now).await.unwrap());
    };
    let unknown = Unknown::new_job(&key, now - Duration::minutes(10)).unwrap();
    let destroy = KeysDestroy::new_job(&key, now - Duration::minutes(3)).unwrap();
    let flaky = Flaky::new_job(&attempt("due"), now - Duration::minutes(2)).unwrap();
    let later = Flaky::new_job(&attempt("later"), now + Duration::hours(1)).unwrap();
    let ids = (unknown.id, destroy.id, flaky.id, later.id);
    for j in [unknown, destroy, flaky, later] {
        schedule(j).await;
    }
    let kinds = |at: chrono::DateTime<chrono::Utc>| {
        [
            (Flaky::KIND, at + Duration::minutes(5)),
            (KeysDestroy::KIND, at + Duration::minutes(30)),
        ]
    };
    let claim = |at: chrono::DateTime<chrono::Utc>| async move {
        store
            .claim_job(&kinds(at), at)
            .await
            .unwrap()
            .map(|j| (j.id, j.kind, j.state, j.attempts))
    };
    assert_eq!(
        claim(now).await,
        Some((ids.1, KeysDestroy::KIND.into(), "running".into(), 1)),
        "the oldest due job of the kinds asked"
    );
    assert_eq!(
        claim(now).await,
        Some((ids.2, Flaky::KIND.into(), "running".into(), 1))
    );
    assert_eq!(
        claim(now).await,
        None,
        "the rest is leased, of another kind or not due"
    );
    // Each lease is its kind's: five minutes for the flaky job, thirty for the key's.
    assert_eq!(claim(now + Duration::minutes(4)).await, None);
    assert_eq!(
        claim(now + Duration::minutes(6)).await,
        Some((ids.2, Flaky::KIND.into(), "running".into(), 2))
    );
    let key_claim = |at: chrono::DateTime<chrono::Utc>| async move {
        store
            .claim_job(&[(KeysDestroy::KIND, at + Duration::minutes(30))], at)
            .await
            .unwrap()
            .map(|j| (j.id, j.attempts))
    };
    assert_eq!(key_claim(now + Duration::minutes(29)).await, None);
    assert_eq!(
        key_claim(now + Duration::minutes(31)).await,
        Some((ids.1, 2))
    );
    // The job of the unknown kind was never taken; asked for by its kind, it is.
    assert_eq!(job(&t.app, Unknown::KIND, ids.0).await.state, "queued");
    let asked = store
        .claim_job(&[(Unknown::KIND, now + Duration::minutes(1))], now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((asked.id, asked.attempts), (ids.0, 1));
    assert_eq!(store.claim_job(&[], now).await.unwrap().map(|j| j.id), None);
}

/// A runner takes the kinds in turn: in one pass at most one job of each kind, so a flood of one
/// kind does not hold the others back; and it runs until nothing of its kinds is due.
async fn a_pass_runs_one_job_of_each_kind_in_turn(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let order = Arc::new(Mutex::new(Vec::new()));
    let runner = JobRunner::new(
        JobRegistry::new()
            .with(Recorder::<false> {
                order: order.clone(),
            })
            .with(Other {
                order: order.clone(),
            }),
    );
    let now = t.clock.now();
    // Three of the first kind queued first, then two of the other.
    for n in 0..3 {
        t.app
            .enqueue::<Recorder<false>>(&n, now - Duration::minutes(10 - n))
            .await
            .unwrap();
    }
    for n in 0..2 {
        t.app
            .enqueue::<Other>(&n, now - Duration::minutes(5 - n))
            .await
            .unwrap();
    }
    assert_eq!(runner.run_once(&t.app).await.unwrap(), 5);
    assert_eq!(
        *order.lock().unwrap(),
        [
            "recorder 0",
            "other 0",
            "recorder 1",
            "other 1",
            "recorder 2"
        ]
    );
    assert_eq!(runner.run_once(&t.app).await.unwrap(), 0);
}

/// A kind with a [`Job::BATCH`] of three: one claim takes up to three due jobs of that kind (not
/// the other kind's job queued between them, which waits for its turn in the pass), and they
/// finish together. A batch starts no job once half its lease has gone, so nothing it claimed,
/// run or finished-but-unrecorded, is ever due for another run to claim: the jobs not started
/// are released (queued again, the attempt given back) and claimed afresh.
async fn a_claim_takes_a_batch_of_one_kind_and_runs_it_only_while_its_lease_lasts(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let order = Arc::new(Mutex::new(Vec::new()));
    let stolen = Arc::new(Mutex::new(Vec::new()));
    let runner = JobRunner::new(
        JobRegistry::new()
            .with(Batched {
                order: order.clone(),
                stolen: stolen.clone(),
                clock: t.clock.clone(),
            })
            .with(Recorder::<false> {
                order: order.clone(),
            }),
    );
    let now = t.clock.now();
    let mut ids = Vec::new();
    for n in 0..4 {
        let at = now - Duration::minutes(10 - n);
        let job = Batched::new_job(&(n, 0), at).unwrap();
        ids.push(job.id);
        assert!(t.app.store().schedule_job(job, now).await.unwrap());
        if n == 1 {
            t.app
                .enqueue::<Recorder<false>>(&0, at + Duration::seconds(30))
                .await
                .unwrap();
        }
    }
    assert_eq!(runner.run_once(&t.app).await.unwrap(), 5);
    assert_eq!(
        *order.lock().unwrap(),
        ["batch 0", "batch 1", "batch 2", "recorder 0", "batch 3"]
    );
    for id in &ids {
        let j = job(&t.app, Batched::KIND, *id).await;
        assert_eq!((j.state.as_str(), j.attempts), ("done", 1));
    }

    // Each run takes three minutes of a five-minute lease, and then another instance tries to
    // claim every due job of the kind. Without the half-lease rule the second job would start
    // at 3 minutes and end at 6, when the first (done, not yet recorded) and the third are due
    // to the other instance again.
    order.lock().unwrap().clear();
    let now = t.clock.now();
    let mut ids = Vec::new();
    for n in 0..3 {
        let job = Batched::new_job(&(n, 3), now - Duration::minutes(3 - n)).unwrap();
        ids.push(job.id);
        assert!(t.app.store().schedule_job(job, now).await.unwrap());
    }
    assert_eq!(runner.run_once(&t.app).await.unwrap(), 3);
    assert_eq!(*order.lock().unwrap(), ["batch 0", "batch 1", "batch 2"]);
    assert_eq!(
        *stolen.lock().unwrap(),
        Vec::<Uuid>::new(),
        "nothing was due elsewhere"
    );
    for id in &ids {
        let j = job(&t.app, Batched::KIND, *id).await;
        assert_eq!(
            (j.state.as_str(), j.attempts),
            ("done", 1),
            "a released job got its attempt back"
        );
    }
}

/// A job's outcome is recorded only for the claim that ran it: once its lease ended and another
/// run claimed it, the first run's late finish changes nothing. A release puts the job back as
/// it was before the claim.
async fn a_finish_counts_only_for_the_claim_that_ran_the_job(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let store = t.app.store();
    let now = t.clock.now();
    let lease = |at: chrono::DateTime<chrono::Utc>| [(Batched::KIND, at + Duration::minutes(5))];
    let new = Batched::new_job(&(0, 0), now).unwrap();
    let id = new.id;
    assert!(store.schedule_job(new, now).await.unwrap());
    let first = store.claim_job(&lease(now), now).await.unwrap().unwrap();
    let later = now + Duration::minutes(6);
    let second = store
        .claim_job(&lease(later), later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.id, first.attempts, second.id, second.attempts),
        (id, 1, id, 2)
    );
    store
        .finish_jobs(&[(id, 1, JobOutcome::Done)])
        .await
        .unwrap();
    let j = job(&t.app, Batched::KIND, id).await;
    assert_eq!(
        (j.state.as_str(), j.attempts),
        ("running", 2),
        "the late finish is ignored"
    );
    store
        .finish_jobs(&[(id, 2, JobOutcome::Failed { error: "x".into() })])
        .await
        .unwrap();
    let j = job(&t.app, Batched::KIND, id).await;
    assert_eq!((j.state.as_str(), j.attempts), ("failed", 2));

    let new = Batched::new_job(&(1, 0), now).unwrap();
    let id = new.id;
    assert!(store.schedule_job(new, now).await.unwrap());
    let claimed = store.claim_job(&lease(now), now).await.unwrap().unwrap();
    assert_eq!((claimed.id, claimed.attempts), (id, 1));
    store
        .finish_jobs(&[(id, 1, JobOutcome::Release)])
        .await
        .unwrap();
    let j = job(&t.app, Batched::KIND, id).await;
    assert_eq!((j.state.as_str(), j.attempts), ("queued", 0));
    let again = store.claim_job(&lease(now), now).await.unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (id, 1), "due again at once");

    // A batch that went well is recorded in one statement, under the same rule: of two jobs
    // claimed together, the one another run has claimed since keeps running.
    store
        .finish_jobs(&[(id, 1, JobOutcome::Done)])
        .await
        .unwrap();
    let mut ids = Vec::new();
    for n in 2..4 {
        let new = Batched::new_job(&(n, 0), now).unwrap();
        ids.push(new.id);
        assert!(store.schedule_job(new, now).await.unwrap());
    }
    let batch = [(Batched::KIND, now + Duration::minutes(5), 2)];
    let claimed = store.claim_jobs(&batch, now).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let stale = claimed[0].id;
    let other = store
        .claim_job(&lease(later), later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((other.id, other.attempts), (stale, 2));
    store
        .finish_jobs(&[(ids[0], 1, JobOutcome::Done), (ids[1], 1, JobOutcome::Done)])
        .await
        .unwrap();
    let (done, running) = if stale == ids[0] {
        (ids[1], ids[0])
    } else {
        (ids[0], ids[1])
    };
    let j = job(&t.app, Batched::KIND, done).await;
    assert_eq!((j.state.as_str(), j.attempts), ("done", 1));
    let j = job(&t.app, Batched::KIND, running).await;
    assert_eq!(
        (j.state.as_str(), j.attempts),
        ("running", 2),
        "the late finish of a batch is ignored"
    );
}

/// A kind claimed three at a time: a job (n, minutes) writes down `batch n`; when `minutes` is
/// not 0 it moves the clock on by that much and then, as another instance would, claims every
/// job of its kind that is due (`stolen`).
struct Batched {
    order: Arc<Mutex<Vec<String>>>,
    stolen: Arc<Mutex<Vec<Uuid>>>,
    clock: Arc<jikimi_core::FixedClock>,
}

impl Job for Batched {
    const KIND: &'static str = "test.batched";
    const BATCH: u32 = 3;
    type Payload = (i64, i64);
    fn retry(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            backoff: Backoff::Fixed(Duration::zero()),
            lease: Duration::minutes(5),
        }
    }
    async fn run(&self, app: &Jikimi, (n, minutes): (i64, i64)) -> Result<(), JobError> {
        self.order.lock().unwrap().push(format!("batch {n}"));
        if minutes == 0 {
            return Ok(());
        }
        self.clock.advance(Duration::minutes(minutes));
        let now = self.clock.now();
        let taken = app
            .store()
            .claim_jobs(&[(Self::KIND, now + Duration::minutes(5), 10)], now)
            .await?;
        self.stolen
            .lock()
            .unwrap()
            .extend(taken.into_iter().map(|j| j.id));
        Ok(())
    }
}

/// Two test kinds (`test.recorder`, and `test.other` when `OTHER`) that write down the order
/// they ran in.
#[derive(Clone)]
struct Recorder<const OTHER: bool> {
    order: Arc<Mutex<Vec<String>>>,
}

impl<const OTHER: bool> Job for Recorder<OTHER> {
    const KIND: &'static str = if OTHER { "test.other" } else { "test.recorder" };
    type Payload = i64;
    fn retry(&self) -> RetryPolicy {
        unreachable_policy()
    }
    async fn run(&self, _: &Jikimi, n: i64) -> Result<(), JobError> {
        let name = if OTHER { "other" } else { "recorder" };
        self.order.lock().unwrap().push(format!("{name} {n}"));
        Ok(())
    }
}

type Other = Recorder<true>;

/// `serve`'s scheduler on two instances: each schedules the day's purge, it exists and runs
/// once, at 04:00 KST, and again the next day.
async fn the_scheduler_runs_the_daily_purge_once_across_instances(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    let other = t.reopen("lifeplan").await;
    let (mut a, mut b2) = (Scheduler::standard(), Scheduler::standard());
    let day = t.clock.today_kst() + chrono::Days::new(1);
    t.clock.set(at_kst(day, 3, 0));
    tokio::join!(a.round(&t.app), b2.round(&other));
    let purges = || async {
        t.app
            .store()
            .jobs(Some(RetentionPurge::KIND))
            .await
            .unwrap()
    };
    let jobs = purges().await;
    assert_eq!(jobs.len(), 1, "scheduled once");
    assert_eq!(jobs[0].state, "queued", "not before 04:00 KST");

    t.clock.set(at_kst(day, 4, 0));
    tokio::join!(a.round(&t.app), b2.round(&other));
    tokio::join!(a.round(&t.app), b2.round(&other));
    let jobs = purges().await;
    assert_eq!(jobs.len(), 1);
    assert_eq!((jobs[0].state.as_str(), jobs[0].attempts), ("done", 1));
    let mut db = t.db().await;
    let purge_runs = "SELECT count(*) FROM audit_log WHERE action = 'retention.purge'";
    assert_eq!(db.count(purge_runs).await, 1, "run once");

    t.clock.set(at_kst(day + chrono::Days::new(1), 4, 30));
    tokio::join!(a.round(&t.app), b2.round(&other));
    let jobs = purges().await;
    assert_eq!(jobs.len(), 2, "the next day's purge");
    assert!(jobs.iter().all(|j| j.state == "done" && j.attempts == 1));
    assert_eq!(db.count(purge_runs).await, 2);
}

/// `run_background` (what `jikimi serve` starts) runs due jobs at once and ends on shutdown.
async fn the_background_loop_runs_jobs_and_stops_on_shutdown(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let id = t.app.sign_up(seed_signup(&person(6))).await.unwrap();
    t.app
        .withdraw(&Actor::Member(id), id, "test")
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = t.app.clone();
    let worker = tokio::spawn(async move {
        app.run_background(async {
            let _ = stopped.await;
        })
        .await
    });
    let done = |kind: &'static str| {
        let app = t.app.clone();
        async move {
            app.store()
                .jobs(Some(kind))
                .await
                .unwrap()
                .iter()
                .filter(|j| j.state == "done")
                .count()
        }
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    // 10:00 KST: today's purge (04:00) is due at once, as is the key destruction.
    while done(KeysDestroy::KIND).await < 1 || done(RetentionPurge::KIND).await < 1 {
        assert!(std::time::Instant::now() < deadline, "jobs ran");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    stop.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), worker)
        .await
        .expect("the loop ends on shutdown")
        .unwrap();
}
