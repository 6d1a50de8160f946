//! Text messages (issue 14) through SOLAPI's API, against the local fake of
//! `jikimi_testkit::solapi` that checks requests as SOLAPI documents them: SMS or LMS by
//! EUC-KR length, domestic digits, the signed `Authorization` header, and errors that are
//! temporary or permanent and never carry the number or the text. And the sandbox transport,
//! which shares the 본인확인 sandbox's outbox.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use chrono::{Duration, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use jikimi_core::identity::{IdentityProvider, SandboxIdentity, verification_text};
use jikimi_core::mail::SendError;
use jikimi_core::sms::{SandboxSms, SmsTransport, SolapiSms, TextMessage};
use jikimi_kr::Phone;
use jikimi_testkit::person;
use jikimi_testkit::solapi::FakeSolapi;
use sha2::Sha256;

const KEY: &str = "NCSTESTKEY0000001";
const SECRET: &str = "TESTSECRET0000000000000000000001";
/// The operator's registered sender number (발신번호), as configured (hyphens allowed).
const SENDER: &str = "1588-0000";

fn fake() -> (FakeSolapi, SolapiSms) {
    let fake = FakeSolapi::start(KEY, SECRET);
    let sms = SolapiSms::new(&fake.url(), KEY, SECRET).unwrap();
    (fake, sms)
}

/// Person `n`'s mobile number, E.164 as items store it, and in domestic digits.
fn mobile(n: u32) -> (String, String) {
    let p = Phone::parse(&person(n).mobile).unwrap();
    (p.e164().to_owned(), p.display().replace('-', ""))
}

fn message(to: &str, text: &str) -> TextMessage {
    TextMessage {
        to: to.to_owned(),
        text: text.to_owned(),
    }
}

/// Every form a number or text might leak in.
fn assert_clean(e: &SendError, to: &str, text: &str) {
    let said = match e {
        SendError::Transient(s) | SendError::Permanent(s) => s,
    };
    let digits: String = to.chars().filter(char::is_ascii_digit).collect();
    let domestic = format!("0{}", digits.trim_start_matches("82"));
    for needle in [to, digits.as_str(), domestic.as_str(), &digits[2..], text] {
        assert!(!said.contains(needle), "error {said:?} carries {needle:?}");
    }
    assert!(!said.contains(SECRET) && !said.contains(KEY), "{said:?}");
}

#[tokio::test]
async fn a_short_hangul_text_arrives_as_an_sms_in_domestic_digits_from_the_sender() {
    let (fake, sms) = fake();
    let (e164, domestic) = mobile(1);
    let text = verification_text("라이프플랜", "123456");
    sms.send(SENDER, &message(&e164, &text)).await.unwrap();
    let got = fake.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, domestic);
    assert!(got[0].to.starts_with("010") && got[0].to.len() == 11);
    assert_eq!(got[0].from, "15880000");
    assert_eq!(got[0].text, text);
    assert_eq!(got[0].kind, "SMS");
    assert_eq!(got[0].subject, None);
    // Exactly 90 EUC-KR bytes (45 Hangul syllables) is still an SMS.
    sms.send(SENDER, &message(&e164, &"가".repeat(45)))
        .await
        .unwrap();
    assert_eq!(fake.messages()[1].kind, "SMS");
    // Every request signs anew: two sends, two salts, no DuplicatedSignature.
    assert_eq!(fake.requests(), 2);
}

#[tokio::test]
async fn a_text_over_90_euc_kr_bytes_goes_as_an_lms() {
    let (fake, sms) = fake();
    let (e164, domestic) = mobile(2);
    // 91 bytes: 45 syllables and one ASCII character.
    let just_over = format!("{}!", "가".repeat(45));
    sms.send(SENDER, &message(&e164, &just_over)).await.unwrap();
    let long = "지킴이 회원님, 개인정보 처리방침이 변경되어 안내드립니다. ".repeat(10);
    sms.send(SENDER, &message(&e164, &long)).await.unwrap();
    let got = fake.messages();
    assert_eq!(
        got.iter().map(|m| m.kind.as_str()).collect::<Vec<_>>(),
        ["LMS", "LMS"]
    );
    assert_eq!(got[1].text, long);
    assert_eq!(got[1].to, domestic);
    // Over 2,000 bytes: refused here, nothing sent.
    let too_long = "가".repeat(1001);
    let e = sms
        .send(SENDER, &message(&e164, &too_long))
        .await
        .unwrap_err();
    assert!(matches!(e, SendError::Permanent(_)), "{e:?}");
    assert_clean(&e, &e164, &too_long);
    assert_eq!(fake.requests(), 2);
}

#[tokio::test]
async fn a_wrong_secret_or_key_is_permanent_and_names_only_status_and_code() {
    let fake = FakeSolapi::start(KEY, SECRET);
    let (e164, _) = mobile(3);
    let text = "[지킴이] 인증번호 [654321]";
    let wrong_secret = SolapiSms::new(&fake.url(), KEY, "not-the-secret-000000").unwrap();
    let e = wrong_secret
        .send(SENDER, &message(&e164, text))
        .await
        .unwrap_err();
    assert_eq!(
        e,
        SendError::Permanent("solapi 403 SignatureDoesNotMatch (permanent)".into())
    );
    assert_clean(&e, &e164, text);
    let wrong_key = SolapiSms::new(&fake.url(), "NCSOTHERKEY000001", SECRET).unwrap();
    let e = wrong_key
        .send(SENDER, &message(&e164, text))
        .await
        .unwrap_err();
    assert_eq!(
        e,
        SendError::Permanent("solapi 403 InvalidAPIKey (permanent)".into())
    );
    assert!(fake.messages().is_empty());
}

#[tokio::test]
async fn server_trouble_and_rate_limits_are_temporary_and_the_next_try_goes_through() {
    let (fake, sms) = fake();
    let (e164, _) = mobile(4);
    let text = "[지킴이] 인증번호 [111222]";
    let m = message(&e164, text);
    fake.fail_next(500);
    fake.fail_next(429);
    fake.fail_next(503);
    let errors = [
        sms.send(SENDER, &m).await.unwrap_err(),
        sms.send(SENDER, &m).await.unwrap_err(),
        sms.send(SENDER, &m).await.unwrap_err(),
    ];
    assert_eq!(
        errors,
        [
            SendError::Transient("solapi 500 InternalError (temporary)".into()),
            SendError::Transient("solapi 429 TooManyRequests (temporary)".into()),
            SendError::Transient("solapi 503 InternalError (temporary)".into()),
        ]
    );
    for e in &errors {
        assert_clean(e, &e164, text);
    }
    sms.send(SENDER, &m).await.unwrap();
    assert_eq!(fake.messages().len(), 1);
    // No balance (402) is permanent; a provider-side message status 2024 (서버 오류) is not.
    fake.fail_next(402);
    assert_eq!(
        sms.send(SENDER, &m).await.unwrap_err(),
        SendError::Permanent("solapi 402 NotEnoughBalance (permanent)".into())
    );
    fake.refuse_next("2024");
    assert_eq!(
        sms.send(SENDER, &m).await.unwrap_err(),
        SendError::Transient("solapi 200 status 2024 (temporary)".into())
    );
}

#[tokio::test]
async fn a_provider_that_cannot_be_reached_is_temporary() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let sms = SolapiSms::new(&format!("http://127.0.0.1:{port}"), KEY, SECRET).unwrap();
    let (e164, _) = mobile(5);
    let e = sms
        .send(SENDER, &message(&e164, "[지킴이] 인증번호 [000111]"))
        .await
        .unwrap_err();
    assert_eq!(
        e,
        SendError::Transient("solapi unreachable or the connection failed".into())
    );
}

#[tokio::test]
async fn invalid_numbers_and_refused_messages_are_permanent_and_never_quoted() {
    let (fake, sms) = fake();
    let (e164, _) = mobile(6);
    let text = "[지킴이] 인증번호 [222333]";
    let mut errors = Vec::new();
    // Not a mobile number, or not a number: refused before anything is sent.
    for to in ["+82200000000", "+8210000", "010-0000-000x", ""] {
        let e = sms.send(SENDER, &message(to, text)).await.unwrap_err();
        assert!(matches!(e, SendError::Permanent(_)), "{to}: {e:?}");
        if to.len() > 4 {
            assert_clean(&e, to, text);
        }
        errors.push(e);
    }
    assert_eq!(
        errors[0],
        SendError::Permanent("invalid recipient number (phone.not_mobile)".into())
    );
    assert_eq!(fake.requests(), 0);
    // A sender number SOLAPI's validation refuses (its message quotes the number).
    let e = sms.send("1234", &message(&e164, text)).await.unwrap_err();
    assert_eq!(
        e,
        SendError::Permanent("solapi 400 ValidationError (permanent)".into())
    );
    assert!(!format!("{e:?}").contains("1234"));
    // Accepted by HTTP but not by SOLAPI: an unregistered sender (1062) in failedMessageList,
    // whose entry quotes the recipient.
    fake.refuse_next("1062");
    let e = sms.send(SENDER, &message(&e164, text)).await.unwrap_err();
    assert_eq!(
        e,
        SendError::Permanent("solapi 200 status 1062 (permanent)".into())
    );
    assert_clean(&e, &e164, text);
    assert!(fake.messages().is_empty());
}

#[tokio::test]
async fn the_sandbox_pushes_to_the_outbox_it_shares_with_the_identity_sandbox() {
    let identity = SandboxIdentity::default();
    let outbox = identity.sandbox_outbox().unwrap();
    let sms = SandboxSms::new(outbox.clone());
    assert!(Arc::ptr_eq(&sms.sandbox().unwrap(), &outbox));
    let p = person(7);
    let (e164, _) = mobile(7);
    let text = verification_text("지킴이", "987654");
    sms.send(SENDER, &message(&e164, &text)).await.unwrap();
    let got = outbox.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].to.as_str(), got[0].text.as_str()),
        (e164.as_str(), text.as_str())
    );
    assert_eq!(outbox.last_code_for(&p.mobile).as_deref(), Some("987654"));
    // It refuses what SOLAPI would refuse, and keeps nothing of it.
    let e = sms
        .send(SENDER, &message("+82200000000", "x"))
        .await
        .unwrap_err();
    assert!(matches!(e, SendError::Permanent(_)));
    assert_eq!(outbox.messages().len(), 1);
    // Neither transport shows a number or a text in Debug.
    let m = message(&e164, &text);
    assert_eq!(format!("{m:?}"), "TextMessage(<redacted>)");
    assert_eq!(format!("{sms:?}"), "SandboxSms");
}

#[test]
fn the_client_takes_https_or_loopback_http_and_shows_only_its_url() {
    let sms = SolapiSms::new("https://api.solapi.com", KEY, SECRET).unwrap();
    assert_eq!(format!("{sms:?}"), "SolapiSms(https://api.solapi.com)");
    assert!(SolapiSms::new("http://127.0.0.1:9", KEY, SECRET).is_ok());
    assert!(SolapiSms::new("http://[::1]:9", KEY, SECRET).is_ok());
    assert!(SolapiSms::new("http://localhost:9", KEY, SECRET).is_ok());
    for bad in [
        "http://api.solapi.com",
        "http://10.0.0.1",
        "ftp://api.solapi.com",
        "https://user:pw@api.solapi.com",
        "https://api.solapi.com/?k=v",
        "not a url",
    ] {
        assert!(SolapiSms::new(bad, KEY, SECRET).is_err(), "{bad}");
    }
    assert!(SolapiSms::new("https://api.solapi.com", "", SECRET).is_err());
    assert!(SolapiSms::new("https://api.solapi.com", "KEY, x=y", SECRET).is_err());
    assert!(SolapiSms::new("https://api.solapi.com", KEY, "").is_err());
}

/// The fake itself holds to SOLAPI's documented authentication: a signature is good once, the
/// date within 15 minutes, the HMAC under the secret (hex), the parameter names in any case.
#[tokio::test]
async fn the_fake_enforces_solapis_documented_authentication() {
    let fake = FakeSolapi::start(KEY, SECRET);
    let url = format!("{}/messages/v4/send-many/detail", fake.url());
    let (_, domestic) = mobile(8);
    let body = serde_json::json!({
        "messages": [{ "to": domestic, "from": "15880000", "text": "테스트" }]
    });
    let sign = |date: &str, salt: &str| {
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(format!("{date}{salt}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    };
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let post = |auth: String| {
        let request = client.post(&url).header("Authorization", auth).json(&body);
        async move {
            let r = request.send().await.unwrap();
            let status = r.status().as_u16();
            let json: serde_json::Value = r.json().await.unwrap();
            (status, json)
        }
    };
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let header = format!(
        "HMAC-SHA256 apiKey={KEY}, date={now}, salt=jqsba2jxjnrjor, signature={}",
        sign(&now, "jqsba2jxjnrjor")
    );
    let (status, ok) = post(header.clone()).await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok["failedMessageList"], serde_json::json!([]));
    assert!(
        ok["groupInfo"]["groupId"]
            .as_str()
            .unwrap()
            .starts_with("G4V")
    );
    assert_eq!(ok["groupInfo"]["count"]["registeredSuccess"], 1);
    assert_eq!(fake.messages()[0].kind, "SMS"); // no type given: detected by length
    let (status, again) = post(header).await;
    assert_eq!(
        (status, again["errorCode"].as_str()),
        (403, Some("DuplicatedSignature"))
    );
    let old = (Utc::now() - Duration::minutes(16)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let skewed = format!(
        "HMAC-SHA256 apiKey={KEY}, date={old}, salt=salt-for-old-date, signature={}",
        sign(&old, "salt-for-old-date")
    );
    let (status, late) = post(skewed).await;
    assert_eq!(
        (status, late["errorCode"].as_str()),
        (403, Some("RequestTimeTooSkewed"))
    );
    // The Python SDK's spelling, and a date with an offset as the Node SDK writes it.
    let kst = (Utc::now() + Duration::hours(9))
        .format("%Y-%m-%dT%H:%M:%S+09:00")
        .to_string();
    let python = format!(
        "HMAC-SHA256 ApiKey={KEY}, Date={kst}, salt=0123456789abcdef, signature={}",
        sign(&kst, "0123456789abcdef")
    );
    let (status, fine) = post(python).await;
    assert_eq!(status, 200, "{fine}");
    assert!(fine.get("messageList").is_none()); // only with showMessageList
    assert_eq!(fake.messages().len(), 2);
}
