//! Browser-test harness: a fresh jikimi installation served in-process, driven by Debian's
//! Chromium (headless) through ChromeDriver over WebDriver.
//!
//! ```ignore
//! jikimi_testkit::backend_tests!(a_page_works);
//!
//! async fn a_page_works(b: Backend) {
//!     support::run("a_page_works", b, async |s| {
//!         s.goto("/privacy").await?;
//!         s.visible_text("privacy-officer@example.com").await?;
//!         s.screenshot("loaded").await?;
//!         Ok(())
//!     })
//!     .await;
//! }
//! ```
//!
//! Every test gets its own installation, server, ChromeDriver, Chromium and profile directory.
//! ChromeDriver runs in its own process group; the group (ChromeDriver and every Chromium
//! process it started) is killed when the session is dropped, so nothing outlives a test, also
//! when it fails or panics. Chromium and ChromeDriver must be installed (`.ci/run` installs
//! them): a missing browser fails the test, it never skips it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test support
#![allow(dead_code)] // not every test file uses every helper

pub mod steps;

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail, ensure};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use fantoccini::elements::Element;
use fantoccini::wd::{Capabilities, TimeoutConfiguration, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use jikimi_testkit::{Backend, TestApp};
use serde_json::{Value, json};

/// Debian's Chromium; `JIKIMI_CHROMIUM` overrides.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's ChromeDriver; `JIKIMI_CHROMEDRIVER` overrides.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The window, in CSS pixels.
pub const WINDOW: (u32, u32) = (1280, 1600);

/// Longest a whole test body may run.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(90);
/// Longest ChromeDriver may take to listen, and a WebDriver session to start.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest to wait for an element, a page load or a script.
pub const WAIT: Duration = Duration::from_secs(10);

/// Runs `body` against a fresh `lifeplan` installation in a fresh headless Chromium.
///
/// The body is bounded by [`TEST_TIMEOUT`]. If it fails (an `Err`, a panic such as a failed
/// `assert!`, or the timeout), the tail of ChromeDriver's log is printed, a screenshot
/// `<test>-failure.png` is saved, the browser and driver are shut down, and the test fails.
pub async fn run(
    test: &str,
    backend: Backend,
    body: impl AsyncFnOnce(&Session) -> anyhow::Result<()>,
) {
    run_with(test, "lifeplan", backend, body).await;
}

/// [`run`] on another built-in policy profile (e.g. `lifeplan-seed`).
pub async fn run_with(
    test: &str,
    profile: &str,
    backend: Backend,
    body: impl AsyncFnOnce(&Session) -> anyhow::Result<()>,
) {
    run_with_timeout(test, profile, backend, TEST_TIMEOUT, body).await;
}

/// [`run`] with the privacy office answering only `office_allow` (`serve --office-allow`); the
/// server then sees each connection's peer address (the browser's is 127.0.0.1).
pub async fn run_with_office_allow(
    test: &str,
    backend: Backend,
    office_allow: &[&str],
    body: impl AsyncFnOnce(&Session) -> anyhow::Result<()>,
) {
    run_inner(
        test,
        "lifeplan",
        backend,
        TEST_TIMEOUT,
        office_allow,
        Setup::default(),
        body,
    )
    .await;
}

/// [`run_with`] with a longer bound than [`TEST_TIMEOUT`], for a test that walks many pages.
pub async fn run_with_timeout(
    test: &str,
    profile: &str,
    backend: Backend,
    timeout: Duration,
    body: impl AsyncFnOnce(&Session) -> anyhow::Result<()>,
) {
    run_inner(test, profile, backend, timeout, &[], Setup::default(), body).await;
}

/// How the site of a test differs from a fresh installation.
#[derive(Debug, Default)]
pub struct Setup {
    /// Mail goes here instead of nowhere.
    pub mail: Option<jikimi_core::mail::MailSetup>,
    /// The site is opened again with this (later) version of the policy before it serves, as
    /// an operator starting a new file would.
    pub next: Option<jikimi_policy::Policy>,
    /// 본인확인 goes through this provider instead of the sandbox.
    pub identity: Option<std::sync::Arc<dyn jikimi_core::identity::IdentityProvider>>,
    /// The site sells through PortOne.
    pub payments: Option<jikimi_core::payments::PaymentSetup>,
    /// The site runs this policy instead of the built-in profile's.
    pub policy: Option<jikimi_policy::Policy>,
    /// Text messages go through this.
    pub sms: Option<jikimi_core::sms::SmsSetup>,
    /// Partners are reached through this.
    pub partners: Option<std::sync::Arc<dyn jikimi_core::partners::PartnerTransport>>,
}

/// [`run_with`] with the site set up as `setup` says.
pub async fn run_setup(
    test: &str,
    profile: &str,
    backend: Backend,
    setup: Setup,
    body: impl AsyncFnOnce(&Session) -> anyhow::Result<()>,
) {
    run_inner(test, profile, backend, TEST_TIMEOUT, &[], setup, body).await;
}

/// [`run_with`] with the site's mail going to the test SMTP server `smtp`.
pub async fn run_with_smtp(
    test: &str,
    profile: &str,
    backend: Backend,
    smtp: &jikimi_testkit::smtp::TestSmtp,
    body: impl AsyncFnOnce(&Session) -> anyhow::Result<()>,
) {
    let setup = Setup {
        mail: Some(jikimi_testkit::smtp_mail(smtp)),
        ..Setup::default()
    };
    run_inner(test, profile, backend, TEST_TIMEOUT, &[], setup, body).await;
}

async fn run_inner(
    test: &str,
    profile: &str,
    backend: Backend,
    timeout: Duration,
    office_allow: &[&str],
    setup: Setup,
    body: impl AsyncFnOnce(&Session) -> anyhow::Result<()>,
) {
    // Screenshots of the two halves go to different files.
    let named = match backend {
        Backend::Sqlite => test.to_owned(),
        Backend::Postgres => format!("{test}-pg"),
    };
    let test = named.as_str();
    let session = Session::start(test, profile, backend, office_allow, setup)
        .await
        .unwrap_or_else(|e| panic!("{test}: browser session did not start: {e:#}"));
    let body = CatchUnwind(Box::pin(body(&session)));
    let outcome = match tokio::time::timeout(timeout, body).await {
        Ok(Ok(r)) => r.map_err(Failure::Error),
        Ok(Err(panic)) => Err(Failure::Panic(panic)),
        Err(_) => Err(Failure::Error(anyhow!("timed out after {timeout:?}"))),
    };
    if let Err(failure) = &outcome {
        if let Failure::Error(e) = failure {
            eprintln!("{test}: {e:#}");
        }
        eprintln!("{}", session.driver.log_tail(20));
        match tokio::time::timeout(WAIT, session.screenshot("failure")).await {
            Ok(Ok(path)) => eprintln!("{test}: failure screenshot: {}", path.display()),
            Ok(Err(e)) => eprintln!("{test}: no failure screenshot: {e:#}"),
            Err(_) => eprintln!("{test}: no failure screenshot: timed out"),
        }
    }
    session.close().await;
    match outcome {
        Ok(()) => {}
        Err(Failure::Error(e)) => panic!("{test}: {e:#}"),
        Err(Failure::Panic(p)) => std::panic::resume_unwind(p),
    }
}

/// Whether a WebDriver error says the element belonged to a page that has since been replaced.
/// Chromium says so in two ways: "stale element reference", or, when the old document is
/// already gone from the inspector, "Node with given id does not belong to the document".
pub fn is_stale(e: &fantoccini::error::CmdError) -> bool {
    let text = e.to_string();
    text.contains("stale")
        || text.contains("does not belong to the document")
        || text.contains("aborted by navigation")
}

enum Failure {
    Error(anyhow::Error),
    Panic(Box<dyn std::any::Any + Send>),
}

/// Turns a panic inside the test body (a failed `assert!`) into a value, so that the failure
/// screenshot is taken and the browser is shut down before the panic goes on.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let fut = self.0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

/// A running site and a browser pointed at it.
#[derive(Debug)]
pub struct Session {
    pub test: String,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base_url: String,
    client: Client,
    // Drop order matters: the driver (and with it every browser process) goes first, then the
    // server, then the profile directory and the installation.
    driver: Driver,
    server: Server,
    profile_dir: tempfile::TempDir,
    pub site: TestApp,
}

impl Session {
    /// A fresh installation of `profile` served on 127.0.0.1:0, and a fresh Chromium.
    pub async fn start(
        test: &str,
        profile: &str,
        backend: Backend,
        office_allow: &[&str],
        setup: Setup,
    ) -> anyhow::Result<Self> {
        let chromium = tool("JIKIMI_CHROMIUM", CHROMIUM, "chromium")?;
        let chromedriver = tool("JIKIMI_CHROMEDRIVER", CHROMEDRIVER, "chromium-driver")?;

        let policy = setup
            .policy
            .unwrap_or_else(|| jikimi_testkit::builtin(profile));
        let partners = setup.partners;
        let mut site = match (setup.mail, setup.identity, setup.payments, setup.sms) {
            (None, None, None, None) if partners.is_none() => {
                TestApp::with_policy_on(backend, policy).await
            }
            (mail, identity, payments, sms) => TestApp::configured(backend, policy, |cfg| {
                cfg.mail = mail;
                cfg.payments = payments;
                cfg.sms = sms;
                cfg.partners = partners;
                if identity.is_some() {
                    cfg.identity = identity;
                }
            })
            .await
            .context("opening the installation")?,
        };
        if let Some(next) = setup.next {
            site.app = jikimi_core::Jikimi::open_with(
                &site.cfg,
                next,
                site.clock.clone(),
                false,
                jikimi_testkit::test_hasher(),
            )
            .await
            .context("opening the installation with the next policy")?;
        }
        let server = Server::start(&site, office_allow).await?;
        let base_url = format!("http://{}", server.addr);

        let profile_dir = tempfile::Builder::new()
            .prefix("jikimi-chromium-")
            .tempdir()
            .context("creating the Chromium profile directory")?;
        let driver = Driver::start(&chromedriver, profile_dir.path())?;

        let caps = capabilities(&chromium, &profile_dir.path().join("user-data"));
        let client = tokio::time::timeout(
            START_TIMEOUT,
            ClientBuilder::new(HttpConnector::new())
                .capabilities(caps)
                .connect(&driver.url),
        )
        .await
        .map_err(|_| anyhow!("no WebDriver session within {START_TIMEOUT:?}"))
        .and_then(|r| r.context("starting a WebDriver session"))
        .map_err(|e| anyhow!("{e:#}\n{}", driver.log_tail(40)))?;
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(WAIT),
                Some(WAIT),
                Some(Duration::ZERO),
            ))
            .await
            .context("setting WebDriver timeouts")?;

        Ok(Self {
            test: test.to_owned(),
            base_url,
            client,
            driver,
            server,
            profile_dir,
            site,
        })
    }

    /// The names of every cookie the site has set so far in this test.
    pub fn cookies_set(&self) -> std::collections::BTreeSet<String> {
        self.server.cookies.lock().unwrap().clone()
    }

    /// The WebDriver client, for anything the helpers below do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The absolute URL of `path` (e.g. `/privacy?lang=en`) on the test server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Navigates to `path` on the test server and waits for the page to load.
    pub async fn goto(&self, path: &str) -> anyhow::Result<()> {
        let url = self.url(path);
        self.client
            .goto(&url)
            .await
            .with_context(|| format!("navigating to {url}"))
    }

    /// The path and query of the current page (e.g. `/privacy?lang=en`).
    pub async fn current_path(&self) -> anyhow::Result<String> {
        let url = self.client.current_url().await.context("current URL")?;
        Ok(match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        })
    }

    /// Waits (up to [`WAIT`]) for an element matching `locator` and checks it is displayed.
    pub async fn visible(&self, locator: Locator<'_>) -> anyhow::Result<Element> {
        let what = format!("{locator:?}");
        // A page that is being replaced (a form's redirect) can turn a found element stale
        // before it is read: look again, within the same wait.
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let found = self.client.wait().at_most(WAIT).for_element(locator).await;
            let el = match found {
                Ok(el) => el,
                // A page that navigates by itself (PortOne's window opening) can abort the search.
                Err(e)
                    if std::time::Instant::now() < deadline
                        && e.to_string().contains("aborted by navigation") =>
                {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                Err(e) => bail!("no element {what} on {}: {e}", self.page_label().await),
            };
            match el.is_displayed().await {
                Ok(true) => return Ok(el),
                Ok(false) => bail!("element {what} is present but not displayed"),
                Err(e) if std::time::Instant::now() < deadline && is_stale(&e) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e).context("is_displayed"),
            }
        }
    }

    /// Clicks `button` and waits until the page it was on is gone (a form's answer replaced
    /// it), so that what is looked for next is on the new page, never on the old one.
    pub async fn submit(&self, button: &str) -> anyhow::Result<()> {
        let deadline = std::time::Instant::now() + WAIT;
        let old = loop {
            // A page still arriving from the step before may have no <html> for a moment, or
            // replace the button between finding and pressing it: then on the page that came.
            let html = match self.client.find(Locator::Css("html")).await {
                Ok(html) => html,
                Err(_) if std::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                Err(e) => return Err(e).context("finding <html>"),
            };
            match self.visible(Locator::Css(button)).await?.click().await {
                Ok(_) => break html,
                Err(e) if std::time::Instant::now() < deadline && is_stale(&e) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e).with_context(|| format!("clicking {button}")),
            }
        };
        let deadline = std::time::Instant::now() + WAIT;
        // The old document's <html> goes stale when the new page replaces it.
        while old.tag_name().await.is_ok() {
            ensure!(
                std::time::Instant::now() < deadline,
                "the page did not change after clicking {button}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// The displayed text of `css` once the page has been replaced: clicks `button`, waits until
    /// the page it was on is gone (a form's redirect), then reads `css` on the new page.
    pub async fn click_then_text(&self, button: &str, css: &str) -> anyhow::Result<String> {
        self.submit(button).await?;
        self.text_of(css).await
    }

    /// The innermost element whose own text contains `text`, checked to be displayed.
    pub async fn visible_text(&self, text: &str) -> anyhow::Result<Element> {
        let xpath = format!(
            "//body//*[text()[contains(normalize-space(.), {})]]",
            xpath_literal(text)
        );
        self.visible(Locator::XPath(&xpath))
            .await
            .with_context(|| format!("text {text:?} is not visible"))
    }

    /// The displayed text of the first element matching the CSS selector `css`.
    pub async fn text_of(&self, css: &str) -> anyhow::Result<String> {
        // The page may still be replacing itself (a form's answer arriving) between finding the
        // element and reading it: read it again from the new page.
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let el = self.visible(Locator::Css(css)).await?;
            match el.text().await {
                Ok(t) => return Ok(t.trim().to_owned()),
                Err(e) if std::time::Instant::now() < deadline && is_stale(&e) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e).context("element text"),
            }
        }
    }

    /// The `lang` attribute of `<html>`.
    pub async fn html_lang(&self) -> anyhow::Result<String> {
        let html = self
            .client
            .find(Locator::Css("html"))
            .await
            .context("finding <html>")?;
        html.attr("lang")
            .await
            .context("reading html@lang")?
            .ok_or_else(|| anyhow!("<html> has no lang attribute"))
    }

    /// Saves a full-page PNG (the whole document, not only the window) to
    /// `<target>/screenshots/<test>-<step>.png` and returns its path.
    pub async fn screenshot(&self, step: &str) -> anyhow::Result<PathBuf> {
        // Under load, a page being laid out again (after a resize) can report an empty content
        // size for a moment, and Chromium refuses a 0-wide capture: ask again, up to 2 s.
        let mut tries = 0;
        let (w, h) = loop {
            let metrics = self
                .client
                .issue_cmd(Cdp::new("Page.getLayoutMetrics", json!({})))
                .await
                .context("Page.getLayoutMetrics")?;
            let size = &metrics["cssContentSize"];
            let (Some(w), Some(h)) = (size["width"].as_f64(), size["height"].as_f64()) else {
                bail!("Page.getLayoutMetrics gave no cssContentSize: {metrics}");
            };
            tries += 1;
            if (w >= 1.0 && h >= 1.0) || tries >= 20 {
                break (w.max(1.0), h.max(1.0));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let shot = self
            .client
            .issue_cmd(Cdp::new(
                "Page.captureScreenshot",
                json!({
                    "format": "png",
                    "captureBeyondViewport": true,
                    "clip": { "x": 0, "y": 0, "width": w.ceil(), "height": h.ceil(), "scale": 1 },
                }),
            ))
            .await
            .context("Page.captureScreenshot")?;
        let data = shot["data"]
            .as_str()
            .ok_or_else(|| anyhow!("Page.captureScreenshot gave no data"))?;
        let png = STANDARD.decode(data).context("decoding the screenshot")?;

        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(format!("{}-{step}.png", self.test));
        std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    /// Sets the viewport to `width` CSS pixels: a phone (touch, `mobile`, 844 px high) below
    /// 768, a desktop window (1600 px high) otherwise, at device scale 1. The page is laid out
    /// again (no reload, so a page that answered a POST stays as it is); checks that the page's
    /// `@media` queries see exactly `width`.
    pub async fn set_width(&self, width: u32) -> anyhow::Result<()> {
        let mobile = width < 768;
        let height = if mobile { 844 } else { WINDOW.1 };
        self.client
            .issue_cmd(Cdp::new(
                "Emulation.setDeviceMetricsOverride",
                json!({
                    "width": width,
                    "height": height,
                    "deviceScaleFactor": 1,
                    "mobile": mobile,
                }),
            ))
            .await
            .context("Emulation.setDeviceMetricsOverride")?;
        let seen = self
            .client
            .execute_async(
                "const width = arguments[0];
                 const done = arguments[arguments.length - 1];
                 requestAnimationFrame(() => requestAnimationFrame(() => done({
                     inner: window.innerWidth,
                     client: document.documentElement.clientWidth,
                     media: matchMedia('(width: ' + width + 'px)').matches,
                 })));",
                vec![json!(width)],
            )
            .await
            .context("waiting for the layout at the new width")?;
        ensure!(
            seen["client"].as_u64() == Some(u64::from(width)) && seen["media"] == json!(true),
            "the page is not laid out for a {width}px viewport (no <meta name=viewport>?): \
             it sees {seen}"
        );
        Ok(())
    }

    /// What does not fit the viewport on the current page; empty when all is well:
    ///
    /// - the document is wider than the window (the layout viewport,
    ///   `documentElement.clientWidth`: on a phone `innerWidth` grows to take in what sticks
    ///   out); then each element whose right edge is past the window (outermost ones) and each
    ///   element that fits but whose content spills out past the window (innermost ones),
    ///   skipping what lies inside a box that scrolls sideways by itself
    ///   (`overflow-x: auto | scroll`);
    /// - a button whose label wraps onto more than one line;
    /// - a table column narrower than 2.5 em holding three characters or more (words broken
    ///   into single syllables).
    ///
    /// At most 16 lines.
    pub async fn overflow(&self) -> anyhow::Result<Vec<String>> {
        let found = self
            .client
            .execute(
                r#"
// The layout viewport: on a phone, innerWidth grows to take in what sticks out.
const vw = document.documentElement.clientWidth;
const doc = document.documentElement.scrollWidth;
const describe = (el) => {
  let d = el.tagName.toLowerCase();
  if (el.id) d += '#' + el.id;
  if (typeof el.className === 'string' && el.className.trim())
    d += '.' + el.className.trim().split(/\s+/).join('.');
  const text = (el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 30);
  return text ? d + ' "' + text + '"' : d;
};
const scrollsItself = (el) => {
  for (let p = el.parentElement; p; p = p.parentElement) {
    const o = getComputedStyle(p).overflowX;
    if (o === 'auto' || o === 'scroll') return true;
  }
  return false;
};
const shown = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
const out = [];
if (doc > vw) {
  out.push('document is ' + doc + 'px wide in a ' + vw + 'px window');
  // Boxes that stick out, outermost first.
  const reported = new Set();
  // Boxes that fit but whose content (a long word, a table) spills out of them past the window.
  const spilling = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (!shown(el) || scrollsItself(el)) continue;
    if (r.right > vw + 0.5) {
      let p = el.parentElement, inside = false;
      for (; p; p = p.parentElement) if (reported.has(p)) { inside = true; break; }
      if (!inside) reported.add(el);
    } else if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'visible'
               && r.left + el.scrollWidth > vw + 0.5) {
      spilling.push(el);
    }
  }
  for (const el of reported) {
    const r = el.getBoundingClientRect();
    out.push(describe(el) + ': right edge at ' + Math.round(r.right) + 'px, '
             + Math.round(r.width) + 'px wide');
  }
  // Only the innermost of nested spilling boxes: that is where the content does not fit.
  for (const el of spilling.filter((e) => !spilling.some((d) => d !== e && e.contains(d))))
    out.push(describe(el) + ': content ' + el.scrollWidth + 'px wide in a ' + el.clientWidth
             + 'px box');
}
// A button's label on one line.
for (const el of document.querySelectorAll('button, a.button, input[type=submit]')) {
  if (!shown(el)) continue;
  const range = document.createRange();
  range.selectNodeContents(el);
  const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0)
                        .map((r) => Math.round(r.top)));
  if (lines.size > 1) out.push(describe(el) + ': the label wraps onto ' + lines.size + ' lines');
}
// No table column so narrow that its words break into single letters.
for (const el of document.querySelectorAll('td, th')) {
  if (!shown(el) || getComputedStyle(el).display !== 'table-cell') continue;
  const text = (el.textContent || '').trim();
  const em = parseFloat(getComputedStyle(el).fontSize);
  if (text.length >= 3 && el.clientWidth < 2.5 * em)
    out.push(describe(el) + ': a column ' + el.clientWidth + 'px wide');
}
return out.slice(0, 16);
"#,
                vec![],
            )
            .await
            .context("measuring the layout")?;
        let list = found
            .as_array()
            .ok_or_else(|| anyhow!("the width check gave {found}"))?;
        Ok(list
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect())
    }

    /// Fails, naming what does not fit, when [`Self::overflow`] finds anything.
    pub async fn assert_fits(&self) -> anyhow::Result<()> {
        let found = self.overflow().await?;
        ensure!(
            found.is_empty(),
            "does not fit the window on {}:\n  {}",
            self.page_label().await,
            found.join("\n  ")
        );
        Ok(())
    }

    /// Runs axe-core ([`AXE`], WCAG 2.0 and 2.1, levels A and AA) on the current page and returns
    /// the violations of impact "serious" or "critical".
    pub async fn axe_violations(&self) -> anyhow::Result<Vec<AxeViolation>> {
        // Injected through WebDriver, which the page's CSP does not govern; once per document.
        let injected = self
            .client
            .execute(
                &format!("if (!window.axe) {{\n{AXE}\n}}\nreturn typeof window.axe;"),
                vec![],
            )
            .await
            .context("injecting axe-core")?;
        ensure!(
            injected == json!("object"),
            "axe-core did not load: window.axe is {injected}"
        );
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { runOnly: { type: 'tag',
                         values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
                   .then((r) => done({ violations: r.violations.map((v) => ({
                       id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
                       targets: v.nodes.slice(0, 4).map((n) => n.target.join(' ')) })) }))
                   .catch((e) => done({ error: String(e) }));",
                vec![],
            )
            .await
            .context("running axe-core")?;
        if let Some(e) = result.get("error") {
            bail!("axe-core failed: {e}");
        }
        let all: Vec<AxeViolation> = serde_json::from_value(result["violations"].clone())
            .with_context(|| format!("axe-core's answer: {result}"))?;
        Ok(all
            .into_iter()
            .filter(|v| matches!(v.impact.as_deref(), Some("serious" | "critical")))
            .collect())
    }

    /// Fails with a readable list when axe-core finds serious or critical violations.
    pub async fn assert_accessible(&self) -> anyhow::Result<()> {
        let found = self.axe_violations().await?;
        ensure!(
            found.is_empty(),
            "accessibility violations on {}:\n  {}",
            self.page_label().await,
            found
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n  ")
        );
        Ok(())
    }

    /// Checks the current page at 1280 and at 390 CSS pixels: a full-page screenshot
    /// `<test>-<name>-<width>.png` at each, everything fits ([`Self::overflow`]), and no serious or
    /// critical axe-core violation. Every problem at both widths comes back in one error; the
    /// viewport is left at 1280.
    pub async fn check_page(&self, name: &str) -> anyhow::Result<()> {
        let page = self.page_label().await;
        let mut problems = Vec::new();
        for width in [1280, 390] {
            if let Err(e) = self.set_width(width).await {
                // The other checks still say something about the page as it is.
                problems.push(format!("{width}px: {e:#}"));
            }
            if let Err(e) = self.screenshot(&format!("{name}-{width}")).await {
                problems.push(format!("{width}px: screenshot: {e:#}"));
            }
            match self.overflow().await {
                Ok(found) if found.is_empty() => {}
                Ok(found) => problems.push(format!(
                    "{width}px: does not fit:\n    {}",
                    found.join("\n    ")
                )),
                Err(e) => problems.push(format!("{width}px: {e:#}")),
            }
            match self.axe_violations().await {
                Ok(found) if found.is_empty() => {}
                Ok(found) => problems.push(format!(
                    "{width}px: accessibility:\n    {}",
                    found
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("\n    ")
                )),
                Err(e) => problems.push(format!("{width}px: {e:#}")),
            }
        }
        if let Err(e) = self.set_width(WINDOW.0).await {
            problems.push(format!("back to {}px: {e:#}", WINDOW.0));
        }
        ensure!(
            problems.is_empty(),
            "page {name} ({page}):\n  {}",
            problems.join("\n  ")
        );
        Ok(())
    }

    async fn page_label(&self) -> String {
        match self.current_path().await {
            Ok(p) => p,
            Err(_) => "(unknown page)".to_owned(),
        }
    }

    /// Ends the WebDriver session (Chromium quits), then the driver is killed on drop.
    pub async fn close(self) {
        let _ = tokio::time::timeout(WAIT, self.client.clone().close()).await;
        // Dropping `self` kills the driver's process group and stops the server.
    }
}

/// The path of a required program, or an error saying what to install.
fn tool(env: &str, default: &str, package: &str) -> anyhow::Result<PathBuf> {
    let path = PathBuf::from(std::env::var_os(env).unwrap_or_else(|| default.into()));
    ensure!(
        path.is_file(),
        "{} not found: browser tests need Debian's package {package} \
         (`apt-get install chromium chromium-driver fonts-noto-cjk`; .ci/run installs them), \
         or set {env} to the program",
        path.display()
    );
    Ok(path)
}

fn capabilities(chromium: &Path, user_data_dir: &Path) -> Capabilities {
    let args = vec![
        "--headless=new".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--no-default-browser-check".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--disable-extensions".to_owned(),
        "--hide-scrollbars".to_owned(),
        format!("--window-size={},{}", WINDOW.0, WINDOW.1),
        format!("--user-data-dir={}", user_data_dir.display()),
    ];
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": args,
        },
    });
    match caps {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}

/// axe-core, vendored (see `tests/assets/README.md`).
pub const AXE: &str = include_str!("../assets/axe.min.js");

/// One axe-core rule that failed on a page.
#[derive(Debug, serde::Deserialize)]
pub struct AxeViolation {
    /// The rule, e.g. `color-contrast`.
    pub id: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    pub impact: Option<String>,
    /// What the rule asks for, in a sentence.
    pub help: String,
    /// How many elements fail it.
    pub nodes: usize,
    /// CSS selectors of the first few of them.
    pub targets: Vec<String>,
}

impl std::fmt::Display for AxeViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} [{}] {} — {} element(s): {}",
            self.id,
            self.impact.as_deref().unwrap_or("?"),
            self.help,
            self.nodes,
            self.targets.join(" | ")
        )
    }
}

/// `<target>/screenshots`: `CARGO_TARGET_DIR` if set, else the workspace's `target/`.
pub fn screenshot_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace.join(dir), // an absolute path replaces the base
        None => workspace.join("target"),
    };
    target.join("screenshots")
}

/// An XPath string literal for `s` (XPath 1.0 has no escapes).
fn xpath_literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains('"') {
        format!("\"{s}\"")
    } else {
        let parts: Vec<String> = s.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// A Chrome DevTools Protocol command through ChromeDriver's `goog/cdp/execute`.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl Cdp {
    fn new(cmd: &'static str, params: Value) -> Self {
        Self { cmd, params }
    }
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

/// The site under test, served in-process; stopped on drop.
#[derive(Debug)]
struct Server {
    addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
    /// The name of every cookie the site set (a `Set-Cookie` that is not a removal), in any
    /// response of the test.
    cookies: std::sync::Arc<std::sync::Mutex<std::collections::BTreeSet<String>>>,
}

impl Server {
    async fn start(site: &TestApp, office_allow: &[&str]) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the test server")?;
        let addr = listener.local_addr()?;
        let cookies = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
        let seen = cookies.clone();
        let router = if office_allow.is_empty() {
            jikimi_web::router(site.app.clone())
        } else {
            jikimi_web::router_with(jikimi_web::AppState {
                app: site.app.clone(),
                secure_cookies: false,
                trusted_proxies: jikimi_web::client::TrustedProxies::default(),
                body_timeout: jikimi_web::serve::DEFAULT_HEADER_TIMEOUT,
                office_allow: jikimi_web::client::TrustedProxies::parse(office_allow)
                    .map_err(anyhow::Error::msg)?,
            })
        };
        let with_peer = !office_allow.is_empty();
        let router = router.layer(axum::middleware::map_response(
            move |res: axum::response::Response| {
                let seen = seen.clone();
                async move {
                    for v in res.headers().get_all(axum::http::header::SET_COOKIE) {
                        let v = v.to_str().unwrap_or_default();
                        let removal = v.contains("Max-Age=0");
                        if let Some((name, _)) = v.split_once('=')
                            && !removal
                        {
                            seen.lock().unwrap().insert(name.trim().to_owned());
                        }
                    }
                    res
                }
            },
        ));
        let task = tokio::spawn(async move {
            let served = if with_peer {
                axum::serve(
                    listener,
                    router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
                )
                .await
            } else {
                axum::serve(listener, router).await
            };
            if let Err(e) = served {
                eprintln!("test server stopped: {e}");
            }
        });
        Ok(Self {
            addr,
            task,
            cookies,
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// ChromeDriver on a free loopback port, in its own process group.
#[derive(Debug)]
struct Driver {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Driver {
    fn start(program: &Path, dir: &Path) -> anyhow::Result<Self> {
        let log = dir.join("chromedriver.log");
        let mut child = Command::new(program)
            .arg("--port=0") // it picks a free port and prints it
            .arg(format!("--log-path={}", log.display()))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let stdout = child.stdout.take().context("chromedriver stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Reads until ChromeDriver exits, so its stdout never fills up.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("started successfully on port ").nth(1) {
                    let port = rest.trim_end_matches('.').trim().parse::<u16>();
                    let _ = tx.send(port);
                }
            }
        });
        let mut driver = Self {
            child,
            url: String::new(),
            log,
        };
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(Ok(port)) => {
                driver.url = format!("http://127.0.0.1:{port}");
                Ok(driver)
            }
            Ok(Err(e)) => bail!("chromedriver printed a bad port: {e}"),
            Err(_) => {
                let status = driver.child.try_wait().ok().flatten();
                bail!(
                    "chromedriver did not start within {START_TIMEOUT:?} (exit: {status:?})\n{}",
                    driver.log_tail(40)
                )
            }
        }
    }

    fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        let tail = &all[all.len().saturating_sub(lines)..];
        format!(
            "--- chromedriver log ({}), last {} lines:\n{}",
            self.log.display(),
            tail.len(),
            tail.join("\n")
        )
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: ChromeDriver and every Chromium process it started.
        let pgid = self.child.id();
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pgid}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
