//! The privacy office's console in a real browser (issue 13): a staff member enrols with an
//! authenticator (the test computes the TOTP code from the secret the page shows), logs in with
//! both factors, is logged out when idle (injected clock), and each role opens only its pages.
//! Every page is checked at 1280 and 390 px (fit, axe) with screenshots.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use anyhow::{Context, ensure};
use chrono::Duration;
use fantoccini::Locator;
use jikimi_core::staff::{Role, code_at};
use jikimi_core::{Actor, Clock};
use jikimi_testkit::Backend;
use support::steps::{
    STAFF_PASSWORD as PASSWORD, click, enrolled, fill, login, next_code, office_login, wait_path,
};

jikimi_testkit::backend_tests!(
    a_staff_member_enrols_logs_in_with_two_factors_and_is_logged_out_when_idle,
    each_role_opens_only_its_pages_and_the_seed_console_warns_about_rrns,
    the_console_opens_only_from_the_allowed_addresses,
    a_member_asks_for_a_correction_and_a_handler_makes_it,
    a_complaint_from_the_public_form_is_answered_and_kept,
    a_manager_reads_with_a_reason_stops_processing_and_withdraws_on_requests,
    an_auditor_reviews_the_month_and_signs_it_off,
    the_dashboard_lists_mail_that_did_not_go_out,
);

async fn heading(s: &support::Session) -> anyhow::Result<String> {
    s.text_of("h1").await
}

async fn a_staff_member_enrols_logs_in_with_two_factors_and_is_logged_out_when_idle(b: Backend) {
    support::run("office_enrol_login_idle", b, async |s| {
        let token = s
            .site
            .app
            .add_staff(&Actor::Cli, "kim.officer", Role::Officer)
            .await?;
        let enrol = format!("/office/enrol/{}", token.expose());
        s.goto(&enrol).await?;
        ensure!(heading(s).await? == "직원 계정 등록");
        ensure!(
            s.text_of("#enrol-who")
                .await?
                .contains("개인정보 보호책임자")
        );
        s.visible(Locator::Css("#totp-qr svg"))
            .await
            .context("the QR code")?;
        let secret: String = s
            .text_of("#totp-secret")
            .await?
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        ensure!(secret.len() == 32, "a 160-bit base32 secret: {secret:?}");
        s.check_page("enrol").await?;

        // A weak password and a wrong code: both named, on the same page, after a reload too.
        fill(s, "#password", "short1!").await?;
        fill(s, "#password_confirm", "short1!").await?;
        fill(s, "#code", "000000").await?;
        s.submit("#do-enrol").await?;
        let errors = s.text_of("#errors").await?;
        ensure!(
            errors.contains("12자 이상") && errors.contains("6자리 코드"),
            "both errors named: {errors:?}"
        );
        s.client().refresh().await?;
        ensure!(s.text_of("#errors").await?.contains("6자리 코드"));
        s.screenshot("enrol-errors").await?;
        // The language switch keeps the page and its secret.
        s.submit("#lang-switch").await?;
        ensure!(heading(s).await? == "Staff account enrolment");
        let again: String = s
            .text_of("#totp-secret")
            .await?
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        ensure!(again == secret, "the same secret after the switch");
        s.submit("#lang-switch").await?;
        // Passwords that differ are named too.
        fill(s, "#password", PASSWORD).await?;
        fill(s, "#password_confirm", "Kestrel-Orbit-2025").await?;
        fill(s, "#code", &code_at(&secret, s.site.clock.now())?).await?;
        s.submit("#do-enrol").await?;
        ensure!(s.text_of("#errors").await?.contains("비밀번호 확인"));

        fill(s, "#password", PASSWORD).await?;
        fill(s, "#password_confirm", PASSWORD).await?;
        fill(s, "#code", &code_at(&secret, s.site.clock.now())?).await?;
        s.submit("#do-enrol").await?;
        ensure!(heading(s).await? == "등록을 마쳤습니다");
        let codes = s.text_of("#recovery-codes").await?;
        ensure!(codes.lines().count() == 10, "ten recovery codes: {codes:?}");
        s.check_page("recovery").await?;
        // Back to the link: used, it opens nothing.
        s.client().back().await?;
        s.client().refresh().await?;
        ensure!(heading(s).await? == "쓸 수 없는 등록 링크입니다");

        // The console asks for a login; a wrong code is refused with a message.
        s.goto("/office").await?;
        wait_path(s, "/office/login").await?;
        s.check_page("login").await?;
        office_login(s, "kim.officer", "123456").await?;
        let err = s.text_of("#login-error").await?;
        ensure!(err.contains("인증 코드"), "{err:?}");
        ensure!(
            s.client()
                .find(Locator::Css("#name"))
                .await?
                .prop("value")
                .await?
                .as_deref()
                == Some("kim.officer"),
            "the name is kept"
        );
        // The right code logs in.
        office_login(s, "kim.officer", &next_code(s, &secret)).await?;
        wait_path(s, "/office").await?;
        ensure!(s.text_of("#staff-who").await?.contains("kim.officer"));
        let powers = s.text_of("#powers").await?;
        ensure!(powers.contains("직원 계정과 권한 관리"), "{powers:?}");
        ensure!(
            s.client()
                .find_all(Locator::Css("#rrn-warning"))
                .await?
                .is_empty(),
            "lifeplan collects no RRN: no warning"
        );
        s.check_page("home").await?;
        ensure!(
            s.cookies_set().contains("jikimi_office"),
            "the staff cookie is its own"
        );

        // The officer adds a handler: the link is shown once, the account listed.
        click(s, "#to-staff").await?;
        wait_path(s, "/office/staff").await?;
        fill(s, "#new-name", "Park.Handler").await?;
        let role = s.visible(Locator::Css("#new-role")).await?;
        ensure!(
            role.prop("value").await?.as_deref() == Some("handler"),
            "the narrowest role working on requests is chosen first"
        );
        s.submit("#do-add").await?;
        let link = s.text_of("#enrol-link").await?;
        ensure!(link.contains("/office/enrol/jke_"), "{link:?}");
        ensure!(s.text_of("#staff-accounts").await?.contains("park.handler"));
        let grants = s.text_of("#staff-grants").await?;
        ensure!(
            grants.contains("kim.officer") && grants.contains("운영자 (명령줄)"),
            "who granted: {grants:?}"
        );
        s.check_page("staff").await?;
        // Lost phone: the officer sends the handler back to enrolment with a new link.
        s.submit("#reset-park\\.handler").await?;
        let again = s.text_of("#enrol-link").await?;
        ensure!(
            again.contains("/office/enrol/jke_") && again != link,
            "a new link: {again:?}"
        );
        // Revoking asks once more (it cannot be undone); cancel keeps the account.
        click(s, "#revoke-park\\.handler").await?;
        ensure!(
            s.text_of("#confirm-question")
                .await?
                .contains("되돌릴 수 없습니다")
        );
        s.check_page("revoke-confirm").await?;
        click(s, "#cancel").await?;
        wait_path(s, "/office/staff").await?;
        ensure!(s.text_of("#staff-accounts").await?.contains("등록 대기"));
        click(s, "#revoke-park\\.handler").await?;
        s.submit("#do-confirm").await?;
        ensure!(s.text_of("#notice").await?.contains("말소했습니다"));
        ensure!(s.text_of("#staff-accounts").await?.contains("권한 말소"));
        // A taken name is named as such.
        fill(s, "#new-name", "park.handler").await?;
        s.submit("#do-add").await?;
        ensure!(s.text_of("#errors").await?.contains("이미 있는"));

        // Idle for 15 minutes: the next request finds the session over and says so.
        s.site.clock.advance(Duration::minutes(15));
        s.goto("/office").await?;
        wait_path(s, "/office/login").await?;
        let notice = s.text_of("#notice").await?;
        ensure!(notice.contains("자동으로 로그아웃"), "{notice:?}");
        s.screenshot("idle-logout").await?;

        // Logged in again, the logout button ends the session.
        office_login(s, "kim.officer", &next_code(s, &secret)).await?;
        wait_path(s, "/office").await?;
        click(s, "#office-logout").await?;
        wait_path(s, "/office/login").await?;
        ensure!(s.text_of("#notice").await?.contains("로그아웃했습니다"));
        s.goto("/office/staff").await?;
        wait_path(s, "/office/login").await?;

        // Every step is in the audit chain under the staff account.
        let rows = s.site.app.store().audit_rows(0, 1000).await?;
        let actions: Vec<_> = rows
            .iter()
            .filter(|r| r.actor == "staff:kim.officer")
            .map(|r| r.action.as_str())
            .collect();
        for a in ["staff.enrol", "staff.login", "staff.add", "staff.logout"] {
            ensure!(actions.contains(&a), "{a} audited: {actions:?}");
        }
        Ok(())
    })
    .await;
}

async fn each_role_opens_only_its_pages_and_the_seed_console_warns_about_rrns(b: Backend) {
    support::run_with("office_roles", "lifeplan-seed", b, async |s| {
        let handler = enrolled(s, "park.handler", Role::Handler).await;
        let auditor = enrolled(s, "choi.audit", Role::Auditor).await;
        let manager = enrolled(s, "lee.manager", Role::Manager).await;
        // A member who left: a contract record is kept, and the destruction is on record.
        let p = jikimi_testkit::person(640);
        let id = s.site.app.sign_up(jikimi_testkit::seed_signup(&p)).await?;
        s.site.app.withdraw(&Actor::Member(id), id, "test").await?;
        office_login(s, "park.handler", &next_code(s, &handler)).await?;
        wait_path(s, "/office").await?;
        // The seed collects RRNs: the console says so on every page (PIPA Art. 24-2).
        let warning = s.text_of("#rrn-warning").await?;
        ensure!(warning.contains("제24조의2"), "{warning:?}");
        let powers = s.text_of("#powers").await?;
        ensure!(
            powers.contains("배정된 요구") && !powers.contains("직원 계정"),
            "{powers:?}"
        );
        ensure!(
            s.client()
                .find_all(Locator::Css("#to-staff"))
                .await?
                .is_empty(),
            "no way to staff management"
        );
        // A handler cannot manage staff nor see the destruction report, even by typing the
        // address.
        s.goto("/office/staff").await?;
        ensure!(heading(s).await? == "이 역할로는 열 수 없는 화면입니다");
        s.check_page("forbidden").await?;
        s.goto("/office/destructions").await?;
        ensure!(heading(s).await? == "이 역할로는 열 수 없는 화면입니다");
        // Nor the breach register (the officer and managers keep it).
        s.goto("/office/breaches").await?;
        ensure!(heading(s).await? == "이 역할로는 열 수 없는 화면입니다");
        click(s, "#office-logout").await?;
        wait_path(s, "/office/login").await?;

        // An auditor reads no member data: it is not among its powers.
        office_login(s, "choi.audit", &next_code(s, &auditor)).await?;
        wait_path(s, "/office").await?;
        let powers = s.text_of("#powers").await?;
        ensure!(
            powers.contains("접속기록 점검") && !powers.contains("회원 정보 조회"),
            "{powers:?}"
        );
        // The auditor reads the destruction report and the kept records, but holds nothing.
        click(s, "#to-destructions").await?;
        wait_path(s, "/office/destructions").await?;
        let report = s.text_of("#destructions").await?;
        ensure!(
            report.contains("회원 탈퇴")
                && report.contains("탈퇴할 때까지")
                && report.contains("암호키 파기"),
            "{report:?}"
        );
        for v in jikimi_testkit::personal_values(&p) {
            ensure!(!report.contains(&v), "a personal value in the report");
        }
        s.check_page("destructions").await?;
        s.goto("/office/retained").await?;
        let listed = s
            .client()
            .find_all(Locator::Css("#retained tbody tr"))
            .await?
            .len();
        ensure!(
            listed == 1,
            "the member's contract record is listed: {listed}"
        );
        ensure!(
            s.client()
                .find_all(Locator::Css("#retained form"))
                .await?
                .is_empty(),
            "no hold for an auditor"
        );
        s.goto("/office").await?;
        s.submit("#lang-switch").await?;
        ensure!(heading(s).await? == "Office home");
        ensure!(s.text_of("#rrn-warning").await?.contains("Art. 24-2"));
        s.check_page("auditor-en").await?;
        s.submit("#lang-switch").await?;
        click(s, "#office-logout").await?;
        wait_path(s, "/office/login").await?;

        // A manager places a legal hold with a reason, then lifts it.
        office_login(s, "lee.manager", &next_code(s, &manager)).await?;
        wait_path(s, "/office").await?;
        s.goto("/office/retained").await?;
        let record = s
            .visible(Locator::Css("#retained tbody tr"))
            .await?
            .attr("data-id")
            .await?
            .context("a record id")?;
        // A blank reason is refused, naming the field.
        let reason = format!("#reason-{record}");
        fill(s, &reason, "   ").await?;
        click(s, &format!("#hold-{record}")).await?;
        ensure!(
            s.text_of("#errors").await?.contains("사유"),
            "the reason is named"
        );
        fill(s, &reason, "소비자 분쟁 조정 중 (사건 2026-17)").await?;
        s.submit(&format!("#hold-{record}")).await?;
        ensure!(s.text_of("#notice").await?.contains("보존 조치를 했습니다"));
        ensure!(s.text_of("#retained").await?.contains("lee.manager"));
        s.check_page("retained-held").await?;
        s.submit(&format!("#release-{record}")).await?;
        ensure!(s.text_of("#notice").await?.contains("해제했습니다"));
        let rows = s.site.app.store().audit_rows(0, 1000).await?;
        for action in [
            "office.retained.list",
            "retention.hold",
            "retention.release",
        ] {
            ensure!(
                rows.iter()
                    .any(|r| r.action == action && r.actor == "staff:lee.manager"),
                "{action} under the manager"
            );
        }
        Ok(())
    })
    .await;
}

/// R-ACC-06: with `--office-allow`, the console and the office API answer only those addresses;
/// member pages are not affected. The browser connects from 127.0.0.1.
async fn the_console_opens_only_from_the_allowed_addresses(b: Backend) {
    support::run_with_office_allow("office_outside", b, &["10.0.0.0/8"], async |s| {
        let secret = enrolled(s, "kim.officer", Role::Officer).await;
        s.goto("/office/login").await?;
        ensure!(heading(s).await? == "이 주소에서는 직원 화면을 열 수 없습니다");
        ensure!(
            s.client()
                .find_all(Locator::Css("#password"))
                .await?
                .is_empty(),
            "no login form"
        );
        s.check_page("outside").await?;
        // Not by posting the form either, nor through the office API.
        let body = format!(
            "name=kim.officer&password={PASSWORD}&code={}",
            next_code(s, &secret)
        );
        let status = raw_status(s, "POST", "/office/login", &body).await?;
        ensure!(status == 403, "the login POST: {status}");
        ensure!(
            !s.site
                .app
                .store()
                .audit_rows(0, 1000)
                .await?
                .iter()
                .any(|r| r.action == "staff.login"),
            "no login was even tried"
        );
        let status = raw_status(s, "GET", "/api/v1/office/destructions", "").await?;
        ensure!(status == 403, "the office API: {status}");
        // Member pages are not affected.
        s.goto("/login").await?;
        ensure!(heading(s).await? == "로그인");
        Ok(())
    })
    .await;
}

/// The status of one plain HTTP/1.1 request to the test server (from 127.0.0.1, like the
/// browser), a form body if any.
async fn raw_status(
    s: &support::Session,
    method: &str,
    path: &str,
    body: &str,
) -> anyhow::Result<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = s.base_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let text = String::from_utf8_lossy(&answer);
    text.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .with_context(|| format!("no status line in {:?}", text.lines().next()))
}

/// Chooses `value` in the select `css`.
async fn choose(s: &support::Session, css: &str, value: &str) -> anyhow::Result<()> {
    s.visible(Locator::Css(css))
        .await?
        .select_by_value(value)
        .await
        .with_context(|| format!("choosing {value} in {css}"))?;
    Ok(())
}

async fn office_logout(s: &support::Session) -> anyhow::Result<()> {
    s.goto("/office").await?;
    click(s, "#office-logout").await?;
    wait_path(s, "/office/login").await
}

/// Issue 13's path through a correction request: a member files it on My page (a wrong value
/// named first, after a reload and the language switch too) → the item is held → a manager
/// assigns it → the handler corrects it → the member sees the answer. Then a request left open
/// shows red on day 11 (injected clock), and the handler cannot open staff management.
async fn a_member_asks_for_a_correction_and_a_handler_makes_it(b: Backend) {
    support::run("office_requests_correction", b, async |s| {
        let manager = enrolled(s, "lee.manager", Role::Manager).await;
        let handler = enrolled(s, "park.handler", Role::Handler).await;
        let p = jikimi_testkit::person(31);
        let member = s
            .site
            .app
            .sign_up(jikimi_testkit::lifeplan_signup(&p))
            .await?;
        login(s, &p).await?;
        click(s, "#requests").await?;
        wait_path(s, "/mypage/requests").await?;
        ensure!(heading(s).await? == "권리 행사 요청");
        s.visible(Locator::Css("#no-requests")).await?;
        s.check_page("member-requests").await?;

        // Nothing chosen: the kind is named.
        s.submit("#send-request").await?;
        ensure!(s.text_of("#errors").await?.contains("요청의 종류"));
        // A wanted e-mail that is no address: named, kept, after a reload and in English too.
        click(s, "#kind-correction").await?;
        choose(s, "#item", "email").await?;
        fill(s, "#value", "not-an-address").await?;
        s.submit("#send-request").await?;
        let errors = s.text_of("#errors").await?;
        ensure!(errors.contains("전자우편"), "the item named: {errors:?}");
        s.client().refresh().await?;
        ensure!(s.text_of("#errors").await?.contains("전자우편"));
        let kept = s
            .visible(Locator::Css("#value"))
            .await?
            .prop("value")
            .await?;
        ensure!(kept.as_deref() == Some("not-an-address"), "{kept:?}");
        ensure!(
            s.site
                .app
                .items_held_for_correction(member)
                .await?
                .is_empty(),
            "a refused request holds nothing"
        );
        s.screenshot("member-request-error").await?;
        s.submit("#lang-switch").await?;
        ensure!(heading(s).await? == "Requests about your data");
        s.submit("#lang-switch").await?;

        let new_address = "대구광역시 중구 지킴로 3";
        click(s, "#kind-correction").await?;
        choose(s, "#item", "address").await?;
        fill(s, "#value", new_address).await?;
        fill(s, "#text", "이사했습니다").await?;
        s.submit("#send-request").await?;
        let notice = s.text_of("#notice").await?;
        ensure!(notice.contains("까지 답해 드립니다"), "{notice:?}");
        ensure!(s.site.app.items_held_for_correction(member).await? == ["address"]);
        let mine = s.text_of("#my-requests").await?;
        ensure!(
            mine.contains("정정·삭제") && mine.contains("접수") && mine.contains(new_address),
            "{mine:?}"
        );
        s.check_page("member-request-filed").await?;

        // The manager sees it due, opens it and assigns it to the handler.
        office_login(s, "lee.manager", &next_code(s, &manager)).await?;
        wait_path(s, "/office").await?;
        s.submit("#to-requests").await?;
        let open = s.text_of("#open-requests").await?;
        ensure!(
            open.contains("정정·삭제") && open.contains("10일 남음"),
            "{open:?}"
        );
        s.check_page("office-requests").await?;
        s.submit("#open-requests a").await?;
        let content = s.text_of("#request-content").await?;
        ensure!(content.contains(new_address) && content.contains("이사했습니다"));
        s.check_page("office-request").await?;
        choose(s, "#assignee", "park.handler").await?;
        s.submit("#assign").await?;
        ensure!(s.text_of("#notice").await?.contains("배정했습니다"));
        ensure!(s.text_of("#rq-assignee").await? == "park.handler");
        office_logout(s).await?;

        // The handler: their request is listed; staff management is not theirs.
        office_login(s, "park.handler", &next_code(s, &handler)).await?;
        wait_path(s, "/office").await?;
        s.goto("/office/staff").await?;
        ensure!(heading(s).await? == "이 역할로는 열 수 없는 화면입니다");
        s.goto("/office/requests").await?;
        ensure!(s.text_of("#open-requests").await?.contains("park.handler"));
        click(s, "#open-requests a").await?;
        s.submit("#correct").await?;
        ensure!(s.text_of("#notice").await?.contains("정정하고 답했습니다"));
        ensure!(s.text_of("#rq-state").await? == "답변 완료");
        ensure!(s.text_of("#history").await?.contains("정정하고 답변"));
        s.check_page("office-request-corrected").await?;
        ensure!(
            s.site
                .app
                .items_held_for_correction(member)
                .await?
                .is_empty(),
            "the hold is lifted"
        );
        let now = s.site.app.own_items(member, &["address"]).await?;
        ensure!(now["address"] == new_address, "corrected");

        // The member sees the answer.
        s.goto("/mypage/requests").await?;
        let mine = s.text_of("#my-requests").await?;
        ensure!(
            mine.contains("답변 완료") && mine.contains("정정했습니다"),
            "{mine:?}"
        );
        s.check_page("member-request-answered").await?;

        // An access request left open: on day 11 (KST) it is red and says by how much.
        click(s, "#kind-access").await?;
        s.submit("#send-request").await?;
        ensure!(s.text_of("#notice").await?.contains("까지 답해 드립니다"));
        office_logout(s).await?;
        s.site.clock.advance(Duration::days(11));
        office_login(s, "lee.manager", &next_code(s, &manager)).await?;
        wait_path(s, "/office").await?;
        s.goto("/office/requests").await?;
        let row = s.visible(Locator::Css("#open-requests tbody tr")).await?;
        ensure!(row.attr("class").await?.as_deref() == Some("overdue"));
        let text = row.text().await?;
        ensure!(
            text.contains("기한 1일 지남") || text.contains("기한 2일 지남"),
            "{text:?}"
        );
        s.check_page("office-requests-overdue").await?;
        // The dashboard: the overdue count in red, the nearest deadline, the weekly chart.
        s.goto("/office").await?;
        let overdue = s.visible(Locator::Css("#dash-overdue")).await?;
        ensure!(overdue.attr("class").await?.as_deref() == Some("bad"));
        ensure!(overdue.text().await?.contains('1'));
        ensure!(s.text_of("#dash-nearest").await?.contains("열람"));
        s.visible(Locator::Css("#weekly-chart")).await?;
        let bars = s
            .client()
            .find_all(Locator::Css("#weekly-chart rect"))
            .await?;
        ensure!(!bars.is_empty(), "the weeks with requests have bars");
        s.check_page("office-dashboard").await?;
        Ok(())
    })
    .await;
}

/// Issue 13's complaint path: anyone sends an opinion or complaint through the public form
/// (blank text and a bad phone number named first), is given a receipt number, a manager answers
/// it in the console, the record moves to the retention store (`complaint_records`), and the
/// sender reads the answer with the number.
async fn a_complaint_from_the_public_form_is_answered_and_kept(b: Backend) {
    support::run("office_complaint", b, async |s| {
        let manager = enrolled(s, "lee.manager", Role::Manager).await;
        s.goto("/").await?;
        click(s, "#complaints-link").await?;
        wait_path(s, "/complaints").await?;
        ensure!(heading(s).await? == "개인정보에 관한 의견·불만 접수");
        s.check_page("complaint-form").await?;
        fill(s, "#text", "   ").await?;
        fill(s, "#phone", "12").await?;
        s.submit("#send").await?;
        let errors = s.text_of("#errors").await?;
        ensure!(
            errors.contains("내용을 적어") && errors.contains("전화번호"),
            "{errors:?}"
        );
        s.screenshot("complaint-errors").await?;

        let text = "광고 문자 수신 거부가 되지 않습니다";
        fill(s, "#text", text).await?;
        fill(s, "#phone", "").await?;
        fill(s, "#name", "홍길동").await?;
        fill(s, "#email", "complainant@example.com").await?;
        click(s, "#send").await?;
        wait_path(s, "/complaints/status").await?;
        let notice = s.text_of("#notice").await?;
        let code = notice
            .split_whitespace()
            .find(|w| w.starts_with("JKC-"))
            .context("the receipt number in the notice")?
            .to_owned();
        ensure!(s.text_of("#cp-state").await? == "접수");
        s.check_page("complaint-received").await?;

        // The manager answers it.
        office_login(s, "lee.manager", &next_code(s, &manager)).await?;
        wait_path(s, "/office").await?;
        s.goto("/office/requests").await?;
        ensure!(s.text_of("#open-requests").await?.contains("의견·불만"));
        s.submit("#open-requests a").await?;
        let content = s.text_of("#request-content").await?;
        ensure!(content.contains(text) && content.contains("complainant@example.com"));
        // A complaint is answered, never refused: there is no refusal form.
        ensure!(s.client().find(Locator::Css("#refuse")).await.is_err());
        // An empty answer is named.
        s.submit("#answer-button").await?;
        ensure!(s.text_of("#errors").await?.contains("답변을 적어"));
        let answer = "수신 거부를 처리했습니다. 불편을 드려 죄송합니다.";
        fill(s, "#answer-text", answer).await?;
        s.submit("#answer-button").await?;
        ensure!(s.text_of("#notice").await?.contains("답하고 마쳤습니다"));
        // The ticket keeps no content: its record is in the retention store now.
        s.visible(Locator::Css("#content-gone")).await?;
        s.check_page("office-complaint-answered").await?;
        let records = s.site.app.retained_records(None, 100).await?;
        ensure!(
            records.iter().any(|r| r.class == "complaint_records"),
            "the complaint record is kept"
        );

        // The sender: a wrong number finds nothing; theirs shows the answer.
        s.goto("/complaints/status").await?;
        fill(s, "#code", "JKC-0000-0000-0000-0000").await?;
        s.submit("#check").await?;
        ensure!(s.text_of("#errors").await?.contains("접수번호"));
        fill(s, "#code", &code.to_lowercase()).await?;
        click(s, "#check").await?;
        ensure!(
            s.text_of("#cp-answer")
                .await?
                .contains("수신 거부를 처리했습니다")
        );
        ensure!(s.text_of("#cp-text").await?.contains(text));
        ensure!(s.text_of("#cp-kept").await?.contains("보관한 뒤 파기"));
        s.check_page("complaint-answered").await?;
        s.submit("#lang-switch").await?;
        ensure!(s.text_of("#cp-state").await? == "Answered");
        Ok(())
    })
    .await;
}

/// Acting for a member (issue 13): the member asks on My page to stop processing for a purpose
/// and to leave; a manager reads the member's data with a reason (a blank one named), stops the
/// processing, and withdraws the member after the confirmation, getting the receipt to pass on.
async fn a_manager_reads_with_a_reason_stops_processing_and_withdraws_on_requests(b: Backend) {
    support::run("office_act_for_member", b, async |s| {
        let manager = enrolled(s, "lee.manager", Role::Manager).await;
        let p = jikimi_testkit::person(32);
        let member = s
            .site
            .app
            .sign_up(jikimi_testkit::lifeplan_signup(&p))
            .await?;
        let purpose = s.site.app.policy().item("address").unwrap().purposes[0].clone();
        login(s, &p).await?;
        s.goto("/mypage/requests").await?;
        // A suspension without a purpose is named.
        click(s, "#kind-suspension").await?;
        s.submit("#send-request").await?;
        ensure!(s.text_of("#errors").await?.contains("멈출 목적"));
        click(s, "#kind-suspension").await?;
        choose(s, "#purpose", &purpose).await?;
        s.submit("#send-request").await?;
        s.visible(Locator::Css("#notice")).await?;
        click(s, "#kind-consent_withdrawal").await?;
        choose(s, "#consent", "optional_items").await?;
        s.submit("#send-request").await?;
        s.visible(Locator::Css("#notice")).await?;
        click(s, "#kind-withdrawal").await?;
        fill(s, "#text", "탈퇴하겠습니다").await?;
        s.submit("#send-request").await?;
        s.visible(Locator::Css("#notice")).await?;

        office_login(s, "lee.manager", &next_code(s, &manager)).await?;
        wait_path(s, "/office").await?;
        ensure!(
            open_request_of_kind(s, "처리정지").await?,
            "an open suspension request"
        );
        click(s, "#read").await?;
        ensure!(
            s.text_of("#errors")
                .await?
                .contains("왜 이 회원의 정보를 보는지")
        );
        fill(s, "#read_reason", "처리정지 대상 확인").await?;
        s.submit("#read").await?;
        ensure!(s.text_of("#member-items").await?.contains(&p.address));
        s.check_page("office-request-read").await?;
        s.submit("#suspend").await?;
        ensure!(s.text_of("#notice").await?.contains("처리를 멈추고"));
        ensure!(s.site.app.suspended_purposes(member).await? == std::slice::from_ref(&purpose));
        let rows = s.site.app.store().audit_rows(0, 10_000).await?;
        ensure!(
            rows.iter().any(|r| r.action == "item.reveal"
                && r.actor == "staff:lee.manager"
                && r.purpose.as_deref() == Some("office_request")
                && r.detail.contains("처리정지 대상 확인")),
            "the read is in the access log with its reason"
        );

        // The consent withdrawal: what was held on the consent is deleted.
        ensure!(open_request_of_kind(s, "동의 철회").await?);
        ensure!(
            s.text_of("#request-content")
                .await?
                .contains("(선택) 개인정보 수집·이용 동의")
        );
        s.submit("#withdraw-consent").await?;
        ensure!(s.text_of("#notice").await?.contains("동의를 철회하고"));
        let consents = s.site.app.consent_state(member).await?;
        ensure!(
            consents
                .iter()
                .any(|c| c.category == "optional_items" && !c.granted)
        );

        // A letter from the member's agent: recorded by the office, the member found by their
        // e-mail address; the identity check and the power of attorney are named when missing.
        s.goto("/office/requests").await?;
        click(s, "#record-request").await?;
        s.visible(Locator::Css("#record")).await?;
        click(s, "#kind-access").await?;
        click(s, "#channel-letter").await?;
        fill(s, "#login_id", &p.email.to_uppercase()).await?;
        fill(s, "#agent_name", "김대리").await?;
        fill(s, "#agent_relation", "배우자").await?;
        s.submit("#record").await?;
        let errors = s.text_of("#errors").await?;
        ensure!(
            errors.contains("본인") && errors.contains("위임장"),
            "the identity check and the power of attorney named: {errors:?}"
        );
        fill(s, "#identity_check", "위임장과 신분증 사본 대조").await?;
        click(s, "#agent_attorney").await?;
        s.submit("#record").await?;
        ensure!(s.text_of("#notice").await?.contains("요청을 기록했습니다"));
        let content = s.text_of("#request-content").await?;
        ensure!(
            content.contains("위임장과 신분증 사본 대조") && content.contains("김대리"),
            "{content:?}"
        );
        ensure!(s.text_of("#request-facts").await?.contains("서면"));
        s.check_page("office-request-letter").await?;

        // The withdrawal: refused without the confirmation, then done, the receipt shown once.
        ensure!(open_request_of_kind(s, "회원 탈퇴").await?);
        ensure!(
            s.text_of("#request-content")
                .await?
                .contains("탈퇴하겠습니다")
        );
        s.submit("#withdraw").await?;
        ensure!(s.text_of("#errors").await?.contains("확인란"));
        click(s, "#confirm").await?;
        s.submit("#withdraw").await?;
        let notice = s.text_of("#notice").await?;
        ensure!(notice.contains("JKM-"), "{notice:?}");
        s.visible(Locator::Css("#content-gone")).await?;
        s.check_page("office-request-withdrawn").await?;
        ensure!(s.site.app.find_member(&p.login_id).await?.is_none());
        // The member's session is gone with them.
        s.goto("/mypage").await?;
        wait_path(s, "/login?next=/mypage").await?;
        Ok(())
    })
    .await;
}

/// Opens the open request whose row names `kind` from the console's list; whether there was one.
async fn open_request_of_kind(s: &support::Session, kind: &str) -> anyhow::Result<bool> {
    s.goto("/office/requests").await?;
    let mut href = None;
    for a in s
        .client()
        .find_all(Locator::Css("#open-requests a"))
        .await?
    {
        let row = a.find(Locator::XPath("ancestor::tr")).await?;
        if row.text().await?.contains(kind) {
            href = a.attr("href").await?;
        }
    }
    match href {
        Some(h) => {
            s.goto(&h).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// R-LOG-03 in the console: an auditor opens last month's review from the home page, sees the
/// night read flagged, cannot sign without notes, signs, and finds the sign-off again; a month
/// not yet over cannot be signed.
async fn an_auditor_reviews_the_month_and_signs_it_off(b: Backend) {
    support::run("office_access_review", b, async |s| {
        use chrono::TimeZone;
        // 10:00 KST, 10 November.
        s.site
            .clock
            .set(chrono::Utc.with_ymd_and_hms(2026, 11, 10, 1, 0, 0).unwrap());
        let manager = enrolled(s, "lee.manager", Role::Manager).await;
        let auditor = enrolled(s, "choi.auditor", Role::Auditor).await;
        let app = &s.site.app;
        let p = jikimi_testkit::person(33);
        app.sign_up(jikimi_testkit::lifeplan_signup(&p)).await?;
        let login = app
            .login(&p.login_id, &jikimi_core::Revealed::new(p.password.clone()))
            .await?;
        let me = app
            .session(login.token.expose())
            .await?
            .context("the member's session")?;
        let id = app
            .file_own_request(
                &me,
                jikimi_core::requests::OwnRequest {
                    kind: jikimi_core::requests::RequestKind::Access,
                    text: String::new(),
                    wanted: Default::default(),
                    purpose: None,
                },
            )
            .await?;
        // The manager reads for the request at 23:30 KST: a night entry.
        s.site.clock.set(
            chrono::Utc
                .with_ymd_and_hms(2026, 11, 12, 14, 30, 0)
                .unwrap(),
        );
        let code = next_code(s, &manager);
        let new = app
            .staff_login(
                None,
                "lee.manager",
                &jikimi_core::Revealed::new(PASSWORD.into()),
                &code,
            )
            .await?;
        let st = app
            .staff_session(new.token.expose())
            .await?
            .context("the manager's session")?;
        app.reveal_for_request(&st, id, "열람 요청 답변 준비", None)
            .await?;

        // 2 December: November is over.
        s.site
            .clock
            .set(chrono::Utc.with_ymd_and_hms(2026, 12, 2, 1, 0, 0).unwrap());
        office_login(s, "choi.auditor", &next_code(s, &auditor)).await?;
        wait_path(s, "/office").await?;
        ensure!(
            s.client().find(Locator::Css("#to-requests")).await.is_err(),
            "no requests for an auditor"
        );
        ensure!(s.text_of("#review-due").await?.contains("2026-11"));
        s.submit("#to-review").await?;
        ensure!(s.text_of("#review-month").await? == "2026-11");
        let lines = s.text_of("#review-lines").await?;
        ensure!(
            lines.contains("lee.manager") && lines.contains("야간"),
            "{lines:?}"
        );
        s.check_page("office-review").await?;
        // No notes with a flagged entry: named.
        s.submit("#sign").await?;
        ensure!(s.text_of("#errors").await?.contains("무엇을 확인했는지"));
        fill(s, "#notes", "야간 열람은 열람 요청 답변 준비로 확인함").await?;
        s.submit("#sign").await?;
        ensure!(s.text_of("#notice").await?.contains("점검을 마쳤습니다"));
        ensure!(s.text_of("#signed").await?.contains("choi.auditor"));
        s.client().refresh().await?;
        ensure!(s.text_of("#signed").await?.contains("야간 열람은"));
        s.check_page("office-review-signed").await?;
        s.submit("#lang-switch").await?;
        ensure!(heading(s).await?.starts_with("Access-log review"));
        s.submit("#lang-switch").await?;
        // December is not over: no sign-off yet.
        s.submit("#next-month").await?;
        ensure!(s.text_of("#review-month").await? == "2026-12");
        s.visible(Locator::Css("#not-ended")).await?;
        // October had nothing.
        s.goto("/office/access-review?month=2026-10").await?;
        s.visible(Locator::Css("#no-entries")).await?;
        ensure!(s.text_of("#past-reviews").await?.contains("2026-11"));
        // The dashboard names the last review, and no longer asks for one.
        s.goto("/office").await?;
        ensure!(s.text_of("#last-review").await?.contains("2026-11"));
        ensure!(s.client().find(Locator::Css("#review-due")).await.is_err());
        s.check_page("office-dashboard-auditor").await?;

        // Their own password: a wrong current one, then two new ones that differ, are named;
        // changed, the new one logs in.
        click(s, "#to-password").await?;
        s.check_page("office-password").await?;
        let new = "Harbor-Lantern-7731";
        fill(s, "#current_password", "Wrong-Password-1").await?;
        fill(s, "#new_password", new).await?;
        fill(s, "#new_password_confirm", new).await?;
        s.submit("#change-password").await?;
        ensure!(s.text_of("#errors").await?.contains("비밀번호"));
        fill(s, "#current_password", PASSWORD).await?;
        fill(s, "#new_password", new).await?;
        fill(s, "#new_password_confirm", "Harbor-Lantern-7732").await?;
        s.submit("#change-password").await?;
        ensure!(s.text_of("#errors").await?.contains("두 번 입력한"));
        fill(s, "#current_password", PASSWORD).await?;
        fill(s, "#new_password", new).await?;
        fill(s, "#new_password_confirm", new).await?;
        click(s, "#change-password").await?;
        wait_path(s, "/office").await?;
        ensure!(
            s.text_of("#notice")
                .await?
                .contains("비밀번호를 바꿨습니다")
        );
        office_logout(s).await?;
        s.goto("/office/login").await?;
        fill(s, "#name", "choi.auditor").await?;
        fill(s, "#password", new).await?;
        fill(s, "#code", &next_code(s, &auditor)).await?;
        click(s, "#do-login").await?;
        wait_path(s, "/office").await?;
        Ok(())
    })
    .await;
}

/// Issue 14: mail the server refused for good is listed on a manager's dashboard (when, what,
/// which member, the SMTP code), without any of its content.
async fn the_dashboard_lists_mail_that_did_not_go_out(b: Backend) {
    let smtp = jikimi_testkit::smtp::TestSmtp::start();
    smtp.set_rejecting(true);
    support::run_with_smtp("office_failed_mail", "lifeplan", b, &smtp, async |s| {
        let p = jikimi_testkit::person(48);
        let member = s
            .site
            .app
            .sign_up(jikimi_testkit::lifeplan_signup(&p))
            .await?;
        while s.site.app.run_jobs_once().await? > 0 {}
        let secret = enrolled(s, "manager", Role::Manager).await;
        office_login(s, "manager", &next_code(s, &secret)).await?;
        let table = s.text_of("#dash-failed-mail").await?;
        ensure!(table.contains("가입 환영"), "{table}");
        ensure!(table.contains("smtp 550 (permanent)"), "{table}");
        ensure!(table.contains(&member.to_string()[..8]), "{table}");
        ensure!(!table.contains(&p.email), "no address: {table}");
        s.check_page("dashboard").await?;
        Ok(())
    })
    .await;
}
