//! 본인확인 through PortOne in the browser (issue 15): the identity step opens PortOne's window
//! (here the local fake of `jikimi_testkit::portone`, which serves a browser SDK and a window as
//! PortOne's do), the person verifies or cancels there, and comes back to the site, which asks
//! PortOne itself for the result.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use anyhow::{Context as _, ensure};
use fantoccini::Locator;
use jikimi_testkit::portone::FakePortOne;
use jikimi_testkit::{Backend, Person, person};
use support::steps::{click, fill, wait_path};

jikimi_testkit::backend_tests!(
    the_api_opens_portones_window_and_takes_its_result_once,
    a_visitor_cancels_the_portone_window_once_then_joins_through_it,
    a_member_finds_their_login_id_through_the_portone_window_on_a_phone,
);

const SECRET: &str = "portone-browser-test-secret";

fn setup(fake: &FakePortOne) -> support::Setup {
    let portone = fake.client(SECRET);
    support::Setup {
        identity: Some(Arc::new(portone)),
        ..support::Setup::default()
    }
}

/// Waits until the browser shows PortOne's (the fake's) window.
async fn in_window(s: &support::Session, fake: &FakePortOne) -> anyhow::Result<()> {
    s.visible(Locator::Css("button[value=verify]"))
        .await
        .context("PortOne's window")?;
    let url = s.client().current_url().await?;
    ensure!(
        url.as_str().starts_with(&fake.url()),
        "the window is PortOne's, not the site's: {url}"
    );
    Ok(())
}

/// In PortOne's window: the person's name, date of birth and mobile number, then 인증 완료.
async fn verify_in_window(s: &support::Session, p: &Person) -> anyhow::Result<()> {
    fill(s, "input[name=name]", &p.name).await?;
    fill(
        s,
        "input[name=birth_date]",
        &p.birth.format("%Y%m%d").to_string(),
    )
    .await?;
    let digits: String = p.mobile.chars().filter(char::is_ascii_digit).collect();
    fill(s, "input[name=phone]", &digits).await?;
    click(s, "button[value=verify]").await
}

async fn a_visitor_cancels_the_portone_window_once_then_joins_through_it(b: Backend) {
    let fake = FakePortOne::start(SECRET);
    support::run_setup("portone_signup", "lifeplan", b, setup(&fake), async |s| {
        let p = person(531);
        s.goto("/signup").await?;
        click(s, "#next").await?; // every optional consent refused
        // The identity step is one button: nothing is typed on the site.
        s.visible(Locator::Css("#start-window")).await?;
        ensure!(
            s.client().find(Locator::Css("#name")).await.is_err(),
            "the site asks for no name: the window does"
        );
        s.check_page("identity").await?;
        click(s, "#start-window").await?;
        in_window(s, &fake).await?;
        s.screenshot("window").await?;
        // Back from the window: Chromium skips the page that opened the window by itself, so
        // the identity step shows again, the consents kept. The page that opens the window, shown
        // again, does not open it by itself a second time: it says what it is for and opens it
        // from its button.
        s.client().back().await?;
        wait_path(s, "/signup/identity").await?;
        s.visible(Locator::Css("#start-window")).await?;
        s.goto("/signup/verify").await?;
        s.visible(Locator::Css("#open-window")).await?;
        ensure!(
            s.current_path().await? == "/signup/verify",
            "the page stays until its button is pressed"
        );
        s.check_page("launcher").await?;
        click(s, "#open-window").await?;
        in_window(s, &fake).await?;
        // Cancelled in the window: back at the identity step, told so, the consents kept.
        click(s, "button[value=cancel]").await?;
        wait_path(s, "/signup/identity").await?;
        let notice = s.text_of("#notice").await?;
        ensure!(notice.contains("본인확인을 마치지 않았습니다"), "{notice}");
        s.screenshot("cancelled").await?;
        // Again, to the end this time.
        click(s, "#start-window").await?;
        in_window(s, &fake).await?;
        verify_in_window(s, &p).await?;
        wait_path(s, "/signup/details").await?;
        s.check_page("details").await?;
        fill(s, "#login_id", &p.login_id).await?;
        fill(s, "#password", &p.password).await?;
        fill(s, "#password_confirm", &p.password).await?;
        fill(s, "#f-email", &p.email).await?;
        click(s, "#join").await?;
        s.visible_text("가입을 마쳤습니다")
            .await
            .context("joined")?;
        let members = s.site.app.store().member_ids().await?;
        ensure!(members.len() == 1, "one member: {members:?}");
        // Back to the verification's return address: the id is spent, nothing happens twice.
        s.goto("/signup/verify").await?;
        ensure!(
            s.current_path().await? == "/signup",
            "a finished sign-up starts again at the consents"
        );
        ensure!(s.site.app.store().member_ids().await?.len() == 1);
        Ok(())
    })
    .await;
}

async fn a_member_finds_their_login_id_through_the_portone_window_on_a_phone(b: Backend) {
    let fake = FakePortOne::start(SECRET);
    support::run_setup("portone_recovery", "lifeplan", b, setup(&fake), async |s| {
        let p = person(532);
        // A member who joined through PortOne earlier.
        let app = &s.site.app;
        let id = app.identity_window_issue_from(None).await?;
        let digits: String = p.mobile.chars().filter(char::is_ascii_digit).collect();
        fake.verify_identity(&id, &p.name, p.birth, &digits);
        let token = app.identity_window_return_from(None, &id).await?;
        let mut signup = jikimi_testkit::lifeplan_signup(&p);
        signup.identity = None;
        app.sign_up_with_identity_token(signup, token.expose())
            .await?;

        s.goto("/login").await?;
        s.set_width(390).await?;
        click(s, "#forgot").await?;
        wait_path(s, "/recovery/identity").await?;
        s.visible(Locator::Css("#start-window")).await?;
        s.screenshot("recovery-390").await?;
        click(s, "#start-window").await?;
        in_window(s, &fake).await?;
        s.screenshot("window-390").await?;
        verify_in_window(s, &p).await?;
        wait_path(s, "/recovery/found").await?;
        ensure!(s.text_of("#found-login-id").await? == p.login_id);
        s.check_page("found").await?;
        Ok(())
    })
    .await;
}

/// One JSON call through the router: (status, body).
async fn call(
    router: &axum::Router,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    use tower::ServiceExt;
    let b = axum::http::Request::builder().method(method).uri(path);
    let req = match body {
        Some(v) => b
            .header("content-type", "application/json")
            .body(axum::body::Body::from(v.to_string()))
            .unwrap(),
        None => b.body(axum::body::Body::empty()).unwrap(),
    };
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

/// Over the API as on the pages: the server issues the id and says how to open the window; the
/// result is taken once; a code request is refused on this provider.
async fn the_api_opens_portones_window_and_takes_its_result_once(b: Backend) {
    let fake = FakePortOne::start(SECRET);
    let identity = setup(&fake).identity.unwrap();
    let t = jikimi_testkit::TestApp::configured(b, jikimi_testkit::builtin("lifeplan"), |cfg| {
        cfg.identity = Some(identity)
    })
    .await
    .unwrap();
    let router = jikimi_web::router(t.app.clone());
    let p = person(533);
    let (status, opened) = call(&router, "POST", "/api/v1/identity/windows", None).await;
    assert_eq!(status, 201, "{opened}");
    assert_eq!(opened["store_id"], fake.store_id());
    assert_eq!(opened["channel_key"], fake.channel_key());
    assert_eq!(opened["sdk_url"], fake.sdk_url());
    let id = opened["verification_id"].as_str().unwrap().to_owned();
    let result = format!("/api/v1/identity/windows/{id}/result");
    // Not verified yet: refused, and the id is spent.
    fake.open_identity(&id);
    let (status, problem) = call(&router, "POST", &result, None).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["type"], "/problems/identity");
    let (_, opened) = call(&router, "POST", "/api/v1/identity/windows", None).await;
    let id = opened["verification_id"].as_str().unwrap().to_owned();
    let result = format!("/api/v1/identity/windows/{id}/result");
    let digits: String = p.mobile.chars().filter(char::is_ascii_digit).collect();
    fake.verify_identity(&id, &p.name, p.birth, &digits);
    let (status, token) = call(&router, "POST", &result, None).await;
    assert_eq!(status, 201, "{token}");
    assert!(
        token["identity_token"]
            .as_str()
            .is_some_and(|t| t.len() > 20)
    );
    let (status, _) = call(&router, "POST", &result, None).await;
    assert_eq!(status, 422, "taken once");
    // PortOne down: 503 with Retry-After, as a problem.
    let (_, opened) = call(&router, "POST", "/api/v1/identity/windows", None).await;
    let id = opened["verification_id"].as_str().unwrap().to_owned();
    fake.verify_identity(&id, &p.name, p.birth, &digits);
    fake.fail_next(503);
    let (status, problem) = call(
        &router,
        "POST",
        &format!("/api/v1/identity/windows/{id}/result"),
        None,
    )
    .await;
    assert_eq!(status, 503, "{problem}");
    assert_eq!(problem["type"], "/problems/provider_unavailable");
    // The code flow is not this provider's.
    let (status, _) = call(
        &router,
        "POST",
        "/api/v1/identity/requests",
        Some(serde_json::json!({
            "name": p.name, "birth_date": p.birth.to_string(), "mobile": p.mobile, "carrier": "skt"
        })),
    )
    .await;
    assert_eq!(status, 422);
}
