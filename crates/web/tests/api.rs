//! The JSON API, end to end through the router (every layer but the socket).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use jikimi_core::Clock;
use jikimi_testkit::Backend;
use jikimi_testkit::{TestApp, person};
use serde_json::{Value, json};
use tower::ServiceExt;

jikimi_testkit::backend_tests!(
    the_privacy_office_sees_destructions_and_holds_records,
    a_request_completes_when_its_client_goes_away,
    an_item_added_to_the_policy_file_appears_everywhere,
    a_member_does_everything_over_the_api_on_both_profiles,
    one_member_can_never_read_or_change_another,
    tokens_stop_after_logout_password_change_and_withdrawal,
    bad_requests_get_problems_naming_field_and_rule_and_store_nothing,
    cookie_sessions_need_the_csrf_token_and_cookies_are_strict,
    login_limits_and_recent_authentication,
    the_policy_endpoint_serves_the_policy_file,
    an_announced_version_is_shown_and_served_from_its_date,
    openapi_document_matches_the_routes,
    personal_values_never_reach_the_logs,
    identity_items_are_locked_over_the_api,
    browsers_get_pages_and_redirects_the_api_gets_problems,
    text_messages_to_one_number_are_limited_with_429_and_retry_after,
    one_client_cannot_lock_the_member_out_and_identity_lets_them_in,
    limited_api_actions_answer_429_per_client_and_per_target,
    every_error_is_a_problem_for_the_api_and_a_page_for_browsers,
    every_operation_documents_its_errors_as_problems,
    every_answer_is_documented_for_its_operation,
);

struct Api {
    t: TestApp,
    router: axum::Router,
}

struct Res {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

impl Res {
    fn problem_type(&self) -> &str {
        self.body["type"].as_str().unwrap_or_default()
    }
}

impl Api {
    async fn new(b: Backend, profile: &str) -> Self {
        let t = TestApp::on(b, profile).await;
        let router = jikimi_web::router(t.app.clone());
        Self { t, router }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Res {
        let mut b = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = match body {
            Some(v) => b
                .header("content-type", "application/json")
                .body(Body::from(v.to_string()))
                .unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        self.raw(req).await
    }

    async fn raw(&self, req: Request<Body>) -> Res {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), 10 << 20)
            .await
            .unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Res {
            status,
            headers,
            body,
        }
    }

    /// A call from the client `ip` (as the server's connection info gives it).
    async fn call_from(
        &self,
        ip: [u8; 4],
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Res {
        let mut b = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let mut req = match body {
            Some(v) => b
                .header("content-type", "application/json")
                .body(Body::from(v.to_string()))
                .unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        req.extensions_mut()
            .insert(axum::extract::connect_info::ConnectInfo(
                std::net::SocketAddr::from((ip, 40000)),
            ));
        self.raw(req).await
    }

    async fn login_from(&self, ip: [u8; 4], login_id: &str, password: &str) -> Res {
        self.call_from(
            ip,
            Method::POST,
            "/api/v1/sessions",
            Some(json!({"login_id": login_id, "password": password})),
            &[],
        )
        .await
    }

    async fn get(&self, path: &str, token: &str) -> Res {
        let auth = format!("Bearer {token}");
        self.call(Method::GET, path, None, &[("authorization", &auth)])
            .await
    }

    async fn send(&self, method: Method, path: &str, token: &str, body: Value) -> Res {
        let auth = format!("Bearer {token}");
        self.call(method, path, Some(body), &[("authorization", &auth)])
            .await
    }

    async fn counts(&self) -> BTreeMap<String, i64> {
        self.t.row_counts().await
    }

    async fn login(&self, login_id: &str, password: &str) -> Res {
        self.call(
            Method::POST,
            "/api/v1/sessions",
            Some(json!({"login_id": login_id, "password": password})),
            &[],
        )
        .await
    }

    async fn token(&self, p: &jikimi_testkit::Person) -> String {
        let r = self.login(&p.login_id, &p.password).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        r.body["token"].as_str().unwrap().to_owned()
    }
}

fn seed_body(p: &jikimi_testkit::Person) -> Value {
    json!({
        "login_id": p.login_id,
        "password": p.password,
        "items": {
            "name": p.name, "rrn": p.rrn, "phone": p.phone, "postal_code": p.postal_code,
            "address": p.address, "address_detail": p.address_detail, "email": p.email,
            "mobile": p.mobile,
        },
        "consents": {"privacy_policy": true},
    })
}

/// 본인확인 through the sandbox endpoints, then the `lifeplan` sign-up body.
async fn lifeplan_body(api: &Api, p: &jikimi_testkit::Person) -> Value {
    let r = api
        .call(
            Method::POST,
            "/api/v1/identity/requests",
            Some(json!({"name": p.name, "birth_date": p.birth.to_string(), "mobile": p.mobile, "carrier": "kt"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let id = r.body["request_id"].as_str().unwrap().to_owned();
    let sms = api
        .call(
            Method::POST,
            "/api/v1/sandbox/sms",
            Some(json!({"mobile": p.mobile})),
            &[],
        )
        .await;
    // The last text to the number carries this request's code.
    let text = sms.body.as_array().unwrap().last().unwrap()["text"]
        .as_str()
        .unwrap();
    let code: String = text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap()
        .into();
    let r = api
        .call(
            Method::POST,
            &format!("/api/v1/identity/requests/{id}/confirm"),
            Some(json!({"code": code})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    json!({
        "login_id": p.login_id,
        "password": p.password,
        "identity_token": r.body["identity_token"],
        "items": {"email": p.email, "address": p.address, "postal_code": p.postal_code},
        "consents": {"optional_items": true, "marketing": false, "ads_email": false, "ads_sms": false},
    })
}

async fn a_member_does_everything_over_the_api_on_both_profiles(b: Backend) {
    for profile in ["lifeplan-seed", "lifeplan"] {
        let api = Api::new(b, profile).await;
        let p = person(1);
        let body = if profile == "lifeplan" {
            lifeplan_body(&api, &p).await
        } else {
            seed_body(&p)
        };
        let r = api
            .call(Method::POST, "/api/v1/members", Some(body), &[])
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{profile}: {:?}", r.body);
        let member_id = r.body["member_id"].as_str().unwrap().to_owned();

        let token = api.token(&p).await;
        let me = api.get("/api/v1/me", &token).await;
        assert_eq!(me.status, StatusCode::OK);
        assert_eq!(me.body["member_id"], member_id);
        let email = me.body["items"]["email"].as_str().unwrap();
        assert!(
            email.contains("***@example.com") && email != p.email,
            "masked: {email}"
        );
        assert!(me.body["items"].get("ci").is_none(), "CI is never shown");
        let shown = api.get("/api/v1/me?reveal=email,address", &token).await;
        assert_eq!(shown.body["items"]["email"], p.email);
        assert_eq!(shown.body["items"]["address"], p.address);

        let new_address = "광주광역시 동구 지킴로 12";
        let r = api
            .send(
                Method::PATCH,
                "/api/v1/me",
                &token,
                json!({"items": {"address": new_address}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let shown = api.get("/api/v1/me?reveal=address", &token).await;
        assert_eq!(shown.body["items"]["address"], new_address);

        let consents = api.get("/api/v1/me/consents", &token).await;
        assert_eq!(consents.status, StatusCode::OK);
        let cats: Vec<&str> = consents
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["category"].as_str().unwrap())
            .collect();
        if profile == "lifeplan" {
            assert_eq!(
                cats,
                ["optional_items", "marketing", "ads_email", "ads_sms"]
            );
            let r = api
                .send(
                    Method::PUT,
                    "/api/v1/me/consents/ads_sms",
                    &token,
                    json!({"granted": true}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
            let sms = r
                .body
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["category"] == "ads_sms")
                .unwrap();
            assert_eq!(sms["granted"], true);
        } else {
            assert_eq!(cats, ["privacy_policy"]);
            let r = api
                .send(
                    Method::PUT,
                    "/api/v1/me/consents/privacy_policy",
                    &token,
                    json!({"granted": false}),
                )
                .await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        }
        let history = api.get("/api/v1/me/consents/history", &token).await;
        assert!(history.body.as_array().unwrap().len() >= cats.len());
        let recipients = api.get("/api/v1/me/recipients", &token).await;
        assert_eq!(recipients.body, json!({"recipients": []}));
        let export = api.get("/api/v1/me/export", &token).await;
        assert_eq!(export.status, StatusCode::OK);
        assert_eq!(export.body["items"]["email"], p.email);
        assert_eq!(export.body["login_id"], p.login_id);
        // The download's format (core's typed `Export`): these keys, no more, no fewer.
        let mut keys: Vec<&str> = export
            .body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "consent_history",
                "consents",
                "exported_at",
                "items",
                "login_id",
                "member_id",
                "member_since",
                "policy_version_at_signup",
                "recipients"
            ]
        );

        let r = api
            .send(
                Method::POST,
                "/api/v1/me/withdrawal",
                &token,
                json!({"password": "wrong-Pass-1"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        let r = api
            .send(
                Method::POST,
                "/api/v1/me/withdrawal",
                &token,
                json!({"password": p.password}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let receipt = r.body["receipt"].as_str().unwrap().to_owned();
        assert!(
            r.body["retained"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["class"] == "contract_records")
        );
        assert_eq!(
            api.get("/api/v1/me", &token).await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            api.login(&p.login_id, &p.password).await.status,
            StatusCode::UNAUTHORIZED
        );
        let kept = api
            .call(
                Method::POST,
                "/api/v1/retained",
                Some(json!({"receipt": receipt})),
                &[],
            )
            .await;
        assert_eq!(kept.status, StatusCode::OK, "{:?}", kept.body);
        let contract = kept
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["class"] == "contract_records")
            .unwrap();
        assert_eq!(contract["content"]["login_id"], p.login_id);
        assert_eq!(contract["content"]["items"]["name"], p.name);
        assert!(
            contract["content"]["items"].get("address").is_none(),
            "only what the class keeps"
        );
        let none = api
            .call(
                Method::POST,
                "/api/v1/retained",
                Some(json!({"receipt": "JKM-0000-0000-0000-0000"})),
                &[],
            )
            .await;
        assert_eq!(none.status, StatusCode::NOT_FOUND);
        assert_eq!(api.counts().await["members"], 0);
    }
}

async fn one_member_can_never_read_or_change_another(b: Backend) {
    let api = Api::new(b, "lifeplan-seed").await;
    let (a, b) = (person(10), person(11));
    for p in [&a, &b] {
        assert_eq!(
            api.call(Method::POST, "/api/v1/members", Some(seed_body(p)), &[])
                .await
                .status,
            StatusCode::CREATED
        );
    }
    let ta = api.token(&a).await;
    let tb = api.token(&b).await;
    let me_a = api.get("/api/v1/me?reveal=email", &ta).await;
    assert_eq!(me_a.body["items"]["email"], a.email);
    // There is no way to name another member: the API's "me" is the token's member.
    let r = api
        .send(
            Method::PATCH,
            "/api/v1/me",
            &ta,
            json!({"items": {"email": "new10@example.com"}, "member_id": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "unknown field refused");
    let r = api
        .send(
            Method::PATCH,
            "/api/v1/me",
            &ta,
            json!({"items": {"email": b.email}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "B's e-mail cannot be taken");
    let r = api
        .send(
            Method::PATCH,
            "/api/v1/me",
            &ta,
            json!({"items": {"email": "new10@example.com"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let me_b = api.get("/api/v1/me?reveal=email", &tb).await;
    assert_eq!(me_b.body["items"]["email"], b.email);
    assert_ne!(me_b.body["member_id"], me_a.body["member_id"]);
    for path in [
        "/api/v1/me",
        "/api/v1/me/consents",
        "/api/v1/me/export",
        "/api/v1/me/consents/history",
    ] {
        assert_eq!(
            api.call(Method::GET, path, None, &[]).await.status,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
        assert_eq!(
            api.get(path, "made-up-token").await.status,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
}

async fn tokens_stop_after_logout_password_change_and_withdrawal(b: Backend) {
    let api = Api::new(b, "lifeplan-seed").await;
    let p = person(20);
    api.call(Method::POST, "/api/v1/members", Some(seed_body(&p)), &[])
        .await;
    let t1 = api.token(&p).await;
    let r = api
        .call(
            Method::DELETE,
            "/api/v1/sessions/current",
            None,
            &[("authorization", &format!("Bearer {t1}"))],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        api.get("/api/v1/me", &t1).await.status,
        StatusCode::UNAUTHORIZED
    );

    let t2 = api.token(&p).await;
    let t3 = api.token(&p).await;
    let r = api
        .send(
            Method::PUT,
            "/api/v1/me/password",
            &t2,
            json!({"current_password": p.password, "new_password": "Brand-new-pw-7"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    assert_eq!(
        api.get("/api/v1/me", &t2).await.status,
        StatusCode::OK,
        "the changing session stays"
    );
    assert_eq!(
        api.get("/api/v1/me", &t3).await.status,
        StatusCode::UNAUTHORIZED,
        "others end"
    );

    let t4 = api.login(&p.login_id, "Brand-new-pw-7").await.body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = api
        .send(
            Method::POST,
            "/api/v1/me/withdrawal",
            &t2,
            json!({"password": "Brand-new-pw-7"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        api.get("/api/v1/me", &t2).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        api.get("/api/v1/me", &t4).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn bad_requests_get_problems_naming_field_and_rule_and_store_nothing(b: Backend) {
    let api = Api::new(b, "lifeplan-seed").await;
    let before = api.counts().await;
    let p = person(30);
    // Malformed JSON.
    let req = Request::post("/api/v1/members")
        .header("content-type", "application/json")
        .body(Body::from("{\"login_id\": "))
        .unwrap();
    let r = api.raw(req).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    // Unknown field.
    let mut body = seed_body(&p);
    body["admin"] = json!(true);
    let r = api
        .call(Method::POST, "/api/v1/members", Some(body), &[])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["detail"].as_str().unwrap().contains("admin"));
    // A wrong type quotes no value back.
    let mut body = seed_body(&p);
    body["consents"]["privacy_policy"] = json!(p.name);
    let r = api
        .call(Method::POST, "/api/v1/members", Some(body), &[])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(!r.body.to_string().contains(&p.name));
    // Oversized.
    let mut body = seed_body(&p);
    body["items"]["address_detail"] = json!("가".repeat(40_000));
    let r = api
        .call(Method::POST, "/api/v1/members", Some(body), &[])
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Validation: every field named, Korean by default, English on request.
    let mut body = seed_body(&p);
    body["items"]["phone"] = json!("12-34");
    body["items"]["postal_code"] = json!("123-456");
    body["password"] = json!("short");
    let r = api
        .call(Method::POST, "/api/v1/members", Some(body.clone()), &[])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.problem_type(), "/problems/validation");
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"phone")
            && fields.contains(&"postal_code")
            && fields.contains(&"password"),
        "{fields:?}"
    );
    let postal = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "postal_code")
        .unwrap();
    assert_eq!(postal["code"], "postal.old_format");
    assert!(postal["message"].as_str().unwrap().contains("우편번호"));
    let r = api
        .call(
            Method::POST,
            "/api/v1/members",
            Some(body),
            &[("accept-language", "en-US,en;q=0.9")],
        )
        .await;
    let postal = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "postal_code")
        .unwrap();
    assert!(
        postal["message"].as_str().unwrap().contains("Postal"),
        "{postal}"
    );
    // 동의하지 않음 and under 14.
    let mut body = seed_body(&p);
    body["consents"]["privacy_policy"] = json!(false);
    let r = api
        .call(Method::POST, "/api/v1/members", Some(body), &[])
        .await;
    assert_eq!(r.problem_type(), "/problems/agreement_declined");
    let child =
        jikimi_testkit::person_born(31, chrono::NaiveDate::from_ymd_opt(2015, 3, 1).unwrap());
    let r = api
        .call(
            Method::POST,
            "/api/v1/members",
            Some(seed_body(&child)),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.problem_type(), "/problems/guardian_required");
    assert_eq!(api.counts().await, before, "nothing partial was stored");
    // Duplicate: the login ID shown masked.
    assert_eq!(
        api.call(Method::POST, "/api/v1/members", Some(seed_body(&p)), &[])
            .await
            .status,
        StatusCode::CREATED
    );
    let mut again = seed_body(&person(32));
    again["items"]["rrn"] = json!(p.rrn);
    let r = api
        .call(Method::POST, "/api/v1/members", Some(again), &[])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["masked_login"], "me*****0");
    // Unknown routes are problems too.
    let r = api.call(Method::GET, "/api/v1/nowhere", None, &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.problem_type(), "/problems/no_route");
    assert_eq!(r.headers["content-type"], "application/problem+json");
}

async fn cookie_sessions_need_the_csrf_token_and_cookies_are_strict(b: Backend) {
    let api = Api::new(b, "lifeplan-seed").await;
    let p = person(40);
    api.call(Method::POST, "/api/v1/members", Some(seed_body(&p)), &[])
        .await;
    let r = api.login(&p.login_id, &p.password).await;
    let set_cookie = r.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.starts_with("jikimi_session="));
    assert!(
        set_cookie.contains("HttpOnly")
            && set_cookie.contains("SameSite=Lax")
            && set_cookie.contains("Path=/")
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let csrf = r.body["csrf_token"].as_str().unwrap().to_owned();
    let change = json!({"items": {"address": "울산광역시 남구 지킴로 5"}});
    let r = api
        .call(
            Method::PATCH,
            "/api/v1/me",
            Some(change.clone()),
            &[("cookie", &cookie)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.problem_type(), "/problems/csrf");
    let r = api
        .call(
            Method::PATCH,
            "/api/v1/me",
            Some(change),
            &[("cookie", &cookie), ("x-csrf-token", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // Reads need no CSRF token.
    assert_eq!(
        api.call(Method::GET, "/api/v1/me", None, &[("cookie", &cookie)])
            .await
            .status,
        StatusCode::OK
    );
    // Security headers.
    let csp = r.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert!(
        !csp.contains("unsafe-inline"),
        "no inline styles or scripts"
    );
    let css = api.call(Method::GET, "/assets/site.css", None, &[]).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
}

async fn login_limits_and_recent_authentication(b: Backend) {
    let api = Api::new(b, "lifeplan-seed").await;
    let p = person(50);
    api.call(Method::POST, "/api/v1/members", Some(seed_body(&p)), &[])
        .await;
    // Unknown ID and wrong password: the same answer.
    let unknown = api.login("nobody50", &p.password).await;
    let wrong = api.login(&p.login_id, "Wrong-pass-50").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.body, wrong.body);
    for _ in 0..3 {
        api.login(&p.login_id, "Wrong-pass-50").await;
    }
    let r = api.login(&p.login_id, "Wrong-pass-50").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers.contains_key("retry-after"));
    assert_eq!(
        api.login(&p.login_id, &p.password).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    api.t.clock.advance(chrono::Duration::minutes(16));
    let token = api.token(&p).await;
    assert_eq!(
        api.get("/api/v1/me?reveal=rrn", &token).await.status,
        StatusCode::OK
    );
    api.t.clock.advance(chrono::Duration::minutes(11));
    let r = api.get("/api/v1/me?reveal=rrn", &token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.problem_type(), "/problems/reauth_required");
    assert_eq!(
        api.get("/api/v1/me?reveal=address", &token).await.status,
        StatusCode::OK,
        "ordinary items need no re-auth"
    );
    assert_eq!(
        api.get("/api/v1/me/export", &token).await.status,
        StatusCode::FORBIDDEN
    );
}

async fn the_policy_endpoint_serves_the_policy_file(b: Backend) {
    let api = Api::new(b, "lifeplan").await;
    let r = api.call(Method::GET, "/api/v1/policy", None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["version"], api.t.app.policy().version().as_str());
    let consents: Vec<&str> = r.body["consents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        consents,
        ["optional_items", "marketing", "ads_email", "ads_sms"]
    );
    assert!(
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == "email")
    );
    assert!(
        r.body["retention"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "contract_records")
    );
}

/// The served OpenAPI document and the router agree: every documented operation is routed, and
/// every API route in the source is documented.
async fn openapi_document_matches_the_routes(b: Backend) {
    let api = Api::new(b, "lifeplan").await;
    let r = api.call(Method::GET, "/api/openapi.json", None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = r.body["paths"].as_object().unwrap();
    let mut documented = Vec::new();
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    for (method, path) in &documented {
        let concrete = path.replace("{id}", "x").replace("{category}", "marketing");
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let body = if matches!(m, Method::GET | Method::DELETE) {
            None
        } else {
            Some(json!({}))
        };
        let r = api.call(m, &concrete, body, &[]).await;
        assert_ne!(
            r.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} is not routed"
        );
        assert_ne!(
            r.body["type"], "/problems/no_route",
            "{method} {path} is not routed"
        );
    }
    // Routes and operations come from one list (utoipa-axum's OpenApiRouter): the API's sources
    // add no route around it, and the office's routes are in the document.
    for (name, source) in [
        ("public/api.rs", include_str!("../src/public/api.rs")),
        ("signup/api.rs", include_str!("../src/signup/api.rs")),
        ("account/api.rs", include_str!("../src/account/api.rs")),
        ("me/api.rs", include_str!("../src/me/api.rs")),
        ("leave/api.rs", include_str!("../src/leave/api.rs")),
        ("office/api.rs", include_str!("../src/office/api.rs")),
    ] {
        assert!(
            !source.contains(".route("),
            "{name} adds a route outside the documented list"
        );
    }
    for office in [
        ("GET", "/api/v1/office/destructions"),
        ("GET", "/api/v1/office/retained"),
        ("PUT", "/api/v1/office/retained/{id}/hold"),
        ("DELETE", "/api/v1/office/retained/{id}/hold"),
        ("POST", "/api/v1/office/purge"),
    ] {
        assert!(
            documented.contains(&(office.0.to_owned(), office.1.to_owned())),
            "{office:?} is not documented"
        );
    }
    assert!(documented.len() >= 23, "{} operations", documented.len());
}

/// A writer that keeps every log line in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// RRN and every other item never appear in the server's logs, at the most verbose level.
async fn personal_values_never_reach_the_logs(b: Backend) {
    // Global, not thread-local: the server's tasks may run on any thread. Every test of this
    // binary logs into it then (both halves of this one too), which only widens the net.
    static CAPTURED: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    let captured = CAPTURED
        .get_or_init(|| {
            let captured = Captured::default();
            let writer = captured.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_writer(move || writer.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber).unwrap();
            captured
        })
        .clone();

    let api = Api::new(b, "lifeplan-seed").await;
    let p = person(60);
    assert_eq!(
        api.call(Method::POST, "/api/v1/members", Some(seed_body(&p)), &[])
            .await
            .status,
        StatusCode::CREATED
    );
    let token = api.token(&p).await;
    api.get("/api/v1/me?reveal=rrn,name,email,address,phone", &token)
        .await;
    api.send(
        Method::PATCH,
        "/api/v1/me",
        &token,
        json!({"items": {"address": p.address, "phone": "02-999"}}),
    )
    .await;
    api.login(&p.login_id, "Wrong-pass-60").await;
    let mut dup = seed_body(&person(61));
    dup["items"]["email"] = json!(p.email);
    api.call(Method::POST, "/api/v1/members", Some(dup), &[])
        .await;
    api.get("/api/v1/me/export", &token).await;
    api.send(
        Method::POST,
        "/api/v1/me/withdrawal",
        &token,
        json!({"password": p.password}),
    )
    .await;

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("request") && log.contains("/api/v1/members"),
        "the log was captured"
    );
    for v in jikimi_testkit::personal_values(&p) {
        assert!(!log.contains(&v), "a personal value reached the log");
    }
    assert!(!log.contains(&token), "a session token reached the log");
    assert!(!log.contains(&p.password));
}

/// R-POL-02 (issue 10): a version whose `effective_date` is ahead is announced on /privacy (its
/// date, a link to read it, 시행 예정 in the list) while the page and the API serve the version in
/// force; on its date (KST) both serve it, in the same running service.
async fn an_announced_version_is_shown_and_served_from_its_date(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    let old = t.app.policy().version().clone();
    let src = jikimi_policy::Policy::builtin_source("lifeplan")
        .unwrap()
        .replacen(
            "effective_date = 2026-12-01",
            "effective_date = 2027-01-01",
            1,
        )
        .replacen("김지킴", "김지킴이", 1);
    let next = jikimi_policy::Policy::from_toml_str(&src, "next.toml")
        .unwrap()
        .policy;
    let app = jikimi_core::Jikimi::open_with(
        &t.cfg,
        next.clone(),
        t.clock.clone(),
        false,
        jikimi_testkit::test_hasher(),
    )
    .await
    .unwrap();
    let router = jikimi_web::router(app);
    let api = Api { t, router };
    let html = |r: Res| r.body.as_str().unwrap_or_default().to_owned();

    let page = html(api.call(Method::GET, "/privacy", None, &[]).await);
    assert!(
        page.contains("다음 개인정보 처리방침이 <strong>2027-01-01</strong>부터 시행됩니다."),
        "{page}"
    );
    let link = format!(
        "<a href=\"/privacy?version={}\">미리 보기</a>",
        next.version()
    );
    assert!(page.contains(&link), "{page}");
    assert!(page.contains("시행 예정"));
    assert!(page.contains("현재 적용 중"));
    assert!(
        !page.contains("김지킴이"),
        "the page shows the version in force"
    );
    let en = html(api.call(Method::GET, "/privacy?lang=en", None, &[]).await);
    assert!(
        en.contains("The next privacy policy takes effect on <strong>2027-01-01</strong>."),
        "{en}"
    );
    // The announced text can be read before its date.
    let ahead = html(
        api.call(
            Method::GET,
            &format!("/privacy?version={}", next.version()),
            None,
            &[],
        )
        .await,
    );
    assert!(ahead.contains("김지킴이"));
    let r = api.call(Method::GET, "/api/v1/policy", None, &[]).await;
    assert_eq!(r.body["version"], old.as_str());
    assert_eq!(r.body["announced"]["version"], next.version().as_str());
    assert_eq!(r.body["announced"]["effective_date"], "2027-01-01");

    // 2027-01-01 00:00 KST.
    api.t
        .clock
        .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 31, 15, 0, 0).unwrap());
    let page = html(api.call(Method::GET, "/privacy", None, &[]).await);
    assert!(!page.contains("policy-announced"), "{page}");
    assert!(!page.contains("시행 예정"));
    assert!(page.contains("김지킴이"), "the page shows the new version");
    let r = api.call(Method::GET, "/api/v1/policy", None, &[]).await;
    assert_eq!(r.body["version"], next.version().as_str());
    assert!(r.body.get("announced").is_none());
}

/// "The policy file is the code": an optional item added to the policy file appears in the consent
/// text, the sign-up form, validation, storage and the published policy — with no code change.
async fn an_item_added_to_the_policy_file_appears_everywhere(b: Backend) {
    let src = jikimi_policy::Policy::builtin_source("lifeplan").unwrap();
    let added = format!(
        "{src}\n[[item]]\nid = \"pet_name\"\nlabel = {{ ko = \"반려동물 이름\", en = \"Pet name\" }}\nkind = \"text\"\nrequired = false\nbasis = \"consent\"\nconsent = \"optional_items\"\npurposes = [\"personalisation\"]\nretention = \"consented\"\nmax_len = 20\n"
    );
    let policy = jikimi_policy::Policy::from_toml_str(&added, "lifeplan+pet.toml")
        .unwrap()
        .policy;
    let t = TestApp::with_policy_on(b, policy).await;
    let router = jikimi_web::router(t.app.clone());
    let api = Api { t, router };
    let html = |r: Res| r.body.as_str().unwrap_or_default().to_owned();
    // The consent screen lists it under the optional-items consent.
    let consent_page = html(api.call(Method::GET, "/signup", None, &[]).await);
    assert!(consent_page.contains("반려동물 이름"), "consent text");
    // The published policy lists it, in both languages.
    assert!(html(api.call(Method::GET, "/privacy", None, &[]).await).contains("반려동물 이름"));
    assert!(html(api.call(Method::GET, "/privacy?lang=en", None, &[]).await).contains("Pet name"));
    // The API's policy has it; validation applies its rule; it is stored and read back.
    let policy = api.call(Method::GET, "/api/v1/policy", None, &[]).await;
    assert!(
        policy.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == "pet_name")
    );
    let p = person(70);
    let mut body = lifeplan_body(&api, &p).await;
    body["items"]["pet_name"] = json!("이름이 아주 아주 아주 아주 아주 아주 긴 반려동물");
    let r = api
        .call(Method::POST, "/api/v1/members", Some(body.clone()), &[])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "pet_name");
    assert_eq!(r.body["errors"][0]["code"], "text.too_long");
    body["items"]["pet_name"] = json!("보리");
    let r = api
        .call(Method::POST, "/api/v1/members", Some(body), &[])
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let token = api.token(&p).await;
    assert_eq!(
        api.get("/api/v1/me?reveal=pet_name", &token).await.body["items"]["pet_name"],
        "보리"
    );
}

async fn identity_items_are_locked_over_the_api(b: Backend) {
    let api = Api::new(b, "lifeplan").await;
    let p = person(80);
    let body = lifeplan_body(&api, &p).await;
    assert_eq!(
        api.call(Method::POST, "/api/v1/members", Some(body), &[])
            .await
            .status,
        StatusCode::CREATED
    );
    let token = api.token(&p).await;
    let r = api
        .send(
            Method::PATCH,
            "/api/v1/me",
            &token,
            json!({"items": {"ci": person(81).ci}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["code"], "item.identity_locked");
    let r = api.get("/api/v1/me?reveal=ci", &token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "CI is never shown");
}

/// A client that closes the connection mid-request (the server drops the response future) does not
/// cut the request short: the sign-up is stored whole, or a withdrawal would destroy its key.
async fn a_request_completes_when_its_client_goes_away(b: Backend) {
    let api = Api::new(b, "lifeplan-seed").await;
    let p = person(90);
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/members")
        .header("content-type", "application/json")
        .body(Body::from(seed_body(&p).to_string()))
        .unwrap();
    let mut pending = Box::pin(api.router.clone().oneshot(req));
    // Poll once, as a server does before the client goes away, then drop the future.
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(
        pending.as_mut().poll(&mut cx).is_pending(),
        "the sign-up was still running"
    );
    drop(pending);
    let start = std::time::Instant::now();
    while api.counts().await["members"] == 0 {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "the sign-up was abandoned with its client"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let token = api.token(&p).await;
    assert_eq!(api.get("/api/v1/me", &token).await.status, StatusCode::OK);
}

/// An office API token of a new staff account `privacy-officer` with the officer's role.
async fn officer_token(api: &Api) -> String {
    let cli = jikimi_core::Actor::Cli;
    api.t
        .app
        .add_staff(&cli, "privacy-officer", jikimi_core::staff::Role::Officer)
        .await
        .unwrap();
    let (token, _) = api
        .t
        .app
        .create_office_token(&cli, "privacy-officer", 30)
        .await
        .unwrap();
    token.expose().to_owned()
}

/// The privacy office's API: only an office token of a staff account opens it (not a member's,
/// not an expired or revoked one), and each call needs its power from the account's role
/// (R-ACC-01); it lists destructions and retained records without personal data, places and
/// lifts legal holds, runs a purge; every call is in the audit chain under the staff account.
async fn the_privacy_office_sees_destructions_and_holds_records(b: Backend) {
    let api = Api::new(b, "lifeplan-seed").await;
    let p = person(95);
    assert_eq!(
        api.call(Method::POST, "/api/v1/members", Some(seed_body(&p)), &[])
            .await
            .status,
        StatusCode::CREATED
    );
    let member = api.token(&p).await;
    let r = api
        .send(
            Method::POST,
            "/api/v1/me/withdrawal",
            &member,
            json!({"password": p.password}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);

    // Not without an office token, not with a member's token.
    assert_eq!(
        api.call(Method::GET, "/api/v1/office/destructions", None, &[])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let other = person(96);
    api.call(
        Method::POST,
        "/api/v1/members",
        Some(seed_body(&other)),
        &[],
    )
    .await;
    let member = api.token(&other).await;
    assert_eq!(
        api.get("/api/v1/office/destructions", &member).await.status,
        StatusCode::UNAUTHORIZED
    );

    // A name that is no staff account gets no token.
    let cli = jikimi_core::Actor::Cli;
    let Err(jikimi_core::CoreError::Invalid(e)) = api
        .t
        .app
        .create_office_token(&cli, "privacy-officer", 30)
        .await
    else {
        panic!("a token for a name that is no staff account")
    };
    assert_eq!(e[0].code, "office.not_staff");
    use jikimi_core::staff::Role;
    api.t
        .app
        .add_staff(&cli, "privacy-officer", Role::Officer)
        .await
        .unwrap();
    api.t
        .app
        .add_staff(&cli, "choi.audit", Role::Auditor)
        .await
        .unwrap();
    let (office, _) = api
        .t
        .app
        .create_office_token(&cli, "privacy-officer", 30)
        .await
        .unwrap();
    let office = office.expose();
    // An auditor's token reads the destruction report but places no hold (R-ACC-01), and it
    // expires.
    let (auditor, expires) = api
        .t
        .app
        .create_office_token(&cli, "choi.audit", 1)
        .await
        .unwrap();
    assert_eq!(expires - api.t.clock.now(), chrono::Duration::days(1));
    let auditor = auditor.expose();
    let r = api.get("/api/v1/office/destructions", auditor).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = api.get("/api/v1/office/destructions", office).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let list = r.body.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["event"], "withdrawal");
    assert_eq!(list[0]["method"], "key_destruction");

    let r = api.get("/api/v1/office/retained?limit=10", office).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let rows = r.body.as_array().unwrap();
    assert_eq!(rows.len(), 1, "the seed profile keeps contract records");
    let id = rows[0]["id"].as_str().unwrap().to_owned();
    let hold = format!("/api/v1/office/retained/{id}/hold");
    let r = api
        .send(Method::PUT, &hold, office, json!({"reason": ""}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    let r = api
        .send(
            Method::PUT,
            &hold,
            office,
            json!({"reason": "분쟁 조정 중"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    let r = api.get("/api/v1/office/retained", office).await;
    assert_eq!(r.body[0]["held_by"], "staff:privacy-officer");
    let r = api
        .send(Method::PUT, &hold, auditor, json!({"reason": "감사 중"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    assert_eq!(r.body["type"], "/problems/role", "{:?}", r.body);
    let r = api
        .send(Method::POST, "/api/v1/office/purge", auditor, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    api.t.clock.advance(chrono::Duration::days(1));
    assert_eq!(
        api.get("/api/v1/office/destructions", auditor).await.status,
        StatusCode::UNAUTHORIZED,
        "an expired token"
    );

    // Six years on (with a new token: the old one has expired), a dry run and a purge: the
    // held record stays.
    api.t.clock.advance(chrono::Duration::days(6 * 366));
    assert_eq!(
        api.get("/api/v1/office/destructions", office).await.status,
        StatusCode::UNAUTHORIZED
    );
    let (office, _) = api
        .t
        .app
        .create_office_token(&cli, "privacy-officer", 30)
        .await
        .unwrap();
    let office = office.expose();
    let r = api
        .send(
            Method::POST,
            "/api/v1/office/purge",
            office,
            json!({"dry_run": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["dry_run"], true);
    assert_eq!(r.body["held"], 1);
    let r = api
        .call(
            Method::DELETE,
            &hold,
            None,
            &[("authorization", &format!("Bearer {office}"))],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    let r = api
        .send(Method::POST, "/api/v1/office/purge", office, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["classes"][0]["class"], "contract_records");
    assert_eq!(r.body["classes"][0]["records"], 1);
    let r = api.get("/api/v1/office/destructions", office).await;
    let text = r.body.to_string();
    assert!(text.contains("\"purge\""), "{text}");
    for v in jikimi_testkit::personal_values(&p) {
        assert!(
            !text.contains(&v),
            "a personal value in the destruction list"
        );
    }

    // Every office call is in the audit chain under the staff account.
    let mut db = api.t.db().await;
    assert!(
        db.count("SELECT count(*) FROM audit_log WHERE actor = 'staff:privacy-officer'")
            .await
            >= 6
    );
    // Revoked: the token stops working.
    api.t
        .app
        .revoke_office_token(&jikimi_core::Actor::Cli, "privacy-officer")
        .await
        .unwrap();
    assert_eq!(
        api.get("/api/v1/office/destructions", office).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert!(api.t.app.verify_audit().await.unwrap().ok());
}

/// Browsers get error pages in the site's layout and a redirect after every form; the API keeps
/// problem documents. Every POST address of the pages answers a GET too (reload, Back, bookmark).
async fn browsers_get_pages_and_redirects_the_api_gets_problems(b: Backend) {
    let api = Api::new(b, "lifeplan").await;
    let html = [("accept", "text/html,application/xhtml+xml")];
    let r = api.call(Method::GET, "/no-such-page", None, &html).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let page = r.body.as_str().unwrap_or_default();
    assert!(page.contains("<html") && page.contains("페이지를 찾을 수 없습니다"));
    assert!(page.contains("href=\"/\""), "a way home");
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    // The API and non-browsers keep problem documents.
    for (path, headers) in [("/api/v1/nope", &html[..]), ("/no-such-page", &[][..])] {
        let r = api.call(Method::GET, path, None, headers).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            r.headers["content-type"], "application/problem+json",
            "{path}"
        );
    }
    // 405 is a page too, for browsers.
    let r = api.call(Method::DELETE, "/mypage", None, &html).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.body.as_str().unwrap_or_default().contains("<html"));
    let r = api.call(Method::DELETE, "/api/v1/policy", None, &[]).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    // Every address a page form posts to answers a GET: a page or a redirect, never 405.
    for path in [
        "/signup/consent",
        "/signup/identity",
        "/signup/verify",
        "/signup/details",
        "/signup/done",
        "/signup/declined",
        "/login",
        "/logout",
        "/mypage/reauth",
        "/mypage/edit",
        "/mypage/password",
        "/mypage/consents/marketing",
        "/mypage/withdraw",
        "/mypage/withdrawn",
        "/retained",
    ] {
        let r = api.call(Method::GET, path, None, &html).await;
        assert!(
            r.status == StatusCode::OK || r.status == StatusCode::SEE_OTHER,
            "GET {path}: {}",
            r.status
        );
    }
    // The sign-up steps need the steps before them: straight to a later one goes back.
    let r = api.call(Method::GET, "/signup/details", None, &html).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers["location"], "/signup");
    // The icon and robots.txt exist.
    let r = api.call(Method::GET, "/favicon.ico", None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], "image/x-icon");
    let r = api.call(Method::GET, "/robots.txt", None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let robots = r.body.as_str().unwrap_or_default();
    assert!(robots.contains("Disallow: /mypage") && robots.contains("Disallow: /api/"));
    // A form sent with a stale token changes nothing and goes back to its page, keeping what was
    // typed but never the password.
    let before = api.counts().await;
    let req = Request::builder()
        .method(Method::POST)
        .uri("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/html")
        .body(Body::from(
            "csrf=stale&next=%2Fmypage&login_id=member1&password=Secret-pw-1",
        ))
        .unwrap();
    let r = api.raw(req).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.headers["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    let cookies: Vec<String> = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .collect();
    let form = cookies
        .iter()
        .find(|c| c.starts_with("jikimi_form="))
        .expect("the form's values for its page");
    assert!(form.contains("HttpOnly"));
    for secret in ["Secret-pw-1", "member1"] {
        assert!(
            !cookies.concat().contains(secret),
            "{secret} readable in a cookie"
        );
    }
    assert_eq!(api.counts().await, before, "nothing changed");
}

/// A 429 as the API gives it: a problem document naming the action, and `Retry-After` in seconds
/// within the window.
fn assert_limited(r: &Res, action: &str, window_secs: i64) {
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", r.body);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    assert_eq!(r.problem_type(), "/problems/rate_limited", "{:?}", r.body);
    assert_eq!(r.body["action"], action, "{:?}", r.body);
    let secs: i64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(secs > 0 && secs <= window_secs, "{secs}");
}

fn identity_body(p: &jikimi_testkit::Person) -> Value {
    json!({"name": p.name, "birth_date": p.birth.to_string(), "mobile": p.mobile, "carrier": "kt"})
}

/// Issue 11: the sixth 본인확인 request to one mobile number within the hour is 429 with
/// `Retry-After`, in the request's language, and no text message is sent for it; nor for the
/// twenty-first from one client.
async fn text_messages_to_one_number_are_limited_with_429_and_retry_after(b: Backend) {
    let api = Api::new(b, "lifeplan").await;
    let p = person(3000);
    let texts = async |p: &jikimi_testkit::Person| {
        let r = api
            .call(
                Method::POST,
                "/api/v1/sandbox/sms",
                Some(json!({"mobile": p.mobile})),
                &[],
            )
            .await;
        r.body.as_array().unwrap().len()
    };
    for i in 0..5u8 {
        let r = api
            .call_from(
                [198, 51, 100, i + 1],
                Method::POST,
                "/api/v1/identity/requests",
                Some(identity_body(&p)),
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    let r = api
        .call_from(
            [198, 51, 100, 9],
            Method::POST,
            "/api/v1/identity/requests",
            Some(identity_body(&p)),
            &[],
        )
        .await;
    assert_limited(&r, "identity_request", 3600);
    assert_eq!(r.body["title"], "요청이 너무 많습니다");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("분 뒤에 다시 시도해 주세요"),
        "{:?}",
        r.body
    );
    assert_eq!(texts(&p).await, 5, "no text for the refused request");
    let r = api
        .call(
            Method::POST,
            "/api/v1/identity/requests",
            Some(identity_body(&p)),
            &[("accept-language", "en")],
        )
        .await;
    assert_limited(&r, "identity_request", 3600);
    assert_eq!(r.body["title"], "Too many requests");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("Please try again in"),
        "{:?}",
        r.body
    );

    // One client, many numbers.
    for i in 0..20 {
        let r = api
            .call_from(
                [203, 0, 113, 5],
                Method::POST,
                "/api/v1/identity/requests",
                Some(identity_body(&person(3100 + i))),
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{i}: {:?}", r.body);
    }
    let q = person(3200);
    let r = api
        .call_from(
            [203, 0, 113, 5],
            Method::POST,
            "/api/v1/identity/requests",
            Some(identity_body(&q)),
            &[],
        )
        .await;
    assert_limited(&r, "identity_request", 3600);
    assert_eq!(texts(&q).await, 0);
    // The window ends.
    api.t.clock.advance(chrono::Duration::minutes(61));
    let r = api
        .call_from(
            [198, 51, 100, 9],
            Method::POST,
            "/api/v1/identity/requests",
            Some(identity_body(&p)),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(texts(&p).await, 6);
}

/// R-ACC-04 without a lock-out (issue 11): five failures from client A lock A out of the login
/// ID, not the member on client B; thirty failures from many clients hold the ID for everyone
/// (429 `login_account`), and the member gets in with a 본인확인 token.
async fn one_client_cannot_lock_the_member_out_and_identity_lets_them_in(b: Backend) {
    let api = Api::new(b, "lifeplan").await;
    let p = person(3300);
    let body = lifeplan_body(&api, &p).await;
    let r = api
        .call(Method::POST, "/api/v1/members", Some(body), &[])
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let attacker = [203, 0, 113, 66];
    for _ in 0..4 {
        let r = api.login_from(attacker, &p.login_id, "Wrong-guess-1").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = api.login_from(attacker, &p.login_id, "Wrong-guess-1").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.problem_type(), "/problems/too_many_attempts");
    assert!(r.headers.contains_key("retry-after"));
    let r = api.login_from(attacker, &p.login_id, &p.password).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "A stays locked");
    let home = [198, 51, 100, 20];
    let r = api.login_from(home, &p.login_id, &p.password).await;
    assert_eq!(r.status, StatusCode::CREATED, "the member: {:?}", r.body);

    // Many clients, one login ID.
    for i in 0..30u8 {
        let r = api
            .login_from([203, 0, 114, i], &p.login_id, "Wrong-guess-2")
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{i}");
    }
    let r = api.login_from(home, &p.login_id, &p.password).await;
    assert_limited(&r, "login_account", 3600);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("identity_token"),
        "{:?}",
        r.body
    );
    // 본인확인, then the login with its token.
    let verified = lifeplan_body(&api, &p).await;
    let r = api
        .call_from(
            home,
            Method::POST,
            "/api/v1/sessions",
            Some(json!({
                "login_id": p.login_id,
                "password": p.password,
                "identity_token": verified["identity_token"],
            })),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
}

/// Issue 11: sign-ups, receipt look-ups and password changes answer 429 with `Retry-After` past
/// their limits per client and per target.
async fn limited_api_actions_answer_429_per_client_and_per_target(b: Backend) {
    let api = Api::new(b, "lifeplan-seed").await;
    let from = [198, 51, 100, 30];
    for i in 0..20 {
        let r = api
            .call_from(
                from,
                Method::POST,
                "/api/v1/members",
                Some(seed_body(&person(3400 + i))),
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{i}: {:?}", r.body);
    }
    let r = api
        .call_from(
            from,
            Method::POST,
            "/api/v1/members",
            Some(seed_body(&person(3450))),
            &[],
        )
        .await;
    assert_limited(&r, "sign_up", 600);

    // Password changes: twenty an hour per member, whichever client.
    let p = person(3400);
    let token = api.token(&p).await;
    for i in 0..20u8 {
        let auth = format!("Bearer {token}");
        let r = api
            .call_from(
                [203, 0, 113, i],
                Method::PUT,
                "/api/v1/me/password",
                Some(json!({"current_password": "Wrong-current-1", "new_password": "Brand-new-pass-77"})),
                &[("authorization", &auth)],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{i}: {:?}",
            r.body
        );
    }
    let auth = format!("Bearer {token}");
    let r = api
        .call_from(
            [203, 0, 113, 99],
            Method::PUT,
            "/api/v1/me/password",
            Some(json!({"current_password": p.password, "new_password": "Brand-new-pass-77"})),
            &[("authorization", &auth)],
        )
        .await;
    assert_limited(&r, "reauth", 3600);

    // Receipt look-ups: ten per client in ten minutes.
    let q = person(3401);
    let qt = api.token(&q).await;
    let r = api
        .send(
            Method::POST,
            "/api/v1/me/withdrawal",
            &qt,
            json!({"password": q.password}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let code = r.body["receipt"].as_str().unwrap_or_default().to_owned();
    for i in 0..10 {
        let r = api
            .call_from(
                [192, 0, 2, 1],
                Method::POST,
                "/api/v1/retained",
                Some(json!({"receipt": format!("NOPE-{i:04}")})),
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{i}");
    }
    let r = api
        .call_from(
            [192, 0, 2, 1],
            Method::POST,
            "/api/v1/retained",
            Some(json!({"receipt": code})),
            &[],
        )
        .await;
    assert_limited(&r, "receipt_lookup", 600);
    let r = api
        .call_from(
            [192, 0, 2, 2],
            Method::POST,
            "/api/v1/retained",
            Some(json!({"receipt": code})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "another client: {:?}", r.body);
}

fn content_type(r: &Res) -> &str {
    r.headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn assert_problem(r: &Res, status: StatusCode, kind: &str, what: &str) {
    assert_eq!(r.status, status, "{what}: {:?}", r.body);
    assert_eq!(content_type(r), "application/problem+json", "{what}");
    assert_eq!(r.problem_type(), format!("/problems/{kind}"), "{what}");
    assert_eq!(r.body["status"], status.as_u16(), "{what}");
}

fn assert_page(r: &Res, status: StatusCode, heading: &str, what: &str) {
    assert_eq!(r.status, status, "{what}");
    assert!(content_type(r).starts_with("text/html"), "{what}");
    let page = r.body.as_str().unwrap_or_default();
    assert!(
        page.contains("<html") && page.contains(heading),
        "{what}: {page}"
    );
    assert!(page.contains("href=\"/\""), "{what}: a way home");
}

/// Issue 11: what used to answer text/plain or an empty body — the office API's unreadable path
/// and query, a form body over the limit, a missing Content-Type, an over-long address, an
/// oversized header section — answers a problem document (the API, non-browsers) or a page in
/// the site's layout (browsers), with its security headers.
async fn every_error_is_a_problem_for_the_api_and_a_page_for_browsers(b: Backend) {
    let api = Api::new(b, "lifeplan").await;
    let html = [("accept", "text/html,application/xhtml+xml")];
    let office = officer_token(&api).await;
    let office = office.as_str();
    // The office API: a path that is not a UUID, a query that does not parse or is unknown.
    let r = api
        .send(
            Method::PUT,
            "/api/v1/office/retained/not-a-uuid/hold",
            office,
            json!({"reason": "dispute"}),
        )
        .await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "bad_request", "bad UUID");
    assert!(
        r.body["detail"].as_str().unwrap().contains("UUID"),
        "{:?}",
        r.body
    );
    for query in [
        "limit=abc",
        "after_day=2026-13-40",
        "after_id=x",
        "unknown=1",
        "limit=1&limit=2",
    ] {
        let r = api
            .get(&format!("/api/v1/office/retained?{query}"), office)
            .await;
        assert_problem(&r, StatusCode::BAD_REQUEST, "bad_request", query);
    }
    // Out of the documented range: named with its rule.
    for limit in ["0", "1001"] {
        let r = api
            .get(&format!("/api/v1/office/retained?limit={limit}"), office)
            .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation", limit);
        assert_eq!(r.body["errors"][0]["code"], "limit.range");
    }
    assert_eq!(
        api.get("/api/v1/office/retained?limit=1000", office)
            .await
            .status,
        StatusCode::OK
    );
    // A JSON body without its Content-Type.
    let req = Request::post("/api/v1/sessions")
        .body(Body::from(r#"{"login_id":"a","password":"b"}"#))
        .unwrap();
    let r = api.raw(req).await;
    assert_problem(
        &r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "no content type",
    );
    // Every body is a JSON object: serde would read a struct from an array too.
    for body in ["[]", "[false]", "null", "\"x\""] {
        let req = Request::post("/api/v1/office/purge")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {office}"))
            .body(Body::from(body))
            .unwrap();
        let r = api.raw(req).await;
        assert_problem(&r, StatusCode::BAD_REQUEST, "bad_request", body);
    }
    let req = Request::post("/api/v1/office/purge")
        .header(
            "content-type",
            "application/merge-patch+json; charset=utf-8",
        )
        .header("authorization", format!("Bearer {office}"))
        .body(Body::from(r#"{"dry_run": true}"#))
        .unwrap();
    assert_eq!(api.raw(req).await.status, StatusCode::OK);
    // A 10 MB form: a page for the browser, a problem for anyone else; never text/plain.
    let big = format!("csrf=x&login_id=a&password={}", "a".repeat(10 << 20));
    let form = |accept: Option<&str>| {
        let mut b =
            Request::post("/login").header("content-type", "application/x-www-form-urlencoded");
        if let Some(a) = accept {
            b = b.header("accept", a);
        }
        b.body(Body::from(big.clone())).unwrap()
    };
    let r = api.raw(form(Some("text/html"))).await;
    assert_page(
        &r,
        StatusCode::PAYLOAD_TOO_LARGE,
        "요청 본문이 너무 큽니다",
        "/login 10 MB",
    );
    assert!(r.headers.contains_key("content-security-policy"));
    let r = api.raw(form(None)).await;
    assert_problem(
        &r,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        "/login 10 MB, no Accept",
    );
    // A form sent as something else: 415, a page.
    let req = Request::post("/login")
        .header("content-type", "text/plain")
        .header("accept", "text/html")
        .body(Body::from("login_id=a"))
        .unwrap();
    let r = api.raw(req).await;
    assert_page(
        &r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "지원하지 않는 본문 형식입니다",
        "/login text/plain",
    );
    // An address over URI_LIMIT: 414; just under it is served.
    let pad = |n: usize| "x".repeat(n);
    let under = format!(
        "/api/v1/policy?lang=en&p={}",
        pad(jikimi_web::URI_LIMIT - 40)
    );
    assert_eq!(
        api.call(Method::GET, &under, None, &[]).await.status,
        StatusCode::OK
    );
    let over = format!("/api/v1/policy?p={}", pad(jikimi_web::URI_LIMIT));
    let r = api
        .call(Method::GET, &over, None, &[("accept-language", "en")])
        .await;
    assert_problem(
        &r,
        StatusCode::URI_TOO_LONG,
        "uri_too_long",
        "long API address",
    );
    assert_eq!(r.body["title"], "Address too long");
    let r = api
        .call(
            Method::GET,
            &format!("/privacy?p={}", pad(jikimi_web::URI_LIMIT)),
            None,
            &html,
        )
        .await;
    assert_page(
        &r,
        StatusCode::URI_TOO_LONG,
        "주소가 너무 깁니다",
        "long page address",
    );
    // A header section over HEADER_SECTION_LIMIT, or too many fields: 431.
    let cookie = format!("c={}", pad(jikimi_web::HEADER_SECTION_LIMIT));
    let r = api
        .call(Method::GET, "/api/v1/policy", None, &[("cookie", &cookie)])
        .await;
    assert_problem(
        &r,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "headers_too_large",
        "big cookie",
    );
    let mut headers = html.to_vec();
    headers.push(("cookie", &cookie));
    let r = api.call(Method::GET, "/", None, &headers).await;
    assert_page(
        &r,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "요청 헤더가 너무 큽니다",
        "big cookie, page",
    );
    let names: Vec<String> = (0..=jikimi_web::HEADER_COUNT_LIMIT)
        .map(|i| format!("x-extra-{i}"))
        .collect();
    let many: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "1")).collect();
    let r = api.call(Method::GET, "/api/v1/policy", None, &many).await;
    assert_problem(
        &r,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "headers_too_large",
        "many headers",
    );
    let r = api
        .call(
            Method::GET,
            "/api/v1/policy",
            None,
            &many[..jikimi_web::HEADER_COUNT_LIMIT - 1],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // hyper's read buffer must be able to hold what these limits allow.
    const {
        assert!(
            jikimi_web::MIN_READ_BUFFER > jikimi_web::URI_LIMIT + jikimi_web::HEADER_SECTION_LIMIT
        )
    };
    // 405 says what the address takes.
    let r = api.call(Method::PATCH, "/api/v1/policy", None, &[]).await;
    assert_problem(
        &r,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "405",
    );
    assert!(
        r.headers["allow"].to_str().unwrap().contains("GET"),
        "{:?}",
        r.headers
    );
    // 본인확인 that cannot be done is 422 (the request was well formed), and a consent category
    // the policy does not have is not there.
    let r = api
        .call(
            Method::POST,
            "/api/v1/identity/requests/nope/confirm",
            Some(json!({"code": "123456"})),
            &[],
        )
        .await;
    assert_problem(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "identity",
        "unknown 본인확인",
    );
    let p = person(120);
    let body = lifeplan_body(&api, &p).await;
    assert_eq!(
        api.call(Method::POST, "/api/v1/members", Some(body), &[])
            .await
            .status,
        StatusCode::CREATED
    );
    let member = api.token(&p).await;
    let r = api
        .send(
            Method::PUT,
            "/api/v1/me/consents/nothing",
            &member,
            json!({"granted": true}),
        )
        .await;
    assert_problem(&r, StatusCode::NOT_FOUND, "not_found", "unknown category");
    let r = api
        .get("/api/v1/me?reveal=email&reveal=email", &member)
        .await;
    assert_problem(
        &r,
        StatusCode::BAD_REQUEST,
        "bad_request",
        "repeated query parameter",
    );
    // 본인확인's carrier and date of birth are exactly what the document says.
    for (carrier, birth) in [
        ("SKT", "1990-01-01"),
        ("kt", "1990-1-1"),
        ("kt", " 1990-01-01"),
    ] {
        let r = api
            .call(
                Method::POST,
                "/api/v1/identity/requests",
                Some(json!({"name": p.name, "birth_date": birth, "mobile": p.mobile, "carrier": carrier})),
                &[],
            )
            .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation", carrier);
    }
}

/// Resolves a `$ref` to `#/components/responses/…`.
fn resolve<'a>(doc: &'a Value, response: &'a Value) -> &'a Value {
    match response["$ref"].as_str() {
        Some(r) => {
            let name = r.strip_prefix("#/components/responses/").unwrap();
            &doc["components"]["responses"][name]
        }
        None => response,
    }
}

/// Issue 11: every operation lists its error answers, each `application/problem+json` with the
/// `Problem` schema: 414, 431 and 500 everywhere; 400, 413 and 415 where a body is read; 400 where
/// a parameter may not parse; 401 where a credential is required; 429 with `Retry-After` where
/// attempts are limited.
async fn every_operation_documents_its_errors_as_problems(b: Backend) {
    let api = Api::new(b, "lifeplan").await;
    let doc = api
        .call(Method::GET, "/api/openapi.json", None, &[])
        .await
        .body;
    let limited = [
        ("post", "/api/v1/identity/requests"),
        ("post", "/api/v1/identity/requests/{id}/confirm"),
        ("post", "/api/v1/members"),
        ("post", "/api/v1/sessions"),
        ("post", "/api/v1/me/withdrawal"),
        ("put", "/api/v1/me/password"),
        ("post", "/api/v1/retained"),
    ];
    let mut operations = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            operations += 1;
            let what = format!("{method} {path}");
            let responses = op["responses"].as_object().unwrap();
            let has = |s: &str| responses.contains_key(s);
            for status in ["414", "431", "500"] {
                assert!(has(status), "{what} does not document {status}");
            }
            if !op["requestBody"].is_null() {
                for status in ["400", "413", "415"] {
                    assert!(
                        has(status),
                        "{what} takes a body but does not document {status}"
                    );
                }
            }
            if op["parameters"].as_array().is_some_and(|p| !p.is_empty()) {
                assert!(
                    has("400"),
                    "{what} has parameters but does not document 400"
                );
            }
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                assert!(
                    has("401"),
                    "{what} needs a credential but does not document 401"
                );
            }
            if limited.contains(&(method.as_str(), path.as_str())) {
                assert!(
                    has("429"),
                    "{what} is rate-limited but does not document 429"
                );
            }
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{what} documents no success"
            );
            for (status, response) in responses {
                if status.starts_with('2') {
                    continue;
                }
                let response = resolve(&doc, response);
                let content = response["content"].as_object().unwrap();
                assert_eq!(
                    content.keys().collect::<Vec<_>>(),
                    ["application/problem+json"],
                    "{what} {status}"
                );
                assert_eq!(
                    content["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{what} {status}"
                );
                if status == "429" {
                    assert_eq!(
                        response["headers"]["Retry-After"]["schema"]["type"], "integer",
                        "{what} 429 says when to come back"
                    );
                }
            }
        }
    }
    assert!(operations >= 23, "{operations} operations");
    // The member's operations take the bearer token or the session cookie.
    let me = &doc["paths"]["/api/v1/me"]["get"]["security"];
    assert_eq!(*me, json!([{"bearer": []}, {"session_cookie": []}]));
    assert_eq!(
        doc["components"]["securitySchemes"]["session_cookie"]["name"],
        "jikimi_session"
    );
}

/// Every answer the API gives to a plain, unauthenticated or garbled request is documented for
/// its operation, and every error answer is a problem document (schemathesis' status-code and
/// content-type conformance, for the cases at hand, in the suite).
async fn every_answer_is_documented_for_its_operation(b: Backend) {
    let api = Api::new(b, "lifeplan").await;
    let doc = api
        .call(Method::GET, "/api/openapi.json", None, &[])
        .await
        .body;
    let office = format!("Bearer {}", officer_token(&api).await);
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let documented: Vec<&String> = op["responses"].as_object().unwrap().keys().collect();
            let concrete = path
                .replace("{id}", "00000000-0000-4000-8000-000000000000")
                .replace("{category}", "marketing");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let takes_body = !op["requestBody"].is_null();
            for auth in [None, Some(office.as_str()), Some("Bearer nonsense")] {
                for body in [None, Some("{}"), Some("{\"x\": "), Some("[1]")] {
                    if body.is_some() != takes_body {
                        continue;
                    }
                    let mut req = Request::builder().method(m.clone()).uri(&concrete);
                    if let Some(a) = auth {
                        req = req.header("authorization", a);
                    }
                    let req = match body {
                        Some(b) => req
                            .header("content-type", "application/json")
                            .body(Body::from(b))
                            .unwrap(),
                        None => req.body(Body::empty()).unwrap(),
                    };
                    let r = api.raw(req).await;
                    let status = r.status.as_str().to_owned();
                    assert!(
                        documented.contains(&&status),
                        "{method} {path} ({auth:?}, {body:?}) answered {status}, documented {documented:?}: {:?}",
                        r.body
                    );
                    if !r.status.is_success() {
                        assert_eq!(
                            content_type(&r),
                            "application/problem+json",
                            "{method} {path}"
                        );
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 50, "{checked}");
}
