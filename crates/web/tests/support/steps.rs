//! What a person does on the pages, step by step: shared by the browser tests.

use anyhow::{Context as _, ensure};
use fantoccini::Locator;
use jikimi_testkit::Person;

use super::Session;

/// Clears the field `css` and types `value` into it.
pub async fn fill(s: &Session, css: &str, value: &str) -> anyhow::Result<()> {
    let el = s
        .visible(Locator::Css(css))
        .await
        .with_context(|| format!("field {css}"))?;
    el.clear()
        .await
        .with_context(|| format!("clearing {css}"))?;
    el.send_keys(value)
        .await
        .with_context(|| format!("typing into {css}"))?;
    Ok(())
}

/// Clicks the displayed element `css`.
pub async fn click(s: &Session, css: &str) -> anyhow::Result<()> {
    s.visible(Locator::Css(css))
        .await?
        .click()
        .await
        .with_context(|| format!("clicking {css}"))?;
    Ok(())
}

/// The RRN in its two boxes: the front 6 digits, the masked back 7.
pub async fn fill_rrn(s: &Session, rrn: &str) -> anyhow::Result<()> {
    let (front, back) = rrn.split_once('-').context("RRN with a hyphen")?;
    fill(s, "#f-rrn", front).await?;
    let back_box = s.visible(Locator::Css("#f-rrn-back")).await?;
    ensure!(
        back_box.attr("type").await?.as_deref() == Some("password"),
        "the RRN's back half is masked"
    );
    fill(s, "#f-rrn-back", back).await
}

/// Login ID and password (twice) on the details form.
pub async fn account_fields(s: &Session, p: &Person) -> anyhow::Result<()> {
    fill(s, "#login_id", &p.login_id).await?;
    fill(s, "#password", &p.password).await?;
    fill(s, "#password_confirm", &p.password).await
}

/// The seed profile's details form: the account, the RRN and every required item.
pub async fn seed_details(s: &Session, p: &Person) -> anyhow::Result<()> {
    account_fields(s, p).await?;
    fill_rrn(s, &p.rrn).await?;
    for (id, v) in [
        ("name", &p.name),
        ("phone", &p.phone),
        ("postal_code", &p.postal_code),
        ("address", &p.address),
        ("address_detail", &p.address_detail),
        ("email", &p.email),
    ] {
        fill(s, &format!("#f-{id}"), v).await?;
    }
    Ok(())
}

/// Logs in from the login page and waits for 개인정보수정.
pub async fn login(s: &Session, p: &Person) -> anyhow::Result<()> {
    s.goto("/login").await?;
    fill(s, "#login_id", &p.login_id).await?;
    fill(s, "#password", &p.password).await?;
    click(s, "#do-login").await?;
    s.visible(Locator::Css("#my-items"))
        .await
        .context("my page after login")?;
    Ok(())
}

/// Waits (up to 10 s) until the browser is on `path` (path and query), after a click that
/// navigates.
pub async fn wait_path(s: &Session, path: &str) -> anyhow::Result<()> {
    let mut seen = String::new();
    for _ in 0..50 {
        seen = s.current_path().await?;
        if seen == path {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    anyhow::bail!("expected to be on {path}, still on {seen}")
}

/// The password of staff accounts the tests enrol.
pub const STAFF_PASSWORD: &str = "Kestrel-Orbit-2026";

/// The code the authenticator app shows now, on the server's (injected) clock; the clock moves
/// on 30 seconds first, since a code is taken once.
pub fn next_code(s: &Session, secret: &str) -> String {
    s.site.clock.advance(chrono::Duration::seconds(30));
    jikimi_core::staff::code_at(secret, jikimi_core::Clock::now(&*s.site.clock)).unwrap()
}

pub async fn office_login(s: &Session, name: &str, code: &str) -> anyhow::Result<()> {
    s.goto("/office/login").await?;
    fill(s, "#name", name).await?;
    fill(s, "#password", STAFF_PASSWORD).await?;
    fill(s, "#code", code).await?;
    click(s, "#do-login").await
}

/// Enrols `name` with `role` without the browser; returns the base32 secret.
pub async fn enrolled(s: &Session, name: &str, role: jikimi_core::staff::Role) -> String {
    let app = &s.site.app;
    let token = app
        .add_staff(&jikimi_core::Actor::Cli, name, role)
        .await
        .unwrap();
    let e = app.staff_enrolment(token.expose()).await.unwrap();
    let secret = e.secret.expose().to_owned();
    let code =
        jikimi_core::staff::code_at(&secret, jikimi_core::Clock::now(&*s.site.clock)).unwrap();
    app.enrol_staff(
        token.expose(),
        &jikimi_core::Revealed::new(STAFF_PASSWORD.into()),
        &code,
    )
    .await
    .unwrap();
    secret
}
