//! 아이디 찾기 / 비밀번호 재설정 by e-mail (`/recovery/…`), and the sandbox mailbox
//! (`/sandbox/mail`). Every answer to a request is the same whether or not an account matched.

use crate::page::*;

const ID: &str = "/recovery/id";
const PASSWORD: &str = "/recovery/password";
const RESET: &str = "/recovery/reset";

#[derive(Template)]
#[template(path = "recovery.html")]
pub(crate) struct RecoveryPage {
    pub(crate) c: Chrome,
    /// `id` or `password`.
    pub(crate) mode: &'static str,
    pub(crate) form: FormData,
    pub(crate) errors: Vec<(String, String)>,
    pub(crate) notice: Option<String>,
}

fn recovery_page(s: &AppState, v: Visit, mode: &'static str) -> Response {
    if !s.app.recovers_by_email() {
        // On a profile with 본인확인, recovery goes through it.
        if identity_recovery(s) {
            return v.redirect(IDENTITY);
        }
        return not_found_page(s, v.lang);
    }
    let page = RecoveryPage {
        c: v.chrome(s),
        mode,
        form: v.flash.form(),
        errors: v.error_list(),
        notice: v.notice(),
    };
    v.render(page)
}

pub(crate) async fn id_page(State(s): State<AppState>, v: Visit) -> Response {
    recovery_page(&s, v, "id")
}

pub(crate) async fn password_page(State(s): State<AppState>, v: Visit) -> Response {
    recovery_page(&s, v, "password")
}

/// The answer to either request: the same whether or not an account matched.
async fn sent(v: Visit, s: &AppState, to: &str) -> Response {
    let (ko, en) = (T(Lang::Ko).s("rc_sent"), T(Lang::En).s("rc_sent"));
    v.notice_to(s, to, ko, en).await
}

pub(crate) async fn id_submit(
    State(s): State<AppState>,
    v: Visit,
    ClientAddr(client): ClientAddr,
    form: FormData,
) -> Response {
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, ID, &form).await;
    }
    match s.app.send_login_id(client, form.get("email")).await {
        Ok(()) => sent(v, &s, ID).await,
        Err(CoreError::Invalid(errors)) => v.back_to(&s, ID, &form, errors, None).await,
        Err(e) => error_page(e),
    }
}

pub(crate) async fn password_submit(
    State(s): State<AppState>,
    v: Visit,
    ClientAddr(client): ClientAddr,
    form: FormData,
) -> Response {
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, PASSWORD, &form).await;
    }
    let site = s.app.mail_site().url;
    let link = |token: &str| format!("{site}{RESET}?t={token}");
    match s
        .app
        .send_password_reset(client, form.get("login_id"), form.get("email"), link)
        .await
    {
        Ok(()) => sent(v, &s, PASSWORD).await,
        Err(CoreError::Invalid(errors)) => v.back_to(&s, PASSWORD, &form, errors, None).await,
        Err(e) => error_page(e),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct TokenQuery {
    t: Option<String>,
}

#[derive(Template)]
#[template(path = "recovery_reset.html")]
pub(crate) struct ResetPage {
    pub(crate) c: Chrome,
    /// The token from the mailed link (or kept in the sealed form cookie after an error).
    pub(crate) token: String,
    /// Whether the token is good now; if not, the page says so and offers a new request.
    pub(crate) valid: bool,
    pub(crate) errors: Vec<(String, String)>,
}

pub(crate) async fn reset_page(
    State(s): State<AppState>,
    v: Visit,
    Query(q): Query<TokenQuery>,
) -> Response {
    if !s.app.recovers_by_email() {
        return not_found_page(&s, v.lang);
    }
    let token =
        q.t.unwrap_or_else(|| v.flash.get("t").to_owned())
            .trim()
            .to_owned();
    let valid = !token.is_empty() && page_try!(s.app.reset_token_valid(&token).await);
    let page = ResetPage {
        c: v.chrome(&s),
        token,
        valid,
        errors: v.error_list(),
    };
    v.render(page)
}

pub(crate) async fn reset_submit(State(s): State<AppState>, v: Visit, form: FormData) -> Response {
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, RESET, &form).await;
    }
    let new = Revealed::new(form.get("new_password").to_owned());
    if form.get("new_password") != form.get("new_password_confirm") {
        let e = FieldError::new(
            "new_password_confirm",
            "password.confirm",
            T(Lang::Ko).s("passwords_differ"),
            T(Lang::En).s("passwords_differ"),
        );
        return v.back_to(&s, RESET, &form, vec![e], None).await;
    }
    match s.app.reset_password(form.get("t"), &new).await {
        Ok(()) => {
            let mut v = v;
            v.jar = v.jar.remove(clear_session_cookie(&s));
            let (ko, en) = (T(Lang::Ko).s("rc_done"), T(Lang::En).s("rc_done"));
            v.notice_to(&s, "/login", ko, en).await
        }
        Err(CoreError::Invalid(errors)) => v.back_to(&s, RESET, &form, errors, None).await,
        Err(e) => error_page(e),
    }
}

names_errors!(RecoveryPage, ResetPage, FoundPage);

// ----- with 본인확인 (lifeplan) -------------------------------------------------------------

const IDENTITY: &str = "/recovery/identity";
const VERIFY: &str = "/recovery/verify";
const FOUND: &str = "/recovery/found";

/// 아이디 찾기 / 비밀번호 재설정 with 본인확인: the sign-up's identity form, sent here. The
/// request id waits for `/recovery/verify` in the form cookie, and the verified identity's token
/// for `/recovery/found` (10 minutes, never in the page or the URL).
pub(crate) async fn identity_page(State(s): State<AppState>, v: Visit) -> Response {
    if !identity_recovery(&s) {
        return not_found_page(&s, v.lang);
    }
    SignupIdentityPage::show(
        v,
        &s,
        "rc_identity_body",
        IDENTITY,
        ("/login", "back_to_login"),
    )
}

pub(crate) async fn identity_submit(
    State(s): State<AppState>,
    v: Visit,
    ClientAddr(client): ClientAddr,
    form: FormData,
) -> Response {
    if !identity_recovery(&s) {
        return not_found_page(&s, v.lang);
    }
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, IDENTITY, &form).await;
    }
    request_identity(&s, v, client, &form, IDENTITY, VERIFY).await
}

pub(crate) async fn verify_page(
    State(s): State<AppState>,
    v: Visit,
    ClientAddr(client): ClientAddr,
    Query(back): Query<crate::signup::window::Returned>,
) -> Response {
    code_step_page(&s, v, client, back, recovery_steps()).await
}

pub(crate) async fn verify_submit(
    State(s): State<AppState>,
    v: Visit,
    ClientAddr(client): ClientAddr,
    form: FormData,
) -> Response {
    confirm_identity_code(&s, v, client, &form, recovery_steps()).await
}

fn recovery_steps() -> CodeSteps {
    CodeSteps {
        here: VERIFY,
        start: IDENTITY,
        next: FOUND,
        verified: None,
    }
}

#[derive(Template)]
#[template(path = "recovery_found.html")]
pub(crate) struct FoundPage {
    pub(crate) c: Chrome,
    /// The login ID of the member the verified identity names, if any.
    pub(crate) login_id: Option<String>,
    pub(crate) errors: Vec<(String, String)>,
}

pub(crate) async fn found_page(State(s): State<AppState>, v: Visit) -> Response {
    let token = v.flash.get("identity_token").to_owned();
    if token.is_empty() {
        return v.redirect(IDENTITY);
    }
    let login_id = match s.app.member_for_identity(&token).await {
        Ok(found) => found.map(|(_, login)| login.expose().to_owned()),
        Err(CoreError::Identity(_)) => return code_expired(v, &s, IDENTITY).await,
        Err(e) => return error_page(e),
    };
    let page = FoundPage {
        c: v.chrome(&s),
        login_id,
        errors: v.error_list(),
    };
    v.render(page)
}

pub(crate) async fn found_submit(State(s): State<AppState>, v: Visit, form: FormData) -> Response {
    let token = v.flash.get("identity_token").to_owned();
    let carry = FormData::of(&[("identity_token", &token)]);
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, FOUND, &carry).await;
    }
    if token.is_empty() {
        return v.redirect(IDENTITY);
    }
    if form.get("new_password") != form.get("new_password_confirm") {
        let e = FieldError::new(
            "new_password_confirm",
            "password.confirm",
            T(Lang::Ko).s("passwords_differ"),
            T(Lang::En).s("passwords_differ"),
        );
        return v.back_to(&s, FOUND, &carry, vec![e], None).await;
    }
    let new = Revealed::new(form.get("new_password").to_owned());
    match s.app.reset_password_with_identity(&token, &new).await {
        Ok(()) => {
            let mut v = v;
            v.jar = v.jar.remove(clear_session_cookie(&s));
            let (ko, en) = (T(Lang::Ko).s("rc_done"), T(Lang::En).s("rc_done"));
            v.notice_to(&s, "/login", ko, en).await
        }
        Err(CoreError::Invalid(errors)) => v.back_to(&s, FOUND, &carry, errors, None).await,
        Err(CoreError::Identity(_) | CoreError::NotFound(_)) => code_expired(v, &s, IDENTITY).await,
        Err(e) => error_page(e),
    }
}

#[derive(Template)]
#[template(path = "sandbox_mail.html")]
pub(crate) struct SandboxMailPage {
    pub(crate) c: Chrome,
    pub(crate) messages: Vec<SandboxMailView>,
}

/// One message of the sandbox mailbox as its page shows it.
#[derive(Debug)]
pub(crate) struct SandboxMailView {
    pub(crate) at: String,
    pub(crate) to: String,
    pub(crate) subject: String,
    pub(crate) text: String,
    pub(crate) links: Vec<String>,
}

pub(crate) async fn sandbox_mail_page(State(s): State<AppState>, v: Visit) -> Response {
    let Some(mailbox) = s.app.sandbox_mailbox() else {
        return not_found_page(&s, v.lang);
    };
    let messages = mailbox
        .messages()
        .into_iter()
        .rev()
        .map(|m| SandboxMailView {
            at: kst(m.at),
            to: jikimi_vault::mask_email(&m.letter.to),
            subject: m.letter.subject.clone(),
            links: m
                .letter
                .text
                .lines()
                .map(str::trim)
                .filter(|l| l.starts_with("http://") || l.starts_with("https://"))
                .map(str::to_owned)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect(),
            text: m.letter.text.clone(),
        })
        .collect();
    let c = v.chrome(&s);
    v.render(SandboxMailPage { c, messages })
}
