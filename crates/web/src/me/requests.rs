//! 권리 행사 요청: a member asks the privacy office to let them see, correct or erase, stop
//! processing, withdraw consent or leave, and follows each request to its answer
//! (`/mypage/requests`). A correction request holds the item at once (S8).

use jikimi_core::requests::{OwnRequest, RequestKind, RequestView};

use crate::office::requests::{anchor_of, consent_choices, named_of, purpose_choices, wanted_of};
use crate::page::*;

const HERE: &str = "/mypage/requests";

#[derive(Template)]
#[template(path = "requests.html")]
pub(crate) struct RequestsPage {
    pub(crate) c: Chrome,
    pub(crate) requests: Vec<MyRequest>,
    pub(crate) kinds: Vec<(&'static str, &'static str, bool)>,
    /// (id, label, selected)
    pub(crate) items: Vec<(String, String, bool)>,
    pub(crate) purposes: Vec<(String, String, bool)>,
    pub(crate) consents: Vec<(String, String, bool)>,
    pub(crate) form: FormData,
    pub(crate) errors: Vec<(String, String)>,
    pub(crate) notice: Option<String>,
}

/// One of the member's requests as My page shows it.
#[derive(Debug, Clone)]
pub(crate) struct MyRequest {
    pub(crate) id: String,
    pub(crate) kind: &'static str,
    pub(crate) received: String,
    pub(crate) due: String,
    pub(crate) state: &'static str,
    pub(crate) closed: bool,
    /// What was asked: (label, value) lines.
    pub(crate) asked: Vec<(String, String)>,
    /// The notices given: (title, text, basis, objection).
    pub(crate) notices: Vec<(String, String, String, String)>,
}

fn my_request(s: &AppState, r: RequestView, t: T) -> MyRequest {
    let lang = t.0;
    let policy = s.app.policy();
    let mut asked = Vec::new();
    if let Some(c) = &r.content {
        for (k, v) in &c.wanted {
            let label = policy
                .item(k)
                .map(|i| i.label.get(lang).to_owned())
                .unwrap_or_else(|| k.clone());
            let v = if v.is_empty() {
                t.s("rq_erase").to_owned()
            } else {
                v.clone()
            };
            asked.push((label, v));
        }
        match (r.kind, r.purpose.as_deref()) {
            (RequestKind::ConsentWithdrawal, Some(c)) => {
                if let Some(cat) = policy.consent(c) {
                    asked.push((t.s("rq_consent").to_owned(), cat.title.get(lang).to_owned()));
                }
            }
            (_, Some(p)) => {
                if let Some(p) = policy.purpose(p) {
                    asked.push((t.s("rq_purpose").to_owned(), p.label.get(lang).to_owned()));
                }
            }
            _ => {}
        }
        if !c.text.is_empty() {
            asked.push((t.s("rq_details").to_owned(), c.text.clone()));
        }
    }
    let mut notices: Vec<_> = r
        .events
        .iter()
        .filter(|e| e.event == "extended")
        .filter_map(|e| e.notice.as_ref())
        .map(|n| {
            (
                t.s("rq_extended_notice").to_owned(),
                n.text.clone(),
                n.basis.clone(),
                n.objection.clone(),
            )
        })
        .collect();
    if let Some(a) = &r.answer {
        notices.push((
            t.s("rq_answer").to_owned(),
            a.text.clone(),
            a.basis.clone(),
            a.objection.clone(),
        ));
    }
    MyRequest {
        id: r.id.to_string(),
        kind: r.kind.label(lang),
        received: kst(r.received_at),
        due: r.due_on.to_string(),
        state: r.state.label(lang),
        closed: r.closed_at.is_some(),
        asked,
        notices,
    }
}

pub(crate) async fn requests_page(State(s): State<AppState>, Signed { v, si }: Signed) -> Response {
    let lang = v.lang;
    let t = T(lang);
    let mine = page_try!(s.app.own_requests(&si).await);
    let items = page_try!(s.app.correctable_items(si.member).await);
    let form = v.flash.form();
    let page = RequestsPage {
        c: v.chrome(&s),
        requests: mine.into_iter().map(|r| my_request(&s, r, t)).collect(),
        kinds: RequestKind::MEMBER
            .iter()
            .map(|k| (k.name(), k.label(lang), form.get("kind") == k.name()))
            .collect(),
        items: items
            .iter()
            .map(|i| {
                (
                    i.id.clone(),
                    i.label.get(lang).to_owned(),
                    form.get("item") == i.id,
                )
            })
            .collect(),
        purposes: purpose_choices(&s, lang, form.get("purpose")),
        consents: consent_choices(&s, lang, form.get("consent")),
        errors: v.error_list_by(|f| anchor_of(&s, f)),
        notice: v.notice(),
        form,
    };
    v.render(page)
}

pub(crate) async fn requests_submit(
    State(s): State<AppState>,
    Signed { v, si }: Signed,
    form: FormData,
) -> Response {
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, HERE, &form).await;
    }
    let (ko, en) = (T(Lang::Ko), T(Lang::En));
    let Some(kind) = RequestKind::parse(form.get("kind")) else {
        let e = FieldError::new(
            "kind",
            "request.kind",
            ko.s("rq_kind_missing"),
            en.s("rq_kind_missing"),
        );
        return v.back_to(&s, HERE, &form, vec![e], None).await;
    };
    let req = OwnRequest {
        kind,
        text: form.get("text").to_owned(),
        wanted: if kind == RequestKind::Correction {
            wanted_of(&form)
        } else {
            BTreeMap::new()
        },
        purpose: named_of(&form, kind),
    };
    match s.app.file_own_request(&si, req).await {
        Ok(_) => {
            let due = jikimi_core::requests::due_on(s.app.clock().now()).to_string();
            let ko = ko.s("rq_filed").replace("{due}", &due);
            let en = en.s("rq_filed").replace("{due}", &due);
            v.notice_to(&s, HERE, &ko, &en).await
        }
        Err(CoreError::Invalid(errors)) => v.back_to(&s, HERE, &form, errors, None).await,
        Err(e) => error_page(e),
    }
}

names_errors!(RequestsPage);
