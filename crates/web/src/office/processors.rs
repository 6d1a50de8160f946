//! Processors in the privacy office (`/office/processors`, issue 17; S16, R-CON-10, PIPA Art.
//! 26). Each processor of the policy with its task, items and the duties its contract must hold;
//! the officer or a manager records the contract (the day signed, the four statutory terms it
//! was checked to contain) and each check of the processor (the day, what was found). A
//! processor not checked within a year is shown as due.

use jikimi_core::processors::{CHECK, CONTRACT, ContractTerm};
use jikimi_core::staff::Power;

use crate::office::page::{OfficeChrome, OfficeVisit};
use crate::page::*;

const HERE: &str = "/office/processors";

pub(crate) struct ProcessorView {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) task: String,
    pub(crate) items: String,
    /// The statutory terms of a contract: (term id, label).
    pub(crate) duties: Vec<(&'static str, String)>,
    /// The recorded contract: (day signed, terms, recorded by).
    pub(crate) contract: Option<(String, String, String)>,
    /// (day, note, recorded by)
    pub(crate) checks: Vec<(String, String, String)>,
    pub(crate) check_due: bool,
}

#[derive(Template)]
#[template(path = "office_processors.html")]
pub(crate) struct OfficeProcessorsPage {
    pub(crate) c: OfficeChrome,
    pub(crate) processors: Vec<ProcessorView>,
    pub(crate) notice: Option<String>,
    pub(crate) errors: Vec<(String, String)>,
    /// The form the errors belong to: (kind, processor), and what was typed.
    pub(crate) typed_for: (String, String),
    pub(crate) typed_day: String,
    pub(crate) typed_note: String,
    /// The terms ticked in the contract form that came back with errors.
    pub(crate) typed_duties: Vec<String>,
    pub(crate) today: String,
}

impl OfficeProcessorsPage {
    /// Whether the term `duty` of processor `id`'s contract form was ticked when it came back.
    pub(crate) fn ticked(&self, id: &str, duty: &str) -> bool {
        self.typed_for.0 == CONTRACT
            && self.typed_for.1 == id
            && self.typed_duties.iter().any(|d| d == duty)
    }
}

/// The office keeps processor records: the policy has processors.
pub(crate) fn runs(s: &AppState) -> bool {
    !s.app.policy().processors.is_empty()
}

pub(crate) async fn processors_page(
    State(s): State<AppState>,
    ov: OfficeVisit,
    ClientAddr(client): ClientAddr,
) -> Response {
    if !runs(&s) {
        return not_found_page(&s, ov.v.lang);
    }
    let (ov, _st) = match ov
        .viewing(&s, Power::AllRequests, client, "office.processors.view")
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = ov.v.lang;
    let policy = s.app.policy().clone();
    let overview = match s.app.processor_overview().await {
        Ok(o) => o,
        Err(e) => return error_page(e),
    };
    let terms = |json: &str| {
        let ids: Vec<String> = serde_json::from_str(json).unwrap_or_default();
        ContractTerm::ALL
            .into_iter()
            .filter(|term| ids.iter().any(|i| i == term.id()))
            .map(|term| term.label().get(lang).to_owned())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let processors = overview
        .into_iter()
        .map(|o| ProcessorView {
            id: o.processor.id.clone(),
            name: o.processor.name.get(lang).to_owned(),
            task: o.processor.task.get(lang).to_owned(),
            items: o
                .processor
                .items
                .iter()
                .filter_map(|id| policy.item(id))
                .map(|i| i.label.get(lang).to_owned())
                .collect::<Vec<_>>()
                .join(", "),
            duties: ContractTerm::ALL
                .into_iter()
                .map(|term| (term.id(), term.label().get(lang).to_owned()))
                .collect(),
            contract: o.contract.as_ref().map(|c| {
                (
                    c.on_day.to_string(),
                    terms(&c.duties),
                    c.recorded_by.clone(),
                )
            }),
            checks: o
                .checks
                .iter()
                .map(|c| (c.on_day.to_string(), c.note.clone(), c.recorded_by.clone()))
                .collect(),
            check_due: o.check_due,
        })
        .collect();
    let typed = ov.v.flash.form();
    let typed_for = (
        typed.get("kind").to_owned(),
        typed.get("processor").to_owned(),
    );
    let (kind, pid) = typed_for.clone();
    let errors = ov.v.error_list_by(|f| match f {
        "on_day" | "note" | "duties" => format!("{kind}-{pid}-{f}"),
        _ => String::new(),
    });
    let page = OfficeProcessorsPage {
        c: ov.chrome(&s),
        processors,
        notice: ov.v.notice(),
        errors,
        typed_day: typed.get("on_day").to_owned(),
        typed_note: typed.get("note").to_owned(),
        typed_duties: typed.all("duty").into_iter().map(str::to_owned).collect(),
        typed_for,
        today: s.app.clock().today_kst().to_string(),
    };
    ov.v.render(page)
}

/// `POST /office/processors/{id}/{kind}`: `contract` (`on_day`, `duty` per term, `note`) or
/// `check` (`on_day`, `note`).
pub(crate) async fn record(
    State(s): State<AppState>,
    ov: OfficeVisit,
    Path((id, kind)): Path<(String, String)>,
    form: FormData,
) -> Response {
    let (ov, st) = match ov.signed_form(&s, &form, HERE).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !runs(&s)
        || st.require(Power::AllRequests).is_err()
        || s.app.policy().processor(&id).is_none()
    {
        return not_found_page(&s, ov.v.lang);
    }
    let day = chrono::NaiveDate::parse_from_str(form.get("on_day").trim(), "%Y-%m-%d").ok();
    let note = form.get("note");
    let result = match kind.as_str() {
        CONTRACT => {
            let duties: Vec<ContractTerm> = form
                .all("duty")
                .into_iter()
                .filter_map(ContractTerm::parse)
                .collect();
            s.app
                .record_processor_contract(&st.actor(), &id, day, &duties, note)
                .await
        }
        CHECK => {
            s.app
                .record_processor_check(&st.actor(), &id, day, note)
                .await
        }
        _ => return not_found_page(&s, ov.v.lang),
    };
    let here = format!("{HERE}#processor-{id}");
    let (ko, en) = (T(Lang::Ko), T(Lang::En));
    match result {
        Ok(()) => {
            ov.v.notice_to(&s, &here, ko.s("pc_recorded"), en.s("pc_recorded"))
                .await
        }
        Err(CoreError::Invalid(errors)) => {
            let form = form.with("kind", &kind).with("processor", &id);
            ov.v.back_to(&s, &here, &form, errors, None).await
        }
        Err(CoreError::NotFound(_)) => not_found_page(&s, ov.v.lang),
        Err(e) => error_page(e),
    }
}
