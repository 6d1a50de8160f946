//! The JSON request bodies of the API, through the extractor the handlers use (`ApiJson`,
//! axum's JSON reader with problem-document rejections) and then the validation the
//! handlers run before anything reaches the store, without a server:
//!
//! - the extractor accepts exactly the JSON objects serde_json accepts for the body type (an
//!   array, which serde would also read as a struct, is refused), and a rejection is a 400
//!   problem whose detail does not quote a value of the body;
//! - sign-up and correction bodies: every item value goes through `validate::normalize` of the
//!   shipped policies' item (errors name the item, never quote the value), the login ID through
//!   `validate::login_id` (idempotent, lower case), passwords through `validate::password`;
//! - 본인확인 bodies: the birth date, carrier and mobile number as the handler reads them;
//! - field errors become a 422 problem naming each field.
#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::FromRequest;
use axum::http::{Request, StatusCode};
use chrono::NaiveDate;
use jikimi_core::FieldError;
use jikimi_core::identity::Carrier;
use jikimi_core::validate::{login_id, normalize, password, personal_fragments};
use jikimi_fuzz::shift_digits;
use jikimi_kr::{PersonName, Phone};
use jikimi_policy::{Lang, Policy};
use jikimi_web::account::api::LoginBody;
use jikimi_web::extract::ApiJson;
use jikimi_web::leave::api::{RetainedBody, WithdrawalBody};
use jikimi_web::me::api::{ConsentBody, CorrectionBody, PasswordBody};
use jikimi_web::problem::ApiError;
use jikimi_web::signup::api::{
    IdentityConfirmBody, IdentityRequestBody, SandboxSmsBody, SignUpBody,
};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(
        || match tokio::runtime::Builder::new_current_thread().build() {
            Ok(rt) => rt,
            Err(e) => panic!("no runtime: {e}"),
        },
    )
}

fn policies() -> &'static [Policy] {
    static P: OnceLock<Vec<Policy>> = OnceLock::new();
    P.get_or_init(|| {
        Policy::BUILTIN_NAMES
            .iter()
            .filter_map(|n| Policy::builtin(n).and_then(Result::ok))
            .map(|l| l.policy)
            .collect()
    })
}

/// The document with the digits of every value (not of the keys) shifted.
fn shift_values(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) => Value::String(shift_digits(s)),
        Value::Number(n) => {
            serde_json::from_str(&shift_digits(&n.to_string())).unwrap_or(Value::Null)
        }
        Value::Array(a) => Value::Array(a.iter().map(shift_values).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), shift_values(x)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The API's extractor on `body`: the value, or the rejection.
fn api_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/fuzz")
        .header("content-type", "application/json")
        .body(Body::from(body.to_vec()));
    let req = match req {
        Ok(r) => r,
        Err(e) => panic!("request: {e}"),
    };
    runtime()
        .block_on(ApiJson::<T>::from_request(req, &()))
        .map(|ApiJson(v)| v)
}

/// Reads `body` as `T` through the API's extractor; checks it agrees with serde_json and that
/// a rejection is a 400 problem whose detail does not quote a value of the body (the same
/// document with its values' digits shifted gets the same detail).
fn extract<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    // The API reads only objects (serde would also read a struct from an array).
    let object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let plain = object && serde_json::from_slice::<T>(body).is_ok();
    match api_json::<T>(body) {
        Ok(v) => {
            assert!(plain, "the extractor accepted what serde_json refuses");
            Some(v)
        }
        Err(e) => {
            assert!(!plain, "the extractor refused what serde_json accepts");
            assert_eq!(e.status, StatusCode::BAD_REQUEST);
            assert_eq!(e.code, "bad_request");
            if let Ok(doc) = serde_json::from_slice::<serde_json::Value>(body) {
                let twin = shift_values(&doc);
                let (Ok(a), Ok(b)) = (serde_json::to_vec(&doc), serde_json::to_vec(&twin)) else {
                    return None;
                };
                if a.len() == b.len()
                    && let (Err(ea), Err(eb)) = (api_json::<T>(&a), api_json::<T>(&b))
                {
                    assert_eq!(
                        ea.detail, eb.detail,
                        "the problem quotes a value of the body"
                    );
                }
            }
            None
        }
    }
}

/// Field errors: each names its field and carries a rule and messages, and the 422 problem
/// lists them in order.
fn check_fields(errors: &[FieldError]) {
    for e in errors {
        assert!(!e.field.is_empty() && !e.code.is_empty());
        assert!(!e.ko.is_empty() && !e.en.is_empty());
    }
    for lang in [Lang::Ko, Lang::En] {
        let problem = ApiError::fields(lang, errors);
        assert_eq!(problem.status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<&str> = problem.errors.iter().map(|p| p.field.as_str()).collect();
        let expected: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, expected);
    }
}

/// The item values of a sign-up or correction, through each shipped policy's item.
fn check_items<'a>(items: impl Iterator<Item = (&'a String, &'a str)> + Clone) {
    for policy in policies() {
        let mut errors = vec![];
        for (id, raw) in items.clone() {
            let Some(item) = policy.item(id) else {
                continue;
            };
            match normalize(item, raw) {
                Ok(n) => {
                    let stored = n.stored.expose();
                    match normalize(item, stored) {
                        Ok(again) => assert_eq!(again.stored.expose(), stored, "{id}"),
                        Err(e) => panic!("{id}: the stored form is refused: {}", e.code),
                    }
                }
                Err(e) => {
                    assert_eq!(&e.field, id);
                    // Not the value in the message: its digit-shifted twin reads the same.
                    if let Err(t) = normalize(item, &shift_digits(raw))
                        && t.code == e.code
                    {
                        assert_eq!(
                            (&t.ko, &t.en),
                            (&e.ko, &e.en),
                            "{id}: the message quotes the value"
                        );
                    }
                    errors.push(e);
                }
            }
        }
        check_fields(&errors);
    }
}

fn check_login_id(raw: &str) -> Option<String> {
    match login_id(raw) {
        Ok(v) => {
            assert!((4..=20).contains(&v.len()));
            assert!(
                v.bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || b == b'_'
                    || b == b'-')
            );
            assert_eq!(login_id(&v).as_ref(), Ok(&v));
            Some(v)
        }
        Err(e) => {
            assert_eq!(e.field, "login_id");
            None
        }
    }
}

fn check_password(pw: &str, personal: &[String]) {
    match password(pw, personal) {
        Ok(()) => {
            let n = pw.chars().count();
            assert!((8..=128).contains(&n));
            let lower = pw.to_lowercase();
            for p in personal.iter().filter(|p| p.chars().count() >= 4) {
                assert!(!lower.contains(&p.to_lowercase()));
            }
        }
        Err(e) => {
            assert_eq!(e.field, "password");
            check_fields(&[e]);
        }
    }
}

fuzz_target!(|body: &[u8]| {
    if let Some(b) = extract::<SignUpBody>(body) {
        check_items(b.items.iter().map(|(k, v)| (k, v.as_str())));
        let login = check_login_id(&b.login_id);
        let birth = b
            .items
            .get("birth_date")
            .and_then(|v| jikimi_core::validate::birth_date(v));
        let phones: Vec<String> = b
            .items
            .values()
            .filter_map(|v| Phone::parse(v).ok())
            .map(|p| p.e164().to_owned())
            .collect();
        let phone_refs: Vec<&str> = phones.iter().map(String::as_str).collect();
        let mut personal = personal_fragments(birth, &phone_refs);
        personal.extend(login);
        check_password(&b.password, &personal);
        for policy in policies() {
            for category in b.consents.keys() {
                let _ = policy.consent(category);
            }
        }
    }
    if let Some(b) = extract::<CorrectionBody>(body) {
        check_items(b.items.iter().filter_map(|(k, v)| {
            v.as_deref()
                .filter(|v| !v.trim().is_empty())
                .map(|v| (k, v))
        }));
    }
    if let Some(b) = extract::<LoginBody>(body) {
        check_login_id(&b.login_id);
    }
    if let Some(b) = extract::<PasswordBody>(body) {
        check_password(&b.new_password, &[]);
    }
    if let Some(b) = extract::<IdentityRequestBody>(body) {
        // As the handler reads it, then as 본인확인 checks it.
        let birth = NaiveDate::parse_from_str(b.birth_date.trim(), "%Y-%m-%d").ok();
        if let Some(d) = birth {
            assert_eq!(
                NaiveDate::parse_from_str(&d.format("%Y-%m-%d").to_string(), "%Y-%m-%d").ok(),
                Some(d)
            );
        }
        if let Some(c) = Carrier::parse(&b.carrier) {
            let _ = c;
            assert!(matches!(
                b.carrier.trim().to_ascii_lowercase().as_str(),
                "skt" | "kt" | "lgu" | "lgu+" | "mvno"
            ));
        }
        let _ = Phone::parse_mobile(&b.mobile);
        let _ = PersonName::parse(&b.name);
    }
    if let Some(b) = extract::<SandboxSmsBody>(body) {
        let _ = Phone::parse(&b.mobile);
    }
    let _ = extract::<IdentityConfirmBody>(body);
    let _ = extract::<WithdrawalBody>(body);
    let _ = extract::<RetainedBody>(body);
    let _ = extract::<ConsentBody>(body);
});
