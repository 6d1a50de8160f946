//! A local partner endpoint that receives jikimi's deliveries as a partner's Standard Webhooks
//! receiver would (standardwebhooks.com, "Verifying webhooks"): `POST` with `webhook-id`,
//! `webhook-timestamp` (within 5 minutes of now) and `webhook-signature` (`v1,` and the base64
//! HMAC-SHA256 of `{id}.{timestamp}.{body}` under the secret's bytes, the part after `whsec_`
//! decoded). A request without a valid signature or with a stale timestamp is answered 401, as
//! the standard's libraries refuse it, and not kept. A valid one is kept and answered 204,
//! unless [`FakePartner::fail_next`] says otherwise.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// The path the fake receives on.
pub const PATH: &str = "/jikimi/deliveries";

/// A delivery the fake accepted: its id and its JSON document.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub id: String,
    pub body: Value,
}

#[derive(Default)]
struct Fake {
    fail: VecDeque<u16>,
    received: Vec<Received>,
    refused: usize,
}

struct Shared {
    secret: Vec<u8>,
    state: Mutex<Fake>,
}

/// The fake partner on a loopback port (a thread with its own runtime); stopped when dropped.
pub struct FakePartner {
    url: String,
    secret: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl std::fmt::Debug for FakePartner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FakePartner({})", self.url)
    }
}

impl Drop for FakePartner {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl FakePartner {
    pub fn start() -> Self {
        let raw: [u8; 32] = rand::random();
        let secret = format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        );
        let shared = Arc::new(Shared {
            secret: raw.to_vec(),
            state: Mutex::new(Fake::default()),
        });
        let (listener, origin) = crate::fake::loopback();
        let url = format!("{origin}{PATH}");
        let app = Router::new()
            .route(PATH, post(receive))
            .with_state(shared.clone());
        let stop = crate::fake::serve(listener, app, None);
        Self {
            url,
            secret,
            shared,
            stop: Some(stop),
        }
    }

    /// The endpoint (`http://127.0.0.1:…/jikimi/deliveries`).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The `whsec_…` secret shared with jikimi.
    pub fn secret(&self) -> String {
        self.secret.clone()
    }

    /// Answers the next valid delivery with `status` (and does not keep it).
    pub fn fail_next(&self, status: u16) {
        self.state().fail.push_back(status);
    }

    /// The deliveries kept, in order.
    pub fn received(&self) -> Vec<Received> {
        self.state().received.clone()
    }

    /// Requests refused for a bad or missing signature.
    pub fn refused(&self) -> usize {
        self.state().refused
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Fake> {
        self.shared.state.lock().unwrap()
    }
}

fn verified(secret: &[u8], headers: &HeaderMap, body: &[u8]) -> Option<String> {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let id = get("webhook-id")?;
    let ts: i64 = get("webhook-timestamp")?.parse().ok()?;
    if (chrono::Utc::now().timestamp() - ts).abs() > 300 {
        return None;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).ok()?;
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(body);
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    // The header may carry several space-separated signatures.
    get("webhook-signature")?
        .split(' ')
        .any(|s| s.strip_prefix("v1,") == Some(expected.as_str()))
        .then(|| id.to_owned())
}

async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let mut state = shared.state.lock().unwrap();
    let Some(id) = verified(&shared.secret, &headers, &body) else {
        state.refused += 1;
        return StatusCode::UNAUTHORIZED.into_response();
    };
    if let Some(status) = state.fail.pop_front() {
        return StatusCode::from_u16(status)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response();
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    state.received.push(Received { id, body });
    StatusCode::NO_CONTENT.into_response()
}
