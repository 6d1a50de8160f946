//! Two instances, one installation: every race a load balancer can cause, on both backends.
//! Each "instance" is its own `Jikimi` with its own connection pools, as a second `jikimi serve`
//! process has (crates/jikimi/tests/cluster.rs starts real processes against PostgreSQL).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use jikimi_core::{Actor, CoreError, Jikimi, Revealed};
use jikimi_testkit::{Backend, TestApp, person, seed_signup};

jikimi_testkit::backend_tests!(
    sessions_are_shared_between_instances,
    concurrent_sign_ups_of_one_person_make_one_member,
    jobs_are_claimed_once_by_concurrent_instances,
    withdrawal_racing_correction_leaves_no_data_without_key_or_key_without_member,
    the_login_limit_holds_across_instances,
    abuse_limits_are_shared_by_instances,
    the_audit_chain_stays_one_chain_with_concurrent_writers,
    a_reveal_is_audited_before_it_returns,
    a_member_key_kept_in_memory_opens_nothing_after_withdrawal,
    a_change_that_fails_in_a_batch_fails_alone,
);

const SEED: &str = "lifeplan-seed";

async fn two(b: Backend) -> (TestApp, Jikimi) {
    let t = TestApp::on(b, SEED).await;
    let other = t.reopen(SEED).await;
    (t, other)
}

fn pw(s: &str) -> Revealed {
    Revealed::new(s.to_owned())
}

/// A session made on one instance works on the other; logging out on either ends it on both.
async fn sessions_are_shared_between_instances(b: Backend) {
    let (t, other) = two(b).await;
    let p = person(300);
    let id = t.app.sign_up(seed_signup(&p)).await.unwrap();
    let s = t.app.login(&p.login_id, &pw(&p.password)).await.unwrap();
    let on_other = other.session(s.token.expose()).await.unwrap().unwrap();
    assert_eq!(on_other.member, id);
    assert!(other.logout(s.token.expose()).await.unwrap());
    assert!(t.app.session(s.token.expose()).await.unwrap().is_none());
    assert!(other.session(s.token.expose()).await.unwrap().is_none());
}

/// 50 sign-ups of one person at once, split over two instances: exactly one member, and every
/// other attempt gets the same "already a member" answer.
async fn concurrent_sign_ups_of_one_person_make_one_member(b: Backend) {
    let (t, other) = two(b).await;
    // Round 1: the same e-mail (different people otherwise). Round 2: the same RRN. Round 3: the
    // same login ID and e-mail: the login ID is what the losers hear of, as the look-up says.
    for (round, field) in [(0u32, "email"), (1, "rrn"), (2, "login_id")] {
        let base = person(1000 + round);
        let mut tasks = Vec::new();
        // Sign-ups per login ID are limited to 10 in 10 minutes: 10 for the login ID's round.
        let tries = if field == "login_id" { 10 } else { 50u32 };
        for i in 0..tries {
            let mut p = person(2000 + round * 100 + i);
            match field {
                "email" => p.email = base.email.clone(),
                "rrn" => p.rrn = base.rrn.clone(),
                _ => {
                    p.login_id = base.login_id.clone();
                    p.email = base.email.clone();
                }
            }
            let app = if i.is_multiple_of(2) {
                t.app.clone()
            } else {
                other.clone()
            };
            tasks.push(tokio::spawn(
                async move { app.sign_up(seed_signup(&p)).await },
            ));
        }
        let mut won = Vec::new();
        let mut answers = BTreeMap::<String, usize>::new();
        for task in tasks {
            match task.await.unwrap() {
                Ok(id) => won.push(id),
                Err(e @ CoreError::AlreadyMember { .. }) => {
                    let CoreError::AlreadyMember {
                        field: f,
                        masked_login,
                    } = &e
                    else {
                        unreachable!()
                    };
                    assert_eq!(f, field);
                    // An identity match shows the existing login ID masked; e-mail does not.
                    assert_eq!(masked_login.is_some(), field == "rrn", "{e:?}");
                    *answers.entry(format!("{e:?}")).or_default() += 1;
                }
                Err(CoreError::Invalid(errors)) if field == "login_id" => {
                    let codes: Vec<(&str, &str)> = errors
                        .iter()
                        .map(|e| (e.field.as_str(), e.code.as_str()))
                        .collect();
                    assert_eq!(codes, [("login_id", "login_id.taken")]);
                    *answers.entry(format!("{codes:?}")).or_default() += 1;
                }
                Err(e) => panic!("round {field}: unexpected {e:?}"),
            }
        }
        assert_eq!(won.len(), 1, "round {field}: exactly one sign-up wins");
        assert_eq!(
            answers.len(),
            1,
            "round {field}: the others all get the same answer: {answers:?}"
        );
        assert_eq!(answers.values().sum::<usize>(), tries as usize - 1);
    }
    assert_eq!(t.row_counts().await["members"], 3);
    // Every losing attempt's key was removed with it.
    assert_eq!(t.row_counts().await["member_keys"], 3);
    assert!(t.app.verify_audit().await.unwrap().ok());
}

/// Jobs run exactly once when instances claim them at the same time.
async fn jobs_are_claimed_once_by_concurrent_instances(b: Backend) {
    let (t, other) = two(b).await;
    let n = 30;
    for i in 0..n {
        let p = person(3000 + i);
        let id = t.app.sign_up(seed_signup(&p)).await.unwrap();
        t.app
            .withdraw(&Actor::Member(id), id, "test")
            .await
            .unwrap();
    }
    let queued = t.app.store().jobs(Some("keys.destroy")).await.unwrap();
    assert_eq!(queued.len(), n as usize);
    let mut tasks = Vec::new();
    for i in 0..6u32 {
        let app = if i.is_multiple_of(2) {
            t.app.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move { app.run_jobs_once().await }));
    }
    let mut ran = 0;
    for task in tasks {
        ran += task.await.unwrap().unwrap();
    }
    assert_eq!(ran, n as usize, "each job ran once in all");
    for job in t.app.store().jobs(Some("keys.destroy")).await.unwrap() {
        assert_eq!(job.state, "done");
        assert_eq!(job.attempts, 1, "claimed once: {job:?}");
    }
}

/// A withdrawal on one instance racing a correction of the same member on the other never leaves
/// data without its key, or a key without its member.
async fn withdrawal_racing_correction_leaves_no_data_without_key_or_key_without_member(b: Backend) {
    let (t, other) = two(b).await;
    let mut ids = Vec::new();
    for i in 0..16 {
        ids.push(t.app.sign_up(seed_signup(&person(4000 + i))).await.unwrap());
    }
    let mut tasks = Vec::new();
    for (i, id) in ids.iter().copied().enumerate() {
        let (a, w) = if i.is_multiple_of(2) {
            (t.app.clone(), other.clone())
        } else {
            (other.clone(), t.app.clone())
        };
        tasks.push(tokio::spawn(async move {
            let change: BTreeMap<String, Option<Revealed>> = [(
                "address".to_owned(),
                Some(pw(&format!("부산광역시 해운대구 지킴로 {i}"))),
            )]
            .into();
            let actor = Actor::Member(id);
            let (corrected, withdrawn) = tokio::join!(
                a.correct(&actor, id, change),
                w.withdraw(&actor, id, "test")
            );
            match corrected {
                Ok(()) | Err(CoreError::NotFound(_)) => {}
                Err(e) => panic!("correction: unexpected {e:?}"),
            }
            withdrawn.unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    t.app.run_jobs_once().await.unwrap();
    let counts = t.row_counts().await;
    assert_eq!(counts["members"], 0);
    assert_eq!(counts["member_items"], 0, "no data without its key");
    assert_eq!(counts["member_keys"], 0, "no key without its member");
    assert!(t.app.verify_audit().await.unwrap().ok());
}

/// R-ACC-04 across instances: guesses spread over two instances share one counter.
async fn the_login_limit_holds_across_instances(b: Backend) {
    let (t, other) = two(b).await;
    let p = person(5000);
    t.app.sign_up(seed_signup(&p)).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..20u32 {
        let app = if i.is_multiple_of(2) {
            t.app.clone()
        } else {
            other.clone()
        };
        let login = p.login_id.clone();
        tasks.push(tokio::spawn(async move {
            app.login(&login, &pw(&format!("Wrong-guess-{i}"))).await
        }));
    }
    let (mut checked, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Err(CoreError::BadCredentials) => checked += 1,
            Err(CoreError::TooManyAttempts { .. }) => refused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(checked <= 5, "at most 5 passwords checked, got {checked}");
    assert_eq!(checked + refused, 20);
    // Locked on both instances, even with the right password.
    for app in [&t.app, &other] {
        assert!(matches!(
            app.login(&p.login_id, &pw(&p.password)).await,
            Err(CoreError::TooManyAttempts { .. })
        ));
    }
}

/// Issue 11: the abuse limits are counted in the database, so a load balancer spreading requests
/// over two instances does not multiply them: text messages to one number (also concurrent
/// requests), and one client's logins.
async fn abuse_limits_are_shared_by_instances(b: Backend) {
    use jikimi_core::identity::{Carrier, IdentityRequest};
    let t = TestApp::on(b, "lifeplan").await;
    let other = t.reopen("lifeplan").await;
    let p = person(5100);
    let mut tasks = Vec::new();
    for i in 0..12u32 {
        let app = if i.is_multiple_of(2) {
            t.app.clone()
        } else {
            other.clone()
        };
        let req = IdentityRequest {
            name: p.name.clone(),
            birth_date: p.birth,
            mobile: p.mobile.clone(),
            carrier: Carrier::Skt,
        };
        tasks.push(tokio::spawn(async move {
            app.identity_request_from(Some(std::net::IpAddr::from([198, 51, 100, 1])), req)
                .await
        }));
    }
    let (mut sent, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => sent += 1,
            Err(CoreError::RateLimited { .. }) => refused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        (sent, refused),
        (5, 7),
        "five texts to one number, wherever asked"
    );

    let client = Some(std::net::IpAddr::from([198, 51, 100, 2]));
    for i in 0..60 {
        let app = if i % 2 == 0 { &t.app } else { &other };
        let r = app
            .login_from(client, &format!("nobody{i}"), &pw("Spray-pass-1"), None)
            .await;
        assert!(matches!(r, Err(CoreError::BadCredentials)), "{i}: {r:?}");
    }
    for app in [&t.app, &other] {
        let r = app
            .login_from(client, "nobody-else", &pw("Spray-pass-1"), None)
            .await;
        assert!(
            matches!(r, Err(CoreError::RateLimited { .. })),
            "the 61st login from one client, on either instance: {r:?}"
        );
    }
}

/// Concurrent writers on two instances extend one chain: no fork, no gap, every link verifies.
async fn the_audit_chain_stays_one_chain_with_concurrent_writers(b: Backend) {
    let (t, other) = two(b).await;
    let p = person(6000);
    let id = t.app.sign_up(seed_signup(&p)).await.unwrap();
    let before = t.app.verify_audit().await.unwrap().rows;
    let mut tasks = Vec::new();
    for i in 0..40u32 {
        let app = if i.is_multiple_of(2) {
            t.app.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            app.reveal(
                &Actor::Member(id),
                None,
                id,
                &["email"],
                jikimi_core::SUBJECT_ACCESS,
            )
            .await
            .map(|_| ())
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let report = t.app.verify_audit().await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.rows, before + 40, "every reveal has its row");
    // Both instances anchor; the anchor only moves forward.
    let (a, b2) = tokio::join!(t.app.anchor_audit(), other.anchor_audit());
    assert_eq!(a.unwrap(), b2.unwrap());
    assert!(other.verify_audit().await.unwrap().ok());
}

/// R-ACC-05, DESIGN 6 (I1): reveals are written in groups (one transaction for the reveals that
/// arrive together), and each answers only after its row is committed: the moment one returns,
/// another instance — another connection — already reads its row. 48 reveals of 16 members at
/// once, each checked on return; afterwards the chain verifies and holds exactly one row each.
async fn a_reveal_is_audited_before_it_returns(b: Backend) {
    let (t, other) = two(b).await;
    let mut members = Vec::new();
    for i in 0..16u32 {
        members.push(t.app.sign_up(seed_signup(&person(7000 + i))).await.unwrap());
    }
    let before = t.app.verify_audit().await.unwrap().rows;
    let mut tasks = Vec::new();
    for i in 0..48usize {
        let app = t.app.clone();
        let witness = other.clone();
        let id = members[i % members.len()];
        tasks.push(tokio::spawn(async move {
            let seen_before = reveals_of(&witness, id).await;
            own_email(&app, id).await.unwrap();
            let seen_after = reveals_of(&witness, id).await;
            assert!(
                seen_after > seen_before,
                "reveal {i} returned before its audit row was committed"
            );
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let report = other.verify_audit().await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.rows, before + 48, "one row per reveal");
    for id in members {
        assert_eq!(reveals_of(&t.app, id).await, 3);
    }
}

/// How many reveal rows of `member` the audit log holds, read through `app`'s own connections.
async fn reveals_of(app: &Jikimi, member: uuid::Uuid) -> usize {
    app.store()
        .audit_rows(0, i64::MAX)
        .await
        .unwrap()
        .iter()
        .filter(|r| r.member_id == Some(member) && r.action == "item.reveal")
        .count()
}

/// DESIGN 2 and 4: member keys just read stay in memory for a short while (ARCHITECTURE.md,
/// "Member keys in memory"). The instance that withdraws a member drops the key at once; an
/// instance that still holds it opens nothing with it — the member's rows are gone first — and
/// drops it on that first try.
async fn a_member_key_kept_in_memory_opens_nothing_after_withdrawal(b: Backend) {
    let (t, other) = two(b).await;
    let p = person(7100);
    let id = t.app.sign_up(seed_signup(&p)).await.unwrap();
    let keep = t.app.sign_up(seed_signup(&person(7101))).await.unwrap();
    for app in [&t.app, &other] {
        for m in [id, keep] {
            own_email(app, m).await.unwrap();
        }
        assert_eq!(app.keyring().cached_member_keys(), 2);
    }
    t.app
        .withdraw(&Actor::Member(id), id, "test")
        .await
        .unwrap();
    assert_eq!(
        t.app.keyring().cached_member_keys(),
        1,
        "the withdrawing instance keeps no copy"
    );
    assert_eq!(other.keyring().cached_member_keys(), 2);
    let e = own_email(&other, id).await.unwrap_err();
    assert!(matches!(e, CoreError::NotFound("member")), "{e:?}");
    assert_eq!(
        other.keyring().cached_member_keys(),
        1,
        "the other instance dropped its copy"
    );
    // The member who stayed is still served from memory and from the store alike.
    let shown = own_email(&other, keep).await.unwrap();
    assert_eq!(shown["email"].expose(), person(7101).email);
}

/// DESIGN 5 (I3): on SQLite, changes and reveals that arrive together commit in one transaction
/// (`store/src/sql/batch.rs`), each change in its own savepoint. Rounds of two members
/// correcting their e-mail to one new address at once, beside reveals: in every round exactly one
/// wins, the other gets "already a member" and leaves nothing — not its value, not its audit
/// row — while every reveal and the winner commit. The chain verifies at the end.
async fn a_change_that_fails_in_a_batch_fails_alone(b: Backend) {
    let (t, other) = two(b).await;
    let a = t.app.sign_up(seed_signup(&person(7200))).await.unwrap();
    let c = t.app.sign_up(seed_signup(&person(7201))).await.unwrap();
    let before = t.app.verify_audit().await.unwrap().rows;
    let mut corrections = 0;
    for round in 0..8u32 {
        let wanted = format!("batch{round}@example.com");
        let mut reveals = Vec::new();
        for i in 0..8usize {
            let app = if i % 2 == 0 {
                t.app.clone()
            } else {
                other.clone()
            };
            let m = if i % 4 < 2 { a } else { c };
            reveals.push(tokio::spawn(
                async move { own_email(&app, m).await.map(|_| ()) },
            ));
        }
        let change = |m: uuid::Uuid| {
            let app = t.app.clone();
            let wanted = wanted.clone();
            tokio::spawn(async move {
                let mut items = std::collections::BTreeMap::new();
                items.insert("email".to_owned(), Some(Revealed::new(wanted)));
                app.correct(&Actor::Member(m), m, items).await
            })
        };
        let (ra, rc) = (change(a), change(c));
        let (ra, rc) = (ra.await.unwrap(), rc.await.unwrap());
        for r in reveals {
            r.await.unwrap().unwrap();
        }
        let (winner, loser, lost) = match (&ra, &rc) {
            (Ok(()), Err(e)) => (a, c, e),
            (Err(e), Ok(())) => (c, a, e),
            other => panic!("round {round}: exactly one correction must win: {other:?}"),
        };
        assert!(matches!(lost, CoreError::AlreadyMember { .. }), "{lost:?}");
        corrections += 1;
        let shown = |m| {
            let app = other.clone();
            async move {
                own_email(&app, m).await.unwrap()["email"]
                    .expose()
                    .to_owned()
            }
        };
        assert_eq!(shown(winner).await, wanted);
        assert_ne!(
            shown(loser).await,
            wanted,
            "the failed change left its value"
        );
    }
    let rows = t.app.store().audit_rows(before, i64::MAX).await.unwrap();
    let corrected = rows.iter().filter(|r| r.action == "item.correct").count();
    assert_eq!(
        corrected, corrections,
        "one audit row per committed change, none for failed ones"
    );
    let report = t.app.verify_audit().await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
}

/// The member's own e-mail, revealed to the member.
async fn own_email(
    app: &Jikimi,
    member: uuid::Uuid,
) -> jikimi_core::Result<BTreeMap<String, Revealed>> {
    app.reveal(
        &Actor::Member(member),
        None,
        member,
        &["email"],
        jikimi_core::SUBJECT_ACCESS,
    )
    .await
}
