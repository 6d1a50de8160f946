//! 본인확인 through PortOne in the browser (issue 15): the identity step opens PortOne's window
//! (here the local fake of `jikimi_testkit::portone`, which serves a browser SDK and a window as
//! PortOne's do), the person verifies or cancels there, and comes back to the site, which asks
//! PortOne itself for the result.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use anyhow::{Context as _, ensure};
use fantoccini::Locator;
use jikimi_core::portone::{PortOne, PortOneSetup};
use jikimi_testkit::portone::FakePortOne;
use jikimi_testkit::{Backend, Person, person};
use support::steps::{click, fill, wait_path};

jikimi_testkit::backend_tests!(
    a_visitor_cancels_the_portone_window_once_then_joins_through_it,
    a_member_finds_their_login_id_through_the_portone_window_on_a_phone,
);

const SECRET: &str = "portone-browser-test-secret";

fn setup(fake: &FakePortOne) -> support::Setup {
    let portone = PortOne::new(PortOneSetup {
        api_url: fake.url(),
        sdk_url: fake.sdk_url(),
        store_id: fake.store_id(),
        channel_key: fake.channel_key(),
        api_secret: SECRET.to_owned(),
    })
    .unwrap();
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
