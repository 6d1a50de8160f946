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
    // Screenshots of the two halves go to different files.
    let named = match backend {
        Backend::Sqlite => test.to_owned(),
        Backend::Postgres => format!("{test}-pg"),
    };
    let test = named.as_str();
    let session = Session::start(test, profile, backend)
        .await
        .unwrap_or_else(|e| panic!("{test}: browser session did not start: {e:#}"));
    let body = CatchUnwind(Box::pin(body(&session)));
    let outcome = match tokio::time::timeout(TEST_TIMEOUT, body).await {
        Ok(Ok(r)) => r.map_err(Failure::Error),
        Ok(Err(panic)) => Err(Failure::Panic(panic)),
        Err(_) => Err(Failure::Error(anyhow!("timed out after {TEST_TIMEOUT:?}"))),
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
    pub async fn start(test: &str, profile: &str, backend: Backend) -> anyhow::Result<Self> {
        let chromium = tool("JIKIMI_CHROMIUM", CHROMIUM, "chromium")?;
        let chromedriver = tool("JIKIMI_CHROMEDRIVER", CHROMEDRIVER, "chromium-driver")?;

        let site = TestApp::on(backend, profile).await;
        let server = Server::start(&site).await?;
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
        let found = self.client.wait().at_most(WAIT).for_element(locator).await;
        let el = match found {
            Ok(el) => el,
            Err(e) => bail!("no element {what} on {}: {e}", self.page_label().await),
        };
        ensure!(
            el.is_displayed().await.context("is_displayed")?,
            "element {what} is present but not displayed"
        );
        Ok(el)
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
        let el = self.visible(Locator::Css(css)).await?;
        Ok(el.text().await.context("element text")?.trim().to_owned())
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
        let metrics = self
            .client
            .issue_cmd(Cdp::new("Page.getLayoutMetrics", json!({})))
            .await
            .context("Page.getLayoutMetrics")?;
        let size = &metrics["cssContentSize"];
        let (w, h) = (size["width"].as_f64(), size["height"].as_f64());
        let (Some(w), Some(h)) = (w, h) else {
            bail!("Page.getLayoutMetrics gave no cssContentSize: {metrics}");
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
}

impl Server {
    async fn start(site: &TestApp) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the test server")?;
        let addr = listener.local_addr()?;
        let router = jikimi_web::router(site.app.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                eprintln!("test server stopped: {e}");
            }
        });
        Ok(Self { addr, task })
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
