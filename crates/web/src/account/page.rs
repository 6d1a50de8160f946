//! Login and logout, and the way in with 본인확인 while failures from elsewhere hold a login ID.

use crate::page::*;

#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage {
    pub(crate) c: Chrome,
    pub(crate) next: String,
    pub(crate) login_id: String,
    pub(crate) error: Option<String>,
    /// Why this page asks to log in (the page the visitor wanted needs it).
    pub(crate) reason: Option<String>,
    pub(crate) notice: Option<String>,
    /// The way in with 본인확인 (a login ID held by failures from elsewhere).
    pub(crate) recover: Option<String>,
    /// Where 아이디 찾기 · 비밀번호 재설정 starts: by e-mail, or with 본인확인 (`lifeplan`).
    pub(crate) forgot: Option<&'static str>,
}

/// Where a member who forgot their login ID or password starts, if anywhere.
fn forgot_link(s: &AppState) -> Option<&'static str> {
    if identity_recovery(s) {
        Some("/recovery/identity")
    } else if s.app.recovers_by_email() {
        Some("/recovery/password")
    } else {
        None
    }
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    pub(crate) next: Option<String>,
}

/// Only local paths are followed after login: one leading `/`, no backslash, no whitespace or
/// control character (browsers drop tabs and newlines, which would turn `/\t/evil` into
/// `//evil`).
pub(crate) fn safe_next(next: &str) -> String {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || c.is_control());
    if local {
        next.to_owned()
    } else {
        "/mypage".into()
    }
}

/// Why a page the visitor wanted needs a login, said on the login page.
pub(crate) fn login_reason(next: &str, t: T) -> Option<&'static str> {
    if next.starts_with("/mypage/withdraw") || next.starts_with("/mypage/consents") {
        Some(t.s("login_reason_withdraw"))
    } else if next.starts_with("/mypage") {
        Some(t.s("login_reason_mypage"))
    } else {
        None
    }
}

pub(crate) async fn login_page(
    State(s): State<AppState>,
    v: Visit,
    Query(q): Query<NextQuery>,
) -> Response {
    let t = T(v.lang);
    let next = safe_next(match v.flash.get("next") {
        "" => q.next.as_deref().unwrap_or("/mypage"),
        n => n,
    });
    let page = LoginPage {
        c: v.chrome(&s),
        reason: q
            .next
            .as_deref()
            .and_then(|n| login_reason(&safe_next(n), t))
            .map(str::to_owned),
        login_id: v.flash.get("login_id").to_owned(),
        error: v.flash.errors.first().map(|e| e.message(v.lang).to_owned()),
        notice: v.notice(),
        recover: None,
        forgot: forgot_link(&s),
        next,
    };
    v.render(page)
}

pub(crate) async fn login_submit(
    State(s): State<AppState>,
    v: Visit,
    ClientAddr(client): ClientAddr,
    form: FormData,
) -> Response {
    let next = safe_next(form.get("next"));
    let here = login_href(&next);
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, &here, &form).await;
    }
    let (ko, en) = (T(Lang::Ko), T(Lang::En));
    // A 본인확인 done for this login (`/login/verify`) waits in the form cookie of this page.
    let identity = v.flash.get("identity_token").to_owned();
    let form = if identity.is_empty() {
        form
    } else {
        form.with("identity_token", &identity)
    };
    let error = match s
        .app
        .login_from(
            client,
            form.get("login_id"),
            &Revealed::new(form.get("password").to_owned()),
            (!identity.is_empty()).then_some(identity.as_str()),
        )
        .await
    {
        Ok(new) => {
            let mut v = v;
            v.jar = v
                .jar
                .add(session_cookie(&s, new.token.expose()))
                .remove(removal(&s, FORM_COOKIE));
            return v.redirect(&next);
        }
        Err(CoreError::BadCredentials) => FieldError::new(
            "login",
            "login.failed",
            ko.s("login_failed"),
            en.s("login_failed"),
        ),
        Err(CoreError::TooManyAttempts { retry_after }) => {
            let minutes = (retry_after + 59) / 60;
            let error = match v.lang {
                Lang::Ko => format!(
                    "{} {minutes}{}",
                    ko.s("login_locked"),
                    ko.s("minutes_later")
                ),
                Lang::En => format!(
                    "{} {minutes} {}",
                    en.s("login_locked"),
                    en.s("minutes_later")
                ),
            };
            return login_refused(v, &s, next, form.get("login_id"), error, retry_after, false);
        }
        Err(CoreError::RateLimited {
            action,
            retry_after,
        }) => {
            let mut error = crate::i18n::limited(v.lang, action, retry_after);
            let recover = action == jikimi_core::Action::LoginAccount && identity_recovery(&s);
            if recover {
                error = format!("{error} {}", T(v.lang).s("limited_login_identity"));
            }
            return login_refused(
                v,
                &s,
                next,
                form.get("login_id"),
                error,
                retry_after,
                recover,
            );
        }
        Err(CoreError::Identity(_)) if !identity.is_empty() => {
            // Not this member's (or used up): forgotten, so the next try is a plain login.
            let error = FieldError::new(
                "login",
                "login.identity",
                ko.s("recover_not_member"),
                en.s("recover_not_member"),
            );
            let kept = FormData::of(&[("login_id", form.get("login_id")), ("next", &next)]);
            return v.back_to(&s, &here, &kept, vec![error], None).await;
        }
        Err(e) => return error_page(e),
    };
    v.back_to(&s, &here, &form, vec![error], None).await
}

/// A login refused by a limit: the login form again, at once (no redirect), with status 429, the
/// reason and how long to wait, and `Retry-After`.
fn login_refused(
    v: Visit,
    s: &AppState,
    next: String,
    login_id: &str,
    error: String,
    retry_after: i64,
    recover: bool,
) -> Response {
    let page = LoginPage {
        c: v.chrome(s),
        reason: None,
        login_id: login_id.to_owned(),
        error: Some(error),
        notice: None,
        recover: recover.then(|| "/login/identity".to_owned()),
        forgot: forgot_link(s),
        next,
    };
    let r = v.render(page);
    let mut r = with_retry_after(r, retry_after);
    *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    r
}

/// 본인확인 for a login (lifeplan, with a provider): the form of the sign-up's identity step, sent
/// to `/login/identity`. The request id waits for `/login/verify` in the form cookie, and the
/// verified identity's one-time token for `/login` (10 minutes): the login then lets the member
/// in while failures from other clients hold the login ID (ARCHITECTURE.md, "Limits").
pub(crate) async fn login_identity_page(State(s): State<AppState>, v: Visit) -> Response {
    if !identity_recovery(&s) {
        return v.redirect("/login");
    }
    SignupIdentityPage::show(
        v,
        &s,
        "recover_body",
        "/login/identity",
        ("/login", "back_to_login"),
    )
}

pub(crate) async fn login_identity(
    State(s): State<AppState>,
    v: Visit,
    ClientAddr(client): ClientAddr,
    form: FormData,
) -> Response {
    const HERE: &str = "/login/identity";
    if !identity_recovery(&s) {
        return v.redirect("/login");
    }
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, HERE, &form).await;
    }
    request_identity(&s, v, client, &form, HERE, "/login/verify").await
}

/// The identity step's form (a held login, account recovery): asks for a texted code, or for a
/// window's verification id; the request id goes on to `verify` in the form cookie.
pub(crate) async fn request_identity(
    s: &AppState,
    v: Visit,
    client: jikimi_core::Client,
    form: &FormData,
    here: &'static str,
    verify: &'static str,
) -> Response {
    let requested = if s.app.identity_window().is_some() {
        s.app.identity_window_issue_from(client).await
    } else {
        match identity_request_of(form) {
            Ok(req) => s.app.identity_request_from(client, req).await,
            Err(errors) => return v.back_to(s, here, form, errors, None).await,
        }
    };
    match requested {
        Ok(request_id) => {
            let carry = FormData::of(&[("request_id", &request_id)]);
            v.back_to(s, verify, &carry, vec![], None).await
        }
        Err(CoreError::Invalid(e)) => v.back_to(s, here, form, e, None).await,
        Err(CoreError::RateLimited {
            action,
            retry_after,
        }) => limited_to(v, s, here, action, retry_after).await,
        Err(e) => error_page(e),
    }
}

/// To `to`, saying how long an abuse limit makes the visitor wait (the request is spent).
async fn limited_to(
    v: Visit,
    s: &AppState,
    to: &str,
    action: jikimi_core::Action,
    retry_after: i64,
) -> Response {
    let ko = crate::i18n::limited(Lang::Ko, action, retry_after);
    let en = crate::i18n::limited(Lang::En, action, retry_after);
    v.notice_to(s, to, &ko, &en).await
}

/// The verify step's page with a window provider: without `?identityVerificationId`, the page
/// that opens the window with the request id of the form cookie; with it, the window is back and
/// the result is taken (once) and goes on as a confirmed code's would.
pub(crate) async fn window_step(
    s: &AppState,
    v: Visit,
    client: jikimi_core::Client,
    win: jikimi_core::identity::Window,
    back: crate::signup::window::Returned,
    steps: CodeSteps,
) -> Response {
    let request_id = v.flash.get("request_id").to_owned();
    if request_id.is_empty() {
        return match back.id {
            Some(_) => {
                let (ko, en) = (T(Lang::Ko), T(Lang::En));
                v.notice_to(
                    s,
                    steps.start,
                    ko.s("identity_expired_plain"),
                    en.s("identity_expired_plain"),
                )
                .await
            }
            None => v.redirect(steps.start),
        };
    }
    let Some(id) = back.id else {
        return crate::signup::window::launch(
            v,
            s,
            win,
            &request_id,
            steps.here,
            (steps.start, "window_restart"),
        );
    };
    let say = |key: &str| {
        let (ko, en) = (T(Lang::Ko).s(key), T(Lang::En).s(key));
        (ko, en)
    };
    // The request is spent whatever happens now: the form cookie forgets it.
    let result = if crate::extract::same_token(&id, &request_id) {
        s.app.identity_window_return_from(client, &request_id).await
    } else {
        Err(CoreError::Identity("another verification"))
    };
    match result {
        Ok(token) => {
            let carry = FormData::of(&[("identity_token", token.expose())]);
            v.back_to(s, steps.next, &carry, vec![], steps.verified)
                .await
        }
        Err(CoreError::Identity(_)) => {
            let (ko, en) = say("window_not_done");
            v.notice_to(s, steps.start, ko, en).await
        }
        Err(CoreError::Unavailable(_)) => {
            let (ko, en) = say("provider_unavailable");
            v.notice_to(s, steps.start, ko, en).await
        }
        Err(CoreError::RateLimited {
            action,
            retry_after,
        }) => limited_to(v, s, steps.start, action, retry_after).await,
        Err(e) => error_page(e),
    }
}

pub(crate) async fn login_verify_page(
    State(s): State<AppState>,
    v: Visit,
    ClientAddr(client): ClientAddr,
    Query(back): Query<crate::signup::window::Returned>,
) -> Response {
    code_step_page(&s, v, client, back, login_steps()).await
}

/// The code step of a 본인확인 flow that keeps its request in the form cookie (a held login,
/// account recovery, the guardian's steps): the provider's window where it verifies in one,
/// else the code form; without a request waiting, back to the flow's start.
pub(crate) async fn code_step_page(
    s: &AppState,
    v: Visit,
    client: jikimi_core::Client,
    back: crate::signup::window::Returned,
    steps: CodeSteps,
) -> Response {
    if let Some(win) = s.app.identity_window() {
        return window_step(s, v, client, win, back, steps).await;
    }
    if v.flash.get("request_id").is_empty() {
        return v.redirect(steps.start);
    }
    let page = SignupCodePage {
        c: v.chrome(s),
        action: steps.here,
        resend: steps.start,
        notice: v.notice(),
        error: v.flash.errors.first().map(|e| e.message(v.lang).to_owned()),
        sandbox: s.app.sandbox_outbox().is_some(),
    };
    v.render(page)
}

pub(crate) async fn login_verify(
    State(s): State<AppState>,
    v: Visit,
    ClientAddr(client): ClientAddr,
    form: FormData,
) -> Response {
    confirm_identity_code(&s, v, client, &form, login_steps()).await
}

fn login_steps() -> CodeSteps {
    let (ko, en) = (T(Lang::Ko), T(Lang::En));
    CodeSteps {
        here: "/login/verify",
        start: "/login/identity",
        next: "/login",
        verified: Some((ko.s("recover_verified"), en.s("recover_verified"))),
    }
}

/// Where a 본인확인 code form sits in a flow: its own address, where the flow starts again, where
/// the verified identity's token goes (in the form cookie), and what is said there.
pub(crate) struct CodeSteps {
    pub(crate) here: &'static str,
    pub(crate) start: &'static str,
    pub(crate) next: &'static str,
    pub(crate) verified: Option<(&'static str, &'static str)>,
}

/// The 본인확인 code form's answer (a login held by failures elsewhere, account recovery): the
/// code confirms the request waiting in the form cookie, and the verified identity's one-time
/// token goes on to `steps.next` in the form cookie (never in the page or the URL).
pub(crate) async fn confirm_identity_code(
    s: &AppState,
    v: Visit,
    client: jikimi_core::Client,
    form: &FormData,
    steps: CodeSteps,
) -> Response {
    let request_id = v.flash.get("request_id").to_owned();
    let carry = FormData::of(&[("request_id", &request_id)]);
    if !v.csrf_ok(form) {
        return csrf_failed(v, s, steps.here, &carry).await;
    }
    if request_id.is_empty() {
        return v.redirect(steps.start);
    }
    match s
        .app
        .identity_confirm_from(client, &request_id, form.get("code"))
        .await
    {
        Ok(token) => {
            let carry = FormData::of(&[("identity_token", token.expose())]);
            v.back_to(s, steps.next, &carry, vec![], steps.verified)
                .await
        }
        Err(CoreError::Invalid(e)) => v.back_to(s, steps.here, &carry, e, None).await,
        Err(CoreError::RateLimited {
            action,
            retry_after,
        }) => limited_to(v, s, steps.start, action, retry_after).await,
        Err(CoreError::Identity(_)) => code_expired(v, s, steps.start).await,
        Err(e) => error_page(e),
    }
}

/// Back to the start of a 본인확인 flow, saying the code or the verification expired.
pub(crate) async fn code_expired(v: Visit, s: &AppState, start: &str) -> Response {
    let (ko, en) = (T(Lang::Ko), T(Lang::En));
    v.notice_to(
        s,
        start,
        ko.s("recover_code_expired"),
        en.s("recover_code_expired"),
    )
    .await
}

/// A GET of `/logout` (a bookmark, a reload) changes nothing and goes home.
pub(crate) async fn logout_page() -> Response {
    Redirect::to("/").into_response()
}

pub(crate) async fn logout(State(s): State<AppState>, v: Visit, form: FormData) -> Response {
    if !v.csrf_ok(&form) {
        return v.redirect("/");
    }
    if let Some(c) = v.jar.get(s.cookie(SESSION_COOKIE))
        && let Err(e) = s.app.logout(c.value()).await
    {
        return error_page(e);
    }
    let mut v = v;
    v.jar = v.jar.add(clear_session_cookie(&s));
    v.redirect("/")
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(safe_next("/mypage/withdraw"), "/mypage/withdraw");
        assert_eq!(safe_next("/mypage?reveal=1"), "/mypage?reveal=1");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil",
            "evil",
            "",
        ] {
            assert_eq!(safe_next(bad), "/mypage", "{bad:?}");
        }
    }
}
