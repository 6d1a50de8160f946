//! The console's requests and complaints (`/office/requests`): what is due, overdue ones first and
//! in red; one request with its content, history and the actions its state allows (assign,
//! correct as asked, answer, extend once, refuse with reasons); and the entry of a request that
//! came by letter, phone, e-mail or fax.

use jikimi_core::requests::{
    Agent, Channel, Notice, OfficeEntry, RequestKind, RequestState, RequestView,
};
use jikimi_core::staff::{Power, StaffSession};

use super::page::{OfficeChrome, OfficeVisit, actor_label, forbidden};
use crate::page::*;

#[derive(Template)]
#[template(path = "office_requests.html")]
pub(crate) struct RequestsPage {
    pub(crate) c: OfficeChrome,
    pub(crate) open: Vec<RequestLine>,
    pub(crate) closed: Vec<RequestLine>,
    /// May record requests that came by letter, phone, e-mail or fax.
    pub(crate) may_record: bool,
    pub(crate) notice: Option<String>,
}

/// One request in the list: no personal data.
#[derive(Debug, Clone)]
pub(crate) struct RequestLine {
    pub(crate) id: String,
    pub(crate) received: String,
    pub(crate) kind: &'static str,
    pub(crate) channel: &'static str,
    pub(crate) due: String,
    /// "3일 남음", "오늘까지", "기한 2일 지남".
    pub(crate) due_note: String,
    pub(crate) overdue: bool,
    pub(crate) state: &'static str,
    pub(crate) assignee: String,
}

pub(crate) fn line(r: &RequestView, t: T) -> RequestLine {
    let lang = t.0;
    let due_note = if r.closed_at.is_some() {
        String::new()
    } else if r.overdue {
        t.s("office_rq_overdue")
            .replace("{n}", &(-r.days_left).to_string())
    } else if r.days_left == 0 {
        t.s("office_rq_due_today").to_owned()
    } else {
        t.s("office_rq_days_left")
            .replace("{n}", &r.days_left.to_string())
    };
    RequestLine {
        id: r.id.to_string(),
        received: kst(r.received_at),
        kind: r.kind.label(lang),
        channel: r.channel.label(lang),
        due: r.due_on.to_string(),
        due_note,
        overdue: r.overdue,
        state: r.state.label(lang),
        assignee: r
            .assignee
            .clone()
            .unwrap_or_else(|| t.s("office_rq_unassigned").to_owned()),
    }
}

/// The requests page's prelude: signed in with a role that works requests (403 otherwise), the
/// view in the access log.
async fn working(
    ov: OfficeVisit,
    s: &AppState,
    client: Option<std::net::IpAddr>,
    action: &str,
) -> Result<(OfficeVisit, StaffSession), Response> {
    ov.viewing(s, Power::AssignedRequests, client, action).await
}

pub(crate) async fn requests_page(
    State(s): State<AppState>,
    ov: OfficeVisit,
    ClientAddr(client): ClientAddr,
) -> Response {
    let (ov, st) = match working(ov, &s, client, "office.requests.list").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let all = match s.app.requests_for(&st, false).await {
        Ok(r) => r,
        Err(CoreError::Forbidden(_)) => return forbidden(ov, &s),
        Err(e) => return error_page(e),
    };
    let t = T(ov.v.lang);
    let (open, closed): (Vec<_>, Vec<_>) = all.iter().partition(|r| r.closed_at.is_none());
    let page = RequestsPage {
        c: ov.chrome(&s),
        open: open.into_iter().map(|r| line(r, t)).collect(),
        closed: closed.into_iter().map(|r| line(r, t)).collect(),
        may_record: st.role.can(Power::AllRequests),
        notice: ov.v.notice(),
    };
    ov.v.render(page)
}

#[derive(Template)]
#[template(path = "office_request.html")]
pub(crate) struct RequestPage {
    pub(crate) c: OfficeChrome,
    pub(crate) r: RequestLine,
    pub(crate) open: bool,
    pub(crate) member: Option<String>,
    /// The content, if still readable: (label, value) rows.
    pub(crate) content: Option<Vec<(String, String)>>,
    /// The correction's wanted values: (item label, value or "(erase)").
    pub(crate) wanted: Vec<(String, String)>,
    pub(crate) answer: Option<Notice>,
    /// (when, who, what, notice)
    pub(crate) events: Vec<(String, String, String, Option<Notice>)>,
    pub(crate) may_assign: bool,
    /// (name, label) of the accounts that can work requests.
    pub(crate) assignees: Vec<(String, String)>,
    pub(crate) may_correct: bool,
    /// A member's request that the staff member may read the member's data for.
    pub(crate) may_read: bool,
    /// The member's items read for this request just now (label, value).
    pub(crate) revealed: Option<Vec<(String, String)>>,
    pub(crate) may_suspend: bool,
    pub(crate) may_withdraw_consent: bool,
    pub(crate) may_withdraw: bool,
    pub(crate) may_extend: bool,
    pub(crate) may_refuse: bool,
    pub(crate) form: FormValues,
    pub(crate) errors: Vec<(String, String)>,
    pub(crate) notice: Option<String>,
}

/// What was typed in the page's forms before an error.
#[derive(Debug, Clone, Default)]
pub(crate) struct FormValues {
    pub(crate) answer: String,
    pub(crate) reason: String,
    pub(crate) basis: String,
    pub(crate) objection: String,
    pub(crate) refuse_reason: String,
    pub(crate) refuse_basis: String,
    pub(crate) refuse_objection: String,
}

fn event_label(event: &str, t: T) -> String {
    let key = match event {
        "filed" => "office_rq_event_filed",
        "assigned" => "office_rq_event_assigned",
        "extended" => "office_rq_event_extended",
        "corrected" => "office_rq_event_corrected",
        "suspended" => "office_rq_event_suspended",
        "consent_withdrawn" => "office_rq_event_consent_withdrawn",
        "withdrawn" => "office_rq_event_withdrawn",
        "answered" => "office_rq_event_answered",
        "refused" => "office_rq_event_refused",
        _ => return event.to_owned(),
    };
    t.s(key).to_owned()
}

fn who(actor: &str, t: T) -> String {
    match actor {
        "public" => t.s("office_by_public").to_owned(),
        other => actor_label(other, t),
    }
}

fn item_label(s: &AppState, id: &str, lang: Lang) -> String {
    s.app
        .policy()
        .item(id)
        .map(|i| i.label.get(lang).to_owned())
        .unwrap_or_else(|| id.to_owned())
}

pub(crate) async fn request_page(
    State(s): State<AppState>,
    ov: OfficeVisit,
    ClientAddr(client): ClientAddr,
    Path(id): Path<uuid::Uuid>,
) -> Response {
    let (ov, st) = match ov.signed(&s).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    render_request(&s, ov, &st, id, client, None).await
}

/// `POST /office/requests/{id}/reveal`: the member's items read with the reason given, shown on
/// the request's page (answered at once, not kept for a redirect, and never cached).
pub(crate) async fn request_reveal(
    State(s): State<AppState>,
    ov: OfficeVisit,
    ClientAddr(client): ClientAddr,
    Path(id): Path<uuid::Uuid>,
    form: FormData,
) -> Response {
    let here = format!("/office/requests/{id}");
    let (ov, st) = match ov.signed_form(&s, &form, &here).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match s
        .app
        .reveal_for_request(&st, id, form.get("read_reason"), client)
        .await
    {
        Ok(values) => {
            let lang = ov.v.lang;
            let rows = values
                .iter()
                .map(|(k, v)| (item_label(&s, k, lang), v.expose().to_owned()))
                .collect();
            let mut r = render_request(&s, ov, &st, id, client, Some(rows)).await;
            r.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            r
        }
        Err(CoreError::Invalid(errors)) => {
            let errors = errors
                .into_iter()
                .map(|mut e| {
                    e.field = "read_reason".into();
                    e
                })
                .collect();
            ov.v.back_to(&s, &here, &FormData::default(), errors, None)
                .await
        }
        Err(CoreError::Conflict(_)) => ov.v.redirect(&here),
        Err(CoreError::Forbidden(_)) => forbidden(ov, &s),
        Err(CoreError::NotFound(_)) => not_found_page(&s, ov.v.lang),
        Err(e) => error_page(e),
    }
}

async fn render_request(
    s: &AppState,
    ov: OfficeVisit,
    st: &StaffSession,
    id: uuid::Uuid,
    client: Option<std::net::IpAddr>,
    revealed: Option<Vec<(String, String)>>,
) -> Response {
    let r = match s.app.request_for(st, id, client).await {
        Ok(r) => r,
        Err(CoreError::Forbidden(_)) => return forbidden(ov, s),
        Err(CoreError::NotFound(_)) => return not_found_page(s, ov.v.lang),
        Err(e) => return error_page(e),
    };
    let lang = ov.v.lang;
    let t = T(lang);
    let open = r.closed_at.is_none();
    let policy = s.app.policy().clone();
    let content = r.content.as_ref().map(|c| {
        let mut rows = Vec::new();
        if !c.text.is_empty() {
            rows.push((t.s("office_rq_text").to_owned(), c.text.clone()));
        }
        match (&r.purpose, r.kind) {
            (Some(c), RequestKind::ConsentWithdrawal) => {
                let label = policy
                    .consent(c)
                    .map(|c| c.title.get(lang).to_owned())
                    .unwrap_or_else(|| c.clone());
                rows.push((t.s("rq_consent").to_owned(), label));
            }
            (Some(p), _) => {
                let label = policy
                    .purpose(p)
                    .map(|p| p.label.get(lang).to_owned())
                    .unwrap_or_else(|| p.clone());
                rows.push((t.s("office_rq_purpose").to_owned(), label));
            }
            _ => {}
        }
        if let Some(check) = &c.identity_check {
            rows.push((t.s("office_rq_identity").to_owned(), check.clone()));
        }
        if let Some(a) = &c.agent {
            let attorney = if a.attorney {
                t.s("office_rq_attorney_ok")
            } else {
                ""
            };
            rows.push((
                t.s("office_rq_agent").to_owned(),
                format!("{} ({}) {attorney}", a.name, a.relation),
            ));
        }
        if let Some(ct) = &c.contact {
            let parts: Vec<&str> = [ct.name.as_str(), ct.email.as_str(), ct.phone.as_str()]
                .into_iter()
                .filter(|x| !x.is_empty())
                .collect();
            rows.push((t.s("office_rq_contact").to_owned(), parts.join(" · ")));
        }
        rows
    });
    let wanted = r
        .content
        .as_ref()
        .map(|c| {
            c.wanted
                .iter()
                .map(|(k, v)| {
                    let v = if v.is_empty() {
                        t.s("rq_erase").to_owned()
                    } else {
                        v.clone()
                    };
                    (item_label(s, k, lang), v)
                })
                .collect()
        })
        .unwrap_or_default();
    let assignees = if st.role.can(Power::AllRequests) && open {
        match s.app.staff_accounts().await {
            Ok(list) => list
                .into_iter()
                .filter(|a| {
                    a.disabled_at.is_none()
                        && a.enrolled_at.is_some()
                        && a.role.can(Power::AssignedRequests)
                })
                .map(|a| {
                    let label = format!("{} ({})", a.name, a.role.label(lang));
                    (a.name, label)
                })
                .collect(),
            Err(e) => return error_page(e),
        }
    } else {
        Vec::new()
    };
    let typed = ov.v.flash.form();
    let form = FormValues {
        answer: typed.get("answer").to_owned(),
        reason: typed.get("reason").to_owned(),
        basis: typed.get("basis").to_owned(),
        objection: typed.get("objection").to_owned(),
        refuse_reason: typed.get("refuse_reason").to_owned(),
        refuse_basis: typed.get("refuse_basis").to_owned(),
        refuse_objection: typed.get("refuse_objection").to_owned(),
    };
    let errors = ov.v.error_list();
    let page = RequestPage {
        r: line(&r, t),
        open,
        member: r.member.map(|m| m.to_string()),
        wanted,
        answer: r.answer.as_ref().cloned(),
        events: r
            .events
            .iter()
            .map(|e| {
                (
                    kst(e.at),
                    who(&e.actor, t),
                    event_label(&e.event, t),
                    e.notice.as_ref().cloned(),
                )
            })
            .collect(),
        may_assign: open && st.role.can(Power::AllRequests),
        assignees,
        may_correct: open
            && r.kind == RequestKind::Correction
            && r.content.is_some()
            && st.role.can(Power::MemberData),
        may_read: open && r.member.is_some() && st.role.can(Power::MemberData),
        revealed,
        may_suspend: open
            && r.kind == RequestKind::Suspension
            && r.member.is_some()
            && st.role.can(Power::MemberData),
        may_withdraw_consent: open
            && r.kind == RequestKind::ConsentWithdrawal
            && r.member.is_some()
            && st.role.can(Power::MemberData),
        may_withdraw: open
            && r.kind == RequestKind::Withdrawal
            && r.member.is_some()
            && st.role.can(Power::MemberData),
        may_extend: open && r.state != RequestState::Extended,
        may_refuse: open && r.kind != RequestKind::Complaint,
        content,
        form,
        errors,
        notice: ov.v.notice(),
        c: ov.chrome(s),
    };
    ov.v.render(page)
}

/// `POST /office/requests/{id}/{assign|correct|answer|extend|refuse}`.
pub(crate) async fn request_action(
    State(s): State<AppState>,
    ov: OfficeVisit,
    Path((id, what)): Path<(uuid::Uuid, String)>,
    form: FormData,
) -> Response {
    let here = format!("/office/requests/{id}");
    let (ov, st) = match ov.signed_form(&s, &form, &here).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let app = &s.app;
    let (done, key) = match what.as_str() {
        "assign" => (
            app.assign_request(&st, id, form.get("assignee")).await,
            "office_rq_done_assigned",
        ),
        "correct" => (
            app.correct_for_request(&st, id, form.get("answer")).await,
            "office_rq_done_corrected",
        ),
        "consent" => (
            app.withdraw_consent_for_request(&st, id, form.get("answer"))
                .await,
            "office_rq_done_consent",
        ),
        "suspend" => (
            app.suspend_for_request(&st, id, form.get("answer")).await,
            "office_rq_done_suspended",
        ),
        "withdraw" => {
            if form.get("confirm") != "yes" {
                let e = FieldError::new(
                    "confirm",
                    "request.confirm",
                    T(Lang::Ko).s("office_rq_withdraw_confirm_missing"),
                    T(Lang::En).s("office_rq_withdraw_confirm_missing"),
                );
                return ov
                    .v
                    .back_to(&s, &here, &FormData::default(), vec![e], None)
                    .await;
            }
            return match app.withdraw_for_request(&st, id).await {
                Ok(receipt) => {
                    let (ko, en) = (T(Lang::Ko), T(Lang::En));
                    let ko = ko
                        .s("office_rq_done_withdrawn")
                        .replace("{code}", &receipt.code);
                    let en = en
                        .s("office_rq_done_withdrawn")
                        .replace("{code}", &receipt.code);
                    ov.v.notice_to(&s, &here, &ko, &en).await
                }
                Err(CoreError::Forbidden(_)) => forbidden(ov, &s),
                Err(CoreError::NotFound(_)) => not_found_page(&s, ov.v.lang),
                Err(CoreError::Conflict(_)) => ov.v.redirect(&here),
                Err(e) => error_page(e),
            };
        }
        "answer" => (
            app.answer_request(&st, id, form.get("answer")).await,
            "office_rq_done_answered",
        ),
        "extend" => (
            app.extend_request(
                &st,
                id,
                form.get("reason"),
                form.get("basis"),
                form.get("objection"),
            )
            .await,
            "office_rq_done_extended",
        ),
        "refuse" => (
            app.refuse_request(
                &st,
                id,
                form.get("refuse_reason"),
                form.get("refuse_basis"),
                form.get("refuse_objection"),
            )
            .await
            .map_err(|e| match e {
                // The refusal form's fields have their own names on the page.
                CoreError::Invalid(errors) => CoreError::Invalid(
                    errors
                        .into_iter()
                        .map(|mut e| {
                            e.field = format!("refuse_{}", e.field);
                            e
                        })
                        .collect(),
                ),
                other => other,
            }),
            "office_rq_done_refused",
        ),
        _ => return not_found_page(&s, ov.v.lang),
    };
    let (ko, en) = (T(Lang::Ko), T(Lang::En));
    match done {
        Ok(()) => ov.v.notice_to(&s, &here, ko.s(key), en.s(key)).await,
        Err(CoreError::Invalid(errors)) => {
            // A correction's errors name the member's item: shown with its label.
            let errors = errors
                .into_iter()
                .map(|mut e| {
                    if s.app.policy().item(&e.field).is_some() {
                        e.field = "correct".into();
                    }
                    e
                })
                .collect();
            ov.v.back_to(&s, &here, &form, errors, None).await
        }
        Err(CoreError::Conflict(_)) => {
            let e = FieldError::new(
                "",
                "request.closed",
                ko.s("office_rq_conflict"),
                en.s("office_rq_conflict"),
            );
            ov.v.back_to(&s, &here, &FormData::default(), vec![e], None)
                .await
        }
        Err(CoreError::Forbidden(_)) => forbidden(ov, &s),
        Err(CoreError::NotFound(_)) => not_found_page(&s, ov.v.lang),
        Err(e) => error_page(e),
    }
}

#[derive(Template)]
#[template(path = "office_request_new.html")]
pub(crate) struct NewRequestPage {
    pub(crate) c: OfficeChrome,
    pub(crate) kinds: Vec<(&'static str, &'static str, bool)>,
    pub(crate) channels: Vec<(&'static str, &'static str, bool)>,
    /// (id, label, selected)
    pub(crate) items: Vec<(String, String, bool)>,
    pub(crate) purposes: Vec<(String, String, bool)>,
    pub(crate) consents: Vec<(String, String, bool)>,
    pub(crate) form: FormData,
    pub(crate) attorney: bool,
    pub(crate) errors: Vec<(String, String)>,
}

const NEW_HERE: &str = "/office/requests/new";

pub(crate) async fn new_request_page(
    State(s): State<AppState>,
    ov: OfficeVisit,
    ClientAddr(client): ClientAddr,
) -> Response {
    let (ov, _) = match ov
        .viewing(&s, Power::AllRequests, client, "office.requests.new")
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = ov.v.lang;
    let form = ov.v.flash.form();
    let policy = s.app.policy().clone();
    let kinds = RequestKind::ALL
        .iter()
        .map(|k| (k.name(), k.label(lang), form.get("kind") == k.name()))
        .collect();
    let channels = Channel::OFFICE
        .iter()
        .map(|c| (c.name(), c.label(lang), form.get("channel") == c.name()))
        .collect();
    let items = policy
        .items
        .iter()
        .filter(|i| i.context == jikimi_policy::Context::Signup)
        .map(|i| {
            (
                i.id.clone(),
                i.label.get(lang).to_owned(),
                form.get("item") == i.id,
            )
        })
        .collect();
    let purposes = purpose_choices(&s, lang, form.get("purpose"));
    let consents = consent_choices(&s, lang, form.get("consent"));
    let errors = ov.v.error_list_by(|f| anchor_of(&s, f));
    let page = NewRequestPage {
        c: ov.chrome(&s),
        kinds,
        channels,
        items,
        purposes,
        consents,
        attorney: form.get("agent_attorney") == "yes",
        form,
        errors,
    };
    ov.v.render(page)
}

/// The purposes of the policy as (id, label, selected).
pub(crate) fn purpose_choices(
    s: &AppState,
    lang: Lang,
    chosen: &str,
) -> Vec<(String, String, bool)> {
    s.app
        .policy()
        .purposes
        .iter()
        .map(|p| (p.id.clone(), p.label.get(lang).to_owned(), p.id == chosen))
        .collect()
}

/// The consents a member may withdraw on request (not the agreement membership needs) as
/// (id, title, selected).
pub(crate) fn consent_choices(
    s: &AppState,
    lang: Lang,
    chosen: &str,
) -> Vec<(String, String, bool)> {
    s.app
        .policy()
        .consents
        .iter()
        .filter(|c| !c.required)
        .map(|c| (c.id.clone(), c.title.get(lang).to_owned(), c.id == chosen))
        .collect()
}

/// What a request form names for its kind: the purpose to stop, or the consent to withdraw.
pub(crate) fn named_of(form: &FormData, kind: RequestKind) -> Option<String> {
    let field = if kind == RequestKind::ConsentWithdrawal {
        "consent"
    } else {
        "purpose"
    };
    Some(form.get(field).trim().to_owned()).filter(|p| !p.is_empty())
}

/// The input an error names: an item's error goes to the wanted value's box.
pub(crate) fn anchor_of(s: &AppState, field: &str) -> String {
    match field {
        "csrf" | "" => String::new(),
        "items" => "item".into(),
        f if s.app.policy().item(f).is_some() => "value".into(),
        f => f.to_owned(),
    }
}

pub(crate) async fn new_request_submit(
    State(s): State<AppState>,
    ov: OfficeVisit,
    form: FormData,
) -> Response {
    let (ov, st) = match ov.signed_form(&s, &form, NEW_HERE).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(kind) = RequestKind::parse(form.get("kind")) else {
        let e = FieldError::new(
            "kind",
            "request.kind",
            T(Lang::Ko).s("rq_kind_missing"),
            T(Lang::En).s("rq_kind_missing"),
        );
        return ov.v.back_to(&s, NEW_HERE, &form, vec![e], None).await;
    };
    let agent_name = form.get("agent_name").trim();
    let entry = OfficeEntry {
        kind,
        channel: Channel::parse(form.get("channel")).unwrap_or(Channel::MyPage),
        login_id: form.get("login_id").to_owned(),
        text: form.get("text").to_owned(),
        wanted: wanted_of(&form),
        purpose: named_of(&form, kind),
        identity_check: form.get("identity_check").to_owned(),
        agent: (!agent_name.is_empty() || form.get("agent_attorney") == "yes").then(|| Agent {
            name: agent_name.to_owned(),
            relation: form.get("agent_relation").trim().to_owned(),
            attorney: form.get("agent_attorney") == "yes",
        }),
        contact: None,
    };
    match s.app.record_request(&st, entry).await {
        Ok(id) => {
            let (ko, en) = (T(Lang::Ko), T(Lang::En));
            ov.v.notice_to(
                &s,
                &format!("/office/requests/{id}"),
                ko.s("office_rq_done_recorded"),
                en.s("office_rq_done_recorded"),
            )
            .await
        }
        Err(CoreError::Invalid(errors)) => ov.v.back_to(&s, NEW_HERE, &form, errors, None).await,
        Err(CoreError::Forbidden(_)) => forbidden(ov, &s),
        Err(e) => error_page(e),
    }
}

/// A correction's wanted value from a form's `item` and `value` (none without an item).
pub(crate) fn wanted_of(form: &FormData) -> BTreeMap<String, Revealed> {
    let item = form.get("item").trim();
    if item.is_empty() {
        BTreeMap::new()
    } else {
        BTreeMap::from([(item.to_owned(), Revealed::new(form.get("value").to_owned()))])
    }
}

names_errors!(RequestPage, NewRequestPage);
