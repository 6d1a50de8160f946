//! The HTTP client of the outside services jikimi calls (SOLAPI, PortOne): one way to check a
//! configured base URL and to read a bounded answer.

use std::time::Duration;

use crate::{CoreError, Result};

/// Every call to an outside service gives up after this.
pub const TIMEOUT: Duration = Duration::from_secs(10);

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// A service's base URL and the client that calls it.
#[derive(Clone)]
pub struct Api {
    pub client: reqwest::Client,
    /// The base URL, ending in `/`.
    pub base: url::Url,
    /// The base URL without its final `/`, for `Debug` and messages.
    pub shown: String,
}

impl Api {
    /// `base_url` must be `https://` (`http://` only to a loopback address, for a local fake),
    /// without a user, password, query or fragment. `service` names it in errors.
    pub fn new(service: &str, base_url: &str) -> Result<Self> {
        let setup = |e: &str| CoreError::Setup(format!("{service}: {e}"));
        let mut base = url::Url::parse(base_url).map_err(|e| setup(&e.to_string()))?;
        let host = base.host().ok_or_else(|| setup("the URL has no host"))?;
        let loopback = is_loopback(&host);
        match base.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => {
                return Err(setup(
                    "the URL must be https:// (http:// only to a loopback address)",
                ));
            }
            _ => return Err(setup("the URL must be https://")),
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(setup("the URL must not carry a user or password"));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(setup("the URL must not carry a query or fragment"));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let shown = base.as_str().trim_end_matches('/').to_owned();
        let mut builder = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("jikimi/", env!("CARGO_PKG_VERSION")))
            .https_only(!loopback);
        if loopback {
            // A proxy from the environment has no business with a local fake.
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|_| setup("the HTTPS client could not start"))?;
        Ok(Self {
            client,
            base,
            shown,
        })
    }

    /// The URL of `segments` under the base, each one percent-encoded as a path segment.
    pub fn url(&self, segments: &[&str]) -> url::Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            path.extend(segments);
        }
        url
    }
}

/// Why an answer could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// Longer than the limit.
    TooLong,
    /// The connection failed while reading.
    Failed(reqwest::Error),
}

/// The body of `answer`, at most `max` bytes.
pub async fn read_limited(
    mut answer: reqwest::Response,
    max: usize,
) -> std::result::Result<Vec<u8>, ReadError> {
    let mut read = Vec::new();
    while let Some(chunk) = answer.chunk().await.map_err(ReadError::Failed)? {
        if read.len() + chunk.len() > max {
            return Err(ReadError::TooLong);
        }
        read.extend_from_slice(&chunk);
    }
    Ok(read)
}
