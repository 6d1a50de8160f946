//! Login and logout.

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
        next,
    };
    v.render(page)
}

pub(crate) async fn login_submit(State(s): State<AppState>, v: Visit, form: FormData) -> Response {
    let next = safe_next(form.get("next"));
    let here = login_href(&next);
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, &here, &form).await;
    }
    let (ko, en) = (T(Lang::Ko), T(Lang::En));
    let error = match s
        .app
        .login(
            form.get("login_id"),
            &Revealed::new(form.get("password").to_owned()),
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
            FieldError::new(
                "login",
                "login.locked",
                format!(
                    "{} {minutes}{}",
                    ko.s("login_locked"),
                    ko.s("minutes_later")
                ),
                format!(
                    "{} {minutes} {}",
                    en.s("login_locked"),
                    en.s("minutes_later")
                ),
            )
        }
        Err(e) => return error_page(e),
    };
    v.back_to(&s, &here, &form, vec![error], None).await
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
