//! Refusing advertising without logging in (정보통신망법 Art. 50, R-MKT-03; issue 17). Every ad
//! carries `/ads/refuse?t=…`: the page names what is refused and refuses with one press; a mail
//! program's one-click (`List-Unsubscribe-Post`, RFC 8058) POSTs to the same address. A GET
//! never refuses (a link checker must not unsubscribe anyone). The token is the credential (a
//! sealed member and channel), so the form carries no session's CSRF token.

use jikimi_policy::Channel;
use serde::Deserialize;

use crate::page::*;

#[derive(Debug, Deserialize)]
pub(crate) struct RefuseQuery {
    pub(crate) t: Option<String>,
}

#[derive(Template)]
#[template(path = "ad_refuse.html")]
pub(crate) struct AdRefusePage {
    pub(crate) c: Chrome,
    pub(crate) token: String,
    pub(crate) what: &'static str,
}

fn what(c: Channel) -> &'static str {
    match c {
        Channel::Sms => "ar_sms",
        _ => "ar_email",
    }
}

fn invalid(v: Visit, s: &AppState) -> Response {
    let t = T(v.lang);
    message(
        v,
        s,
        t.s("ar_invalid_title"),
        vec![t.s("ar_invalid").to_owned()],
        Some(("/mypage#consents", t.s("ar_to_mypage"))),
    )
}

pub(crate) async fn refuse_page(
    State(s): State<AppState>,
    v: Visit,
    Query(q): Query<RefuseQuery>,
) -> Response {
    let token = q.t.unwrap_or_default();
    match s.app.ad_refusal_channel(&token).await {
        Ok(Some(c)) => {
            let page = AdRefusePage {
                c: v.chrome(&s),
                token,
                what: T(v.lang).s(what(c)),
            };
            v.render(page)
        }
        Ok(None) => invalid(v, &s),
        Err(e) => error_page(e),
    }
}

/// `POST /ads/refuse?t=…` (a mail program's one-click) or the page's form (`t`).
pub(crate) async fn refuse_submit(
    State(s): State<AppState>,
    v: Visit,
    Query(q): Query<RefuseQuery>,
    form: FormData,
) -> Response {
    let token = q.t.unwrap_or_else(|| form.get("t").to_owned());
    let t = T(v.lang);
    match s.app.refuse_ads(&token).await {
        Ok(Some(c)) => {
            let done = t.s("ar_done").replace("{what}", t.s(what(c)));
            message(
                v,
                &s,
                t.s("ar_done_title"),
                vec![done, t.s("ar_result_mailed").to_owned()],
                None,
            )
        }
        Ok(None) => invalid(v, &s),
        Err(e) => error_page(e),
    }
}
