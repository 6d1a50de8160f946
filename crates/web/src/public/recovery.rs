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

names_errors!(RecoveryPage, ResetPage);

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
                .collect(),
            text: m.letter.text.clone(),
        })
        .collect();
    let c = v.chrome(&s);
    v.render(SandboxMailPage { c, messages })
}
