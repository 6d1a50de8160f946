//! A staff member's own password (`/office/password`): the current one, then a new one under
//! the staff rule; their other sessions end.

use jikimi_core::staff::staff_password_rule;

use super::page::{OfficeChrome, OfficeVisit};
use crate::page::*;

const HERE: &str = "/office/password";

#[derive(Template)]
#[template(path = "office_password.html")]
pub(crate) struct PasswordPage {
    pub(crate) c: OfficeChrome,
    pub(crate) rule: &'static str,
    pub(crate) errors: Vec<(String, String)>,
}

pub(crate) async fn password_page(State(s): State<AppState>, ov: OfficeVisit) -> Response {
    let (ov, _) = match ov.signed(&s).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = ov.v.lang;
    let page = PasswordPage {
        c: ov.chrome(&s),
        rule: staff_password_rule(lang),
        errors: ov.v.error_list(),
    };
    ov.v.render(page)
}

pub(crate) async fn password_submit(
    State(s): State<AppState>,
    ov: OfficeVisit,
    ClientAddr(client): ClientAddr,
    form: FormData,
) -> Response {
    let (ov, st) = match ov.signed_form(&s, &form, HERE).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (ko, en) = (T(Lang::Ko), T(Lang::En));
    if form.get("new_password") != form.get("new_password_confirm") {
        let e = FieldError::new(
            "new_password_confirm",
            "password.confirm",
            ko.s("office_password_mismatch"),
            en.s("office_password_mismatch"),
        );
        return ov.v.back_to(&s, HERE, &form, vec![e], None).await;
    }
    let current = Revealed::new(form.get("current_password").to_owned());
    let new = Revealed::new(form.get("new_password").to_owned());
    match s
        .app
        .change_staff_password(&st, client, &current, &new)
        .await
    {
        Ok(()) => {
            ov.v.notice_to(
                &s,
                "/office",
                ko.s("office_password_changed"),
                en.s("office_password_changed"),
            )
            .await
        }
        Err(CoreError::BadCredentials) => {
            let e = FieldError::new(
                "current_password",
                "password.wrong",
                ko.s("password_wrong"),
                en.s("password_wrong"),
            );
            ov.v.back_to(&s, HERE, &form, vec![e], None).await
        }
        Err(CoreError::TooManyAttempts { retry_after }) => {
            let minutes = ((retry_after + 59) / 60).to_string();
            let e = FieldError::new(
                "current_password",
                "password.locked",
                ko.s("office_login_locked").replace("{n}", &minutes),
                en.s("office_login_locked").replace("{n}", &minutes),
            );
            ov.v.back_to(&s, HERE, &form, vec![e], None).await
        }
        Err(CoreError::Invalid(errors)) => ov.v.back_to(&s, HERE, &form, errors, None).await,
        Err(e) => error_page(e),
    }
}

names_errors!(PasswordPage);
