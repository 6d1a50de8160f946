//! 의견·불만 접수: anyone sends an opinion or complaint about personal data, with as much contact
//! as they choose, and is given a receipt number to see the answer with (`/complaints`).

use jikimi_core::requests::{ComplaintStatus, Contact, RequestState};

use crate::page::*;

/// The receipt number looked up (or just given), sealed, for the status page.
pub(crate) const COMPLAINT_COOKIE: crate::CookieName = crate::cookie_name!("jikimi_complaint");
const COMPLAINT_MINUTES: i64 = 30;
const HERE: &str = "/complaints";
const STATUS: &str = "/complaints/status";

#[derive(Template)]
#[template(path = "complaint.html")]
pub(crate) struct ComplaintPage {
    pub(crate) c: Chrome,
    pub(crate) form: FormData,
    pub(crate) errors: Vec<(String, String)>,
}

pub(crate) async fn complaint_page(State(s): State<AppState>, v: Visit) -> Response {
    let page = ComplaintPage {
        c: v.chrome(&s),
        form: v.flash.form(),
        errors: v.error_list(),
    };
    v.render(page)
}

pub(crate) async fn complaint_submit(
    State(s): State<AppState>,
    v: Visit,
    ClientAddr(client): ClientAddr,
    form: FormData,
) -> Response {
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, HERE, &form).await;
    }
    let contact = Contact {
        name: form.get("name").to_owned(),
        email: form.get("email").to_owned(),
        phone: form.get("phone").to_owned(),
    };
    match s
        .app
        .file_complaint(client, form.get("text"), contact)
        .await
    {
        Ok((_, code)) => {
            let v = match remember(v, &s, &code).await {
                Ok(v) => v,
                Err(r) => return r,
            };
            let (ko, en) = (T(Lang::Ko), T(Lang::En));
            let ko = ko.s("cp_filed").replace("{code}", &code);
            let en = en.s("cp_filed").replace("{code}", &code);
            v.notice_to(&s, STATUS, &ko, &en).await
        }
        Err(CoreError::Invalid(errors)) => v.back_to(&s, HERE, &form, errors, None).await,
        Err(e) => error_page(e),
    }
}

/// Keeps the receipt number in its sealed cookie for the status page.
async fn remember(mut v: Visit, s: &AppState, code: &str) -> Result<Visit, Response> {
    let c = seal_cookie(s, COMPLAINT_COOKIE, COMPLAINT_MINUTES, &code)
        .await
        .map_err(error_page)?;
    v.jar = v.jar.add(c);
    Ok(v)
}

#[derive(Template)]
#[template(path = "complaint_status.html")]
pub(crate) struct ComplaintStatusPage {
    pub(crate) c: Chrome,
    pub(crate) notice: Option<String>,
    pub(crate) status: Option<StatusView>,
    pub(crate) error: Option<String>,
}

/// The status as the page shows it.
#[derive(Debug, Clone)]
pub(crate) struct StatusView {
    pub(crate) received: String,
    pub(crate) due: String,
    pub(crate) state: &'static str,
    pub(crate) answered: bool,
    pub(crate) text: String,
    pub(crate) answer: String,
    pub(crate) kept_until: String,
}

fn status_view(st: ComplaintStatus, lang: Lang) -> StatusView {
    StatusView {
        received: kst(st.received_at),
        due: st.due_on.to_string(),
        state: st.state.label(lang),
        answered: st.state == RequestState::Answered,
        text: st.text.unwrap_or_default(),
        answer: st.answer.unwrap_or_default(),
        kept_until: st.kept_until.map(|d| d.to_string()).unwrap_or_default(),
    }
}

pub(crate) async fn complaint_status_page(State(s): State<AppState>, v: Visit) -> Response {
    let lang = v.lang;
    let code = open_cookie::<String>(&s, &v.jar, COMPLAINT_COOKIE).await;
    let status = match code {
        Some(code) => match s.app.complaint_status(&code).await {
            Ok(st) => Some(status_view(st, lang)),
            Err(CoreError::NotFound(_)) => None,
            Err(e) => return error_page(e),
        },
        None => None,
    };
    let page = ComplaintStatusPage {
        c: v.chrome(&s),
        notice: v.notice(),
        status,
        error: v.flash.errors.first().map(|e| e.message(lang).to_owned()),
    };
    v.render(page)
}

pub(crate) async fn complaint_status_submit(
    State(s): State<AppState>,
    v: Visit,
    ClientAddr(client): ClientAddr,
    form: FormData,
) -> Response {
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, STATUS, &form).await;
    }
    let code = form.get("code").trim().to_uppercase();
    match s.app.complaint_status_from(client, &code).await {
        Ok(_) => match remember(v, &s, &code).await {
            Ok(v) => v.redirect(STATUS),
            Err(r) => r,
        },
        Err(CoreError::NotFound(_)) => {
            let mut v = v;
            v.jar = v.jar.remove(removal(&s, COMPLAINT_COOKIE));
            let e = FieldError::new(
                "code",
                "complaint.not_found",
                T(Lang::Ko).s("cp_not_found"),
                T(Lang::En).s("cp_not_found"),
            );
            v.back_to(&s, STATUS, &form, vec![e], None).await
        }
        Err(e) => error_page(e),
    }
}

names_errors!(ComplaintPage);
