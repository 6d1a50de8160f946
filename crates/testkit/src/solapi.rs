//! A local stand-in for SOLAPI's message API (`POST /messages/v4/send-many/detail`), following
//! its documentation (solapi/documents: `authentication/api-key.md`,
//! `api-reference/message-status-codes.md`, the v4 message API's error examples) and the
//! official SDKs (solapi-nodejs `src/lib/authenticator.ts`, `src/services/messages/
//! messageService.ts`, `src/models/responses/sendManyDetailResponse.ts`).
//!
//! - Authentication: `Authorization: HMAC-SHA256 apiKey=…, date=…, salt=…, signature=…` (the
//!   parameter names in any case, as the Python SDK writes `ApiKey=`, `Date=`); the date
//!   ISO 8601 within 15 minutes of now, a salt of 12 to 64 characters, the signature the hex
//!   HMAC-SHA256 of date + salt under the secret, and no signature used twice within 15 minutes.
//!   Otherwise 403 with `InvalidAPIKey`, `RequestTimeTooSkewed`, `SignatureDoesNotMatch` or
//!   `DuplicatedSignature`, as documented.
//! - The body: a request that is not JSON, has no non-empty `messages` array, or a message
//!   without string `to`, `from` and `text`, or with a number that is not 8 to 15 digits, is
//!   refused with 400 `ValidationError` (whose `errorMessage`, like SOLAPI's, may quote the
//!   value). A well-formed message the rules refuse lands in `failedMessageList` with its status
//!   code: 1025 (type other than SMS/LMS), 1013 (a subject on an SMS), 1031 (too long for its
//!   type: SMS 90, LMS 2,000 EUC-KR bytes). Without `type`, SMS or LMS is chosen by length
//!   (`autoTypeDetect`, on by default).
//! - An accepted message is kept (see [`FakeSolapi::messages`]) and answered with status 2000
//!   (정상 접수) in `messageList` (with `showMessageList`) and a `groupInfo`.
//!
//! Knobs: [`FakeSolapi::fail_next`] answers the next request with an HTTP error (429 and 5xx
//! bodies are not documented by SOLAPI; this fake says `TooManyRequests` and `InternalError`),
//! [`FakeSolapi::refuse_next`] puts the next message into `failedMessageList` with a status code
//! (for example 1062, 발신번호 미등록, or 1030, 잔액 부족).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// The path SOLAPI sends on.
pub const SEND_PATH: &str = "/messages/v4/send-many/detail";

/// A message the fake accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeSms {
    pub to: String,
    pub from: String,
    pub text: String,
    /// `SMS` or `LMS`.
    pub kind: String,
    pub subject: Option<String>,
}

#[derive(Default)]
struct Fake {
    signatures: HashMap<String, DateTime<Utc>>,
    fail: VecDeque<u16>,
    refuse: VecDeque<String>,
    messages: Vec<FakeSms>,
    requests: usize,
}

struct Shared {
    api_key: String,
    api_secret: String,
    state: Mutex<Fake>,
}

/// The fake SOLAPI, on a loopback port of its own (a thread with its own runtime); stopped when
/// dropped.
pub struct FakeSolapi {
    url: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl std::fmt::Debug for FakeSolapi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FakeSolapi({})", self.url)
    }
}

impl Drop for FakeSolapi {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl FakeSolapi {
    /// Starts a fake that knows one API key pair.
    pub fn start(api_key: &str, api_secret: &str) -> Self {
        let shared = Arc::new(Shared {
            api_key: api_key.to_owned(),
            api_secret: api_secret.to_owned(),
            state: Mutex::new(Fake::default()),
        });
        let (listener, url) = crate::fake::loopback();
        let app = Router::new()
            .route(SEND_PATH, post(send))
            .fallback(not_found)
            .with_state(shared.clone());
        let stop = crate::fake::serve(listener, app, None);
        Self {
            url,
            shared,
            stop: Some(stop),
        }
    }

    /// `http://127.0.0.1:<port>`: the base URL to give the client.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Answers the next request (after those already queued) with `status` and a SOLAPI-style
    /// error body, before looking at it.
    pub fn fail_next(&self, status: u16) {
        self.state().fail.push_back(status);
    }

    /// Refuses the next well-formed, authenticated message with the message status `code` (in
    /// `failedMessageList`, HTTP 200).
    pub fn refuse_next(&self, code: &str) {
        self.state().refuse.push_back(code.to_owned());
    }

    /// The messages accepted so far, the latest last.
    pub fn messages(&self) -> Vec<FakeSms> {
        self.state().messages.clone()
    }

    /// How many requests reached the fake (on the send path).
    pub fn requests(&self) -> usize {
        self.state().requests
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Fake> {
        self.shared.state.lock().unwrap()
    }
}

fn error(status: u16, code: &str, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        axum::Json(json!({ "errorCode": code, "errorMessage": message })),
    )
        .into_response()
}

async fn not_found() -> Response {
    error(404, "ResourceNotFound", "해당 리소스가 존재하지 않습니다.")
}

/// The error body of a status given to [`FakeSolapi::fail_next`].
fn failure(status: u16) -> Response {
    let (code, message) = match status {
        400 => ("ValidationError", "요청 형식이 올바르지 않습니다."),
        402 => ("NotEnoughBalance", "현재보유 잔액이 부족합니다."),
        403 => ("InvalidAPIKey", "유효한 API Key가 아닙니다."),
        429 => ("TooManyRequests", "요청이 너무 많습니다."),
        s if s >= 500 => ("InternalError", "서버 오류가 발생했습니다."),
        _ => ("Error", "오류가 발생했습니다."),
    };
    error(status, code, message)
}

const SKEW_MINUTES: i64 = 15;

/// Checks the `Authorization` header as SOLAPI documents it; a refusal is a 403 with this
/// `errorCode` and `errorMessage`.
fn authenticate(
    shared: &Shared,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> Result<(), (&'static str, &'static str)> {
    let refuse = |code: &'static str, message: &'static str| Err((code, message));
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return refuse("InvalidAPIKey", "Authorization 헤더가 없습니다.");
    };
    let Some(params) = value.strip_prefix("HMAC-SHA256 ") else {
        return refuse("SignatureDoesNotMatch", "지원하지 않는 인증 방식입니다.");
    };
    let mut fields: HashMap<String, &str> = HashMap::new();
    for part in params.split(',') {
        if let Some((k, v)) = part.trim().split_once('=') {
            fields.insert(k.trim().to_ascii_lowercase(), v.trim());
        }
    }
    if fields.get("apikey") != Some(&shared.api_key.as_str()) {
        return refuse("InvalidAPIKey", "유효한 API Key가 아닙니다.");
    }
    let date = fields.get("date").copied().unwrap_or_default();
    let Ok(at) = DateTime::parse_from_rfc3339(date) else {
        return refuse(
            "RequestTimeTooSkewed",
            "date 값이 ISO 8601 형식이 아닙니다.",
        );
    };
    if (now - at.with_timezone(&Utc)).abs() > Duration::minutes(SKEW_MINUTES) {
        return refuse(
            "RequestTimeTooSkewed",
            "시간 값이 서버 시간을 15분 이상 벗어납니다.",
        );
    }
    let salt = fields.get("salt").copied().unwrap_or_default();
    if !(12..=64).contains(&salt.len()) {
        return refuse("SignatureDoesNotMatch", "salt는 12~64바이트여야 합니다.");
    }
    let signature = fields.get("signature").copied().unwrap_or_default();
    let mut mac = Hmac::<Sha256>::new_from_slice(shared.api_secret.as_bytes()).unwrap();
    mac.update(date.as_bytes());
    mac.update(salt.as_bytes());
    // Plain hex, as SOLAPI documents it (the decoder would also take a `0x` prefix).
    let valid = hex::check_raw(signature)
        && hex::decode(signature)
            .ok()
            .is_some_and(|sig| mac.verify_slice(&sig).is_ok());
    if !valid {
        return refuse("SignatureDoesNotMatch", "Signature가 일치하지 않습니다.");
    }
    let mut state = shared.state.lock().unwrap();
    state
        .signatures
        .retain(|_, seen| now - *seen <= Duration::minutes(SKEW_MINUTES));
    if state
        .signatures
        .insert(signature.to_ascii_lowercase(), now)
        .is_some()
    {
        return refuse(
            "DuplicatedSignature",
            "15분 안에 동일한 signature 값입니다.",
        );
    }
    Ok(())
}

/// EUC-KR bytes as the carriers count them: ASCII one, anything else two.
fn euc_kr_len(text: &str) -> usize {
    text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

fn is_number(s: &str) -> bool {
    (8..=15).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

fn random_id(prefix: &str, now: DateTime<Utc>) -> String {
    let tail = uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .to_ascii_uppercase();
    format!("{prefix}{}{}", now.format("%Y%m%d%H%M%S"), &tail[..15])
}

async fn send(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let now = Utc::now();
    let failing = {
        let mut state = shared.state.lock().unwrap();
        state.requests += 1;
        state.fail.pop_front()
    };
    if let Some(status) = failing {
        return failure(status);
    }
    if let Err((code, message)) = authenticate(&shared, &headers, now) {
        return error(403, code, message);
    }
    let invalid = |message: String| error(400, "ValidationError", &message);
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return invalid("요청 본문이 JSON 형식이 아닙니다.".into());
    };
    let Some(list) = request.get("messages").and_then(Value::as_array) else {
        return invalid("messages 의 데이터 타입은 배열이어야 됩니다.".into());
    };
    if list.is_empty() {
        return invalid("데이터가 반드시 1건 이상 기입되어 있어야 합니다.".into());
    }
    let show = request.get("showMessageList").and_then(Value::as_bool) == Some(true);
    let group_id = random_id("G4V", now);
    let mut failed = Vec::new();
    let mut accepted = Vec::new();
    for m in list {
        let field = |name: &str| m.get(name).and_then(Value::as_str);
        let (Some(to), Some(from), Some(text)) = (field("to"), field("from"), field("text")) else {
            return invalid("to, from, text 는 필수 입력 값입니다.".into());
        };
        if !is_number(to) {
            return invalid(format!("수신번호 형식이 올바르지 않습니다: {to}"));
        }
        if !is_number(from) {
            return invalid(format!("발신번호 형식이 올바르지 않습니다: {from}"));
        }
        let subject = field("subject");
        let bytes = euc_kr_len(text);
        let kind = match field("type") {
            Some(t) => t.to_ascii_uppercase(),
            None if bytes <= 90 => "SMS".to_owned(),
            None => "LMS".to_owned(),
        };
        let message_id = random_id("M4V", now);
        let refused = shared.state.lock().unwrap().refuse.pop_front();
        let status = match kind.as_str() {
            _ if refused.is_some() => refused.unwrap_or_default(),
            "SMS" if subject.is_some() => "1013".to_owned(),
            "SMS" if bytes > 90 || text.is_empty() => "1031".to_owned(),
            "LMS" if bytes > 2000 || text.is_empty() => "1031".to_owned(),
            "LMS" if subject.is_some_and(|s| euc_kr_len(s) > 40) => "1014".to_owned(),
            "SMS" | "LMS" => "2000".to_owned(),
            _ => "1025".to_owned(),
        };
        if status == "2000" {
            shared.state.lock().unwrap().messages.push(FakeSms {
                to: to.to_owned(),
                from: from.to_owned(),
                text: text.to_owned(),
                kind: kind.clone(),
                subject: subject.map(str::to_owned),
            });
            accepted.push(json!({
                "messageId": message_id,
                "statusCode": "2000",
                "statusMessage": "정상 접수(이통사로 접수 예정) ",
            }));
        } else {
            failed.push(json!({
                "to": to,
                "from": from,
                "type": kind,
                "statusMessage": format!("접수 실패 (수신번호 {to})"),
                "country": "82",
                "messageId": message_id,
                "statusCode": status,
                "accountId": "12925149",
            }));
        }
    }
    let stamp = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut answer = json!({
        "failedMessageList": failed,
        "groupInfo": {
            "groupId": group_id,
            "count": {
                "total": list.len(),
                "sentTotal": 0,
                "sentFailed": 0,
                "sentSuccess": 0,
                "sentPending": 0,
                "sentReplacement": 0,
                "refund": 0,
                "registeredFailed": failed.len(),
                "registeredSuccess": accepted.len(),
            },
            "status": "SENDING",
            "allowDuplicates": false,
            "isRefunded": false,
            "accountId": "12925149",
            "masterAccountId": null,
            "apiVersion": "4",
            "dateCreated": stamp,
            "dateUpdated": stamp,
        },
    });
    if show {
        answer["messageList"] = Value::Array(accepted);
    }
    (StatusCode::OK, axum::Json(answer)).into_response()
}
