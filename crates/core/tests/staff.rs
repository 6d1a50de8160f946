//! The privacy office's staff accounts (issue 13): roles, enrolment with a TOTP authenticator,
//! two-factor login under the failure limit, idle logout, revocation and the grant record
//! (R-ACC-01 … R-ACC-09), without HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Duration;
use jikimi_core::staff::{Power, RECOVERY_CODES, Role, code_at};
use jikimi_core::{Actor, Clock, CoreError, Revealed};
use jikimi_testkit::{Backend, TestApp};

jikimi_testkit::backend_tests!(
    a_staff_member_enrols_with_an_authenticator_and_logs_in_with_both_factors,
    an_enrolment_link_is_used_once_and_expires,
    wrong_codes_count_as_failed_logins_and_lock_the_client_out,
    a_code_is_taken_once_and_a_recovery_code_once,
    staff_sessions_end_when_idle_and_at_their_absolute_limit,
    roles_give_only_their_powers_and_changes_take_effect_at_once,
    every_grant_change_and_revocation_is_recorded_with_who_and_when,
    one_client_trying_many_staff_names_is_limited,
    a_staff_member_changes_their_own_password,
);

const PASSWORD: &str = "Kestrel-Orbit-2026";

fn pw(s: &str) -> Revealed {
    Revealed::new(s.to_owned())
}

/// Adds `name` with `role` from the command line and enrols it; returns its base32 secret and
/// recovery codes.
async fn enrolled(t: &TestApp, name: &str, role: Role) -> (String, Vec<Revealed>) {
    let token = t.app.add_staff(&Actor::Cli, name, role).await.unwrap();
    let e = t.app.staff_enrolment(token.expose()).await.unwrap();
    let secret = e.secret.expose().to_owned();
    let code = code_at(&secret, t.clock.now()).unwrap();
    let codes = t
        .app
        .enrol_staff(token.expose(), &pw(PASSWORD), &code)
        .await
        .unwrap();
    (secret, codes)
}

/// The next 30-second step's code (a code is taken once, so each login moves the clock on).
fn next_code(t: &TestApp, secret: &str) -> String {
    t.clock.advance(Duration::seconds(30));
    code_at(secret, t.clock.now()).unwrap()
}

async fn a_staff_member_enrols_with_an_authenticator_and_logs_in_with_both_factors(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    let token = t
        .app
        .add_staff(&Actor::Cli, "Kim.Officer", Role::Officer)
        .await
        .unwrap();
    assert!(token.expose().starts_with("jke_"));
    let e = t.app.staff_enrolment(token.expose()).await.unwrap();
    assert_eq!(e.name, "kim.officer");
    assert_eq!(e.role, Role::Officer);
    assert!(e.uri.expose().starts_with("otpauth://totp/"));
    assert!(e.uri.expose().contains(e.secret.expose()));
    // Opening the link again (a refresh) shows the same secret.
    let again = t.app.staff_enrolment(token.expose()).await.unwrap();
    assert_eq!(again.secret.expose(), e.secret.expose());

    // A weak password and a wrong code are both named, and nothing is enrolled.
    let Err(CoreError::Invalid(errors)) = t
        .app
        .enrol_staff(token.expose(), &pw("short1!"), "000000")
        .await
    else {
        panic!("weak password and wrong code accepted")
    };
    let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["password", "code"]);
    let accounts = t.app.staff_accounts().await.unwrap();
    assert!(accounts[0].enrolled_at.is_none());

    let code = code_at(e.secret.expose(), t.clock.now()).unwrap();
    let codes = t
        .app
        .enrol_staff(token.expose(), &pw(PASSWORD), &code)
        .await
        .unwrap();
    assert_eq!(codes.len(), RECOVERY_CODES);
    assert_eq!(t.app.staff_recovery_left("kim.officer").await.unwrap(), 10);

    // The password alone is not enough; nor is a code without the password.
    let secret = e.secret.expose().to_owned();
    let code = next_code(&t, &secret);
    assert!(matches!(
        t.app
            .staff_login(None, "kim.officer", &pw(PASSWORD), "")
            .await,
        Err(CoreError::BadCredentials)
    ));
    assert!(matches!(
        t.app
            .staff_login(None, "kim.officer", &pw("Wrong-Password-1"), &code)
            .await,
        Err(CoreError::BadCredentials)
    ));
    let s = t
        .app
        .staff_login(None, "KIM.OFFICER", &pw(PASSWORD), &code)
        .await
        .unwrap();
    assert!(s.token.expose().starts_with("jks_"));
    assert_eq!(s.role, Role::Officer);
    let live = t
        .app
        .staff_session(s.token.expose())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(live.name, "kim.officer");
    // A staff token is not a member's, and a member's is not staff's.
    assert!(t.app.session(s.token.expose()).await.unwrap().is_none());
    assert!(t.app.staff_session("jks_nothing").await.unwrap().is_none());

    t.app.staff_logout(&live).await.unwrap();
    assert!(
        t.app
            .staff_session(s.token.expose())
            .await
            .unwrap()
            .is_none()
    );

    // The secret is sealed: neither it nor the password is in any file.
    assert!(t.find_bytes(secret.as_bytes()).await.is_none());
    assert!(t.find_bytes(PASSWORD.as_bytes()).await.is_none());

    // The audit chain has the enrolment, the refused logins, the login and the logout, each
    // under the staff account.
    let rows = t.app.store().audit_rows(0, 1000).await.unwrap();
    let mine: Vec<_> = rows
        .iter()
        .filter(|r| r.actor == "staff:kim.officer")
        .map(|r| (r.action.as_str(), r.outcome.as_str()))
        .collect();
    assert_eq!(
        mine,
        [
            ("staff.enrol", "ok"),
            ("staff.login", "refused"),
            ("staff.login", "refused"),
            ("staff.login", "ok"),
            ("staff.logout", "ok"),
        ]
    );
    assert!(
        rows.iter()
            .any(|r| r.actor == "cli" && r.action == "staff.add")
    );
    t.app.verify_audit().await.unwrap();
}

async fn an_enrolment_link_is_used_once_and_expires(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    let (secret, _) = enrolled(&t, "lee.manager", Role::Manager).await;
    assert!(!secret.is_empty());
    // A second account's link expires after 72 hours.
    let token = t
        .app
        .add_staff(&Actor::Cli, "park.handler", Role::Handler)
        .await
        .unwrap();
    t.clock.advance(Duration::hours(72));
    assert!(matches!(
        t.app.staff_enrolment(token.expose()).await,
        Err(CoreError::NotFound(_))
    ));
    // The same name cannot be added twice.
    let Err(CoreError::Invalid(e)) = t
        .app
        .add_staff(&Actor::Cli, "lee.manager", Role::Auditor)
        .await
    else {
        panic!("a taken name was added again")
    };
    assert_eq!(e[0].code, "staff.name_taken");
    // A reset gives a new link (a lost phone); the old secret no longer logs in.
    let token = t
        .app
        .reset_staff(&Actor::Cli, "park.handler")
        .await
        .unwrap();
    let e = t.app.staff_enrolment(token.expose()).await.unwrap();
    let code = code_at(e.secret.expose(), t.clock.now()).unwrap();
    t.app
        .enrol_staff(token.expose(), &pw(PASSWORD), &code)
        .await
        .unwrap();
    // Used: the link opens nothing any more.
    assert!(matches!(
        t.app.staff_enrolment(token.expose()).await,
        Err(CoreError::NotFound(_))
    ));
}

async fn wrong_codes_count_as_failed_logins_and_lock_the_client_out(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    let (secret, _) = enrolled(&t, "kim.officer", Role::Officer).await;
    let here = Some("198.51.100.7".parse().unwrap());
    let there = Some("203.0.113.9".parse().unwrap());
    // R-ACC-04: five wrong codes (the right password) lock this client out of the account…
    for _ in 0..4 {
        assert!(matches!(
            t.app
                .staff_login(here, "kim.officer", &pw(PASSWORD), "123456")
                .await,
            Err(CoreError::BadCredentials)
        ));
    }
    assert!(matches!(
        t.app
            .staff_login(here, "kim.officer", &pw(PASSWORD), "123456")
            .await,
        Err(CoreError::TooManyAttempts { .. })
    ));
    let code = next_code(&t, &secret);
    assert!(matches!(
        t.app
            .staff_login(here, "kim.officer", &pw(PASSWORD), &code)
            .await,
        Err(CoreError::TooManyAttempts { .. })
    ));
    // …not from elsewhere, and after the lock it logs in from here again.
    t.app
        .staff_login(there, "kim.officer", &pw(PASSWORD), &code)
        .await
        .unwrap();
    t.clock.advance(Duration::minutes(15));
    let code = next_code(&t, &secret);
    t.app
        .staff_login(here, "kim.officer", &pw(PASSWORD), &code)
        .await
        .unwrap();
    // An unknown name gets the same answer as a wrong password.
    assert!(matches!(
        t.app
            .staff_login(here, "nobody", &pw(PASSWORD), &code)
            .await,
        Err(CoreError::BadCredentials)
    ));
}

async fn a_code_is_taken_once_and_a_recovery_code_once(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    let (secret, codes) = enrolled(&t, "kim.officer", Role::Officer).await;
    let code = next_code(&t, &secret);
    t.app
        .staff_login(None, "kim.officer", &pw(PASSWORD), &code)
        .await
        .unwrap();
    // The same code again (someone who saw it) is refused.
    assert!(matches!(
        t.app
            .staff_login(None, "kim.officer", &pw(PASSWORD), &code)
            .await,
        Err(CoreError::BadCredentials)
    ));
    // A recovery code instead of the authenticator, typed loosely, works once.
    let loose = codes[0].expose().to_uppercase().replace('-', " ");
    t.app
        .staff_login(None, "kim.officer", &pw(PASSWORD), &loose)
        .await
        .unwrap();
    assert!(matches!(
        t.app
            .staff_login(None, "kim.officer", &pw(PASSWORD), codes[0].expose())
            .await,
        Err(CoreError::BadCredentials)
    ));
    assert_eq!(t.app.staff_recovery_left("kim.officer").await.unwrap(), 9);
}

async fn staff_sessions_end_when_idle_and_at_their_absolute_limit(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    let (secret, _) = enrolled(&t, "kim.officer", Role::Officer).await;
    // R-ACC-09: 14 minutes apart keeps it, 15 ends it.
    let code = next_code(&t, &secret);
    let s = t
        .app
        .staff_login(None, "kim.officer", &pw(PASSWORD), &code)
        .await
        .unwrap();
    t.clock.advance(Duration::minutes(14));
    assert!(
        t.app
            .staff_session(s.token.expose())
            .await
            .unwrap()
            .is_some()
    );
    t.clock.advance(Duration::minutes(15));
    assert!(
        t.app
            .staff_session(s.token.expose())
            .await
            .unwrap()
            .is_none()
    );
    // Used every 10 minutes, it still ends 8 hours after login.
    let code = next_code(&t, &secret);
    let s = t
        .app
        .staff_login(None, "kim.officer", &pw(PASSWORD), &code)
        .await
        .unwrap();
    for _ in 0..47 {
        t.clock.advance(Duration::minutes(10));
        assert!(
            t.app
                .staff_session(s.token.expose())
                .await
                .unwrap()
                .is_some()
        );
    }
    t.clock.advance(Duration::minutes(10));
    assert!(
        t.app
            .staff_session(s.token.expose())
            .await
            .unwrap()
            .is_none()
    );
}

async fn roles_give_only_their_powers_and_changes_take_effect_at_once(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    let (officer_secret, _) = enrolled(&t, "kim.officer", Role::Officer).await;
    let (secret, _) = enrolled(&t, "choi.audit", Role::Auditor).await;
    let code = next_code(&t, &secret);
    let s = t
        .app
        .staff_login(None, "choi.audit", &pw(PASSWORD), &code)
        .await
        .unwrap();
    let live = t
        .app
        .staff_session(s.token.expose())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        live.require(Power::MemberData),
        Err(CoreError::Forbidden(_))
    ));
    live.require(Power::AccessReview).unwrap();
    // An auditor cannot manage staff; an officer can, but not their own account.
    let auditor = live.actor();
    assert!(matches!(
        t.app.add_staff(&auditor, "x.handler", Role::Handler).await,
        Err(CoreError::Forbidden(_))
    ));
    let code = next_code(&t, &officer_secret);
    let o = t
        .app
        .staff_login(None, "kim.officer", &pw(PASSWORD), &code)
        .await
        .unwrap();
    let officer = t
        .app
        .staff_session(o.token.expose())
        .await
        .unwrap()
        .unwrap()
        .actor();
    assert!(matches!(
        t.app.disable_staff(&officer, "kim.officer").await,
        Err(CoreError::Conflict(_))
    ));
    // Made a handler, the auditor's live session has the handler's powers on its next request.
    t.app
        .set_staff_role(&officer, "choi.audit", Role::Handler)
        .await
        .unwrap();
    let live = t
        .app
        .staff_session(s.token.expose())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(live.role, Role::Handler);
    live.require(Power::MemberData).unwrap();
    // Its office API token carries the role it has now.
    let (api, _) = t
        .app
        .create_office_token(&Actor::Cli, "choi.audit", 30)
        .await
        .unwrap();
    let by_token = t.app.office_staff(api.expose()).await.unwrap().unwrap();
    assert_eq!(
        (by_token.name.as_str(), by_token.role),
        ("choi.audit", Role::Handler)
    );
    // Revoked, its session ends at once, its API token opens nothing, and it logs in no more.
    t.app.disable_staff(&officer, "choi.audit").await.unwrap();
    assert!(t.app.office_staff(api.expose()).await.unwrap().is_none());
    assert!(matches!(
        t.app
            .create_office_token(&Actor::Cli, "choi.audit", 30)
            .await,
        Err(CoreError::Invalid(_))
    ));
    assert!(
        t.app
            .staff_session(s.token.expose())
            .await
            .unwrap()
            .is_none()
    );
    let code = next_code(&t, &secret);
    assert!(matches!(
        t.app
            .staff_login(None, "choi.audit", &pw(PASSWORD), &code)
            .await,
        Err(CoreError::BadCredentials)
    ));
}

async fn every_grant_change_and_revocation_is_recorded_with_who_and_when(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    let start = t.clock.now();
    enrolled(&t, "kim.officer", Role::Officer).await;
    t.app
        .add_staff(&Actor::Cli, "park.handler", Role::Handler)
        .await
        .unwrap();
    t.clock.advance(Duration::days(1));
    t.app
        .set_staff_role(&Actor::Cli, "park.handler", Role::Manager)
        .await
        .unwrap();
    t.clock.advance(Duration::days(1));
    t.app
        .disable_staff(&Actor::Cli, "park.handler")
        .await
        .unwrap();
    // R-ACC-02: grant, change, revocation, with who and when; the revoked account stays listed.
    let grants: Vec<_> = t
        .app
        .staff_grants()
        .await
        .unwrap()
        .into_iter()
        .map(|g| (g.name, g.change, g.role, g.actor, (g.at - start).num_days()))
        .collect();
    let row = |n: &str, c: &str, r: &str, d: i64| (n.into(), c.into(), r.into(), "cli".into(), d);
    assert_eq!(
        grants,
        [
            row("kim.officer", "grant", "officer", 0),
            row("park.handler", "grant", "handler", 0),
            row("park.handler", "role", "manager", 1),
            row("park.handler", "revoke", "manager", 2),
        ]
    );
    let accounts = t.app.staff_accounts().await.unwrap();
    let park = accounts.iter().find(|a| a.name == "park.handler").unwrap();
    assert!(park.disabled_at.is_some());
    // Nothing changes a revoked account any more.
    assert!(matches!(
        t.app
            .set_staff_role(&Actor::Cli, "park.handler", Role::Officer)
            .await,
        Err(CoreError::NotFound(_))
    ));
}

/// Password spraying against the office: the members' per-client limit on logins (60 in ten
/// minutes, whatever the name) holds for staff logins too; other clients are not affected.
async fn one_client_trying_many_staff_names_is_limited(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    let (secret, _) = enrolled(&t, "kim.officer", Role::Officer).await;
    let sprayer = Some("198.51.100.66".parse().unwrap());
    for i in 0..60 {
        let r = t
            .app
            .staff_login(sprayer, &format!("guess{i}"), &pw(PASSWORD), "123456")
            .await;
        assert!(matches!(r, Err(CoreError::BadCredentials)), "{i}: {r:?}");
    }
    let code = next_code(&t, &secret);
    let r = t
        .app
        .staff_login(sprayer, "kim.officer", &pw(PASSWORD), &code)
        .await;
    assert!(
        matches!(
            r,
            Err(CoreError::RateLimited {
                action: jikimi_core::Action::Login,
                ..
            })
        ),
        "{r:?}"
    );
    t.app
        .staff_login(
            Some("203.0.113.9".parse().unwrap()),
            "kim.officer",
            &pw(PASSWORD),
            &code,
        )
        .await
        .unwrap();
}

/// R-ACC-05: a staff member changes their own password: the current one checked, the new one
/// under the staff rule and different; the old one no longer logs in; other sessions end, this one
/// stays.
async fn a_staff_member_changes_their_own_password(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    let (secret, _) = enrolled(&t, "kim.officer", Role::Officer).await;
    let login = |code: String, password: &'static str| {
        let app = t.app.clone();
        async move {
            app.staff_login(None, "kim.officer", &pw(password), &code)
                .await
        }
    };
    let one = login(next_code(&t, &secret), PASSWORD).await.unwrap();
    let two = login(next_code(&t, &secret), PASSWORD).await.unwrap();
    let me = t
        .app
        .staff_session(one.token.expose())
        .await
        .unwrap()
        .unwrap();
    let new = "Harbor-Lantern-7731";
    // A wrong current password is refused, and counted.
    assert!(matches!(
        t.app
            .change_staff_password(&me, None, &pw("Wrong-Password-1"), &pw(new))
            .await,
        Err(CoreError::BadCredentials)
    ));
    // A weak or unchanged new password is named.
    let Err(CoreError::Invalid(e)) = t
        .app
        .change_staff_password(&me, None, &pw(PASSWORD), &pw("short"))
        .await
    else {
        panic!("a weak password taken")
    };
    assert_eq!(e[0].field, "new_password");
    let Err(CoreError::Invalid(e)) = t
        .app
        .change_staff_password(&me, None, &pw(PASSWORD), &pw(PASSWORD))
        .await
    else {
        panic!("the same password taken")
    };
    assert_eq!(e.last().unwrap().code, "password.same");
    t.app
        .change_staff_password(&me, None, &pw(PASSWORD), &pw(new))
        .await
        .unwrap();
    // This session stays; the other one ended.
    assert!(
        t.app
            .staff_session(one.token.expose())
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        t.app
            .staff_session(two.token.expose())
            .await
            .unwrap()
            .is_none()
    );
    // The old password no longer logs in; the new one does.
    assert!(matches!(
        login(next_code(&t, &secret), PASSWORD).await,
        Err(CoreError::BadCredentials)
    ));
    assert!(
        login(next_code(&t, &secret), "Harbor-Lantern-7731")
            .await
            .is_ok()
    );
    assert!(t.find_bytes(new.as_bytes()).await.is_none());
    let rows = t.app.store().audit_rows(0, 1000).await.unwrap();
    let changes: Vec<_> = rows
        .iter()
        .filter(|r| r.action == "staff.password")
        .map(|r| r.outcome.as_str())
        .collect();
    assert_eq!(changes, ["refused", "ok"]);
}
