//! Provision to partners in the privacy office (`/office/partners`, issue 17; S9, S15). The
//! officer or a manager (the power to work every request) sees each partner of the policy —
//! who, why, which items, how many members' consent is in force, when the members were told
//! and asked — tells and asks every member (S15), provides to those whose consent is in force,
//! and follows each delivery (a provision, a correction, a departure) until the partner
//! acknowledges it, sending again those it has not. A delivery is shown by number and kind,
//! never with a member's name or value.

use jikimi_core::partners::{CONSENT_WITHDRAWN, CORRECTION, PROVISION, WITHDRAWAL, state};
use jikimi_core::staff::Power;

use crate::office::page::{OfficeChrome, OfficeVisit};
use crate::page::*;

const HERE: &str = "/office/partners";

/// A partner's card.
pub(crate) struct PartnerView {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) purposes: String,
    pub(crate) items: String,
    pub(crate) retention: String,
    pub(crate) consenting: usize,
    /// When the members were last told and asked (KST), if ever.
    pub(crate) asked: Option<String>,
    pub(crate) reachable: bool,
    /// (state label, count)
    pub(crate) counts: Vec<(&'static str, i64)>,
    pub(crate) deliveries: Vec<DeliveryView>,
}

pub(crate) struct DeliveryView {
    pub(crate) id: String,
    /// A short number for the page (the first 8 hex digits of the delivery id).
    pub(crate) no: String,
    pub(crate) kind: &'static str,
    pub(crate) items: String,
    pub(crate) state: &'static str,
    pub(crate) attempts: i32,
    pub(crate) error: String,
    pub(crate) sent: String,
    pub(crate) acknowledged: String,
    /// Failed (refused by the partner, never answered, or no adapter): may be sent again.
    pub(crate) resend: bool,
}

#[derive(Template)]
#[template(path = "office_partners.html")]
pub(crate) struct OfficePartnersPage {
    pub(crate) c: OfficeChrome,
    pub(crate) partners: Vec<PartnerView>,
    pub(crate) notice: Option<String>,
    pub(crate) errors: Vec<(String, String)>,
}

fn state_key(s: &str) -> &'static str {
    match s {
        state::ACKNOWLEDGED => "pt_acknowledged",
        state::SKIPPED => "pt_skipped",
        state::FAILED => "pt_failed",
        _ => "pt_queued",
    }
}

fn kind_key(k: &str) -> &'static str {
    match k {
        PROVISION => "pt_provision",
        CORRECTION => "pt_correction",
        WITHDRAWAL => "pt_withdrawal",
        CONSENT_WITHDRAWN => "pt_consent_withdrawn",
        _ => "pt_provision",
    }
}

/// The office works partners: the policy has some and the role works every request.
pub(crate) fn runs(s: &AppState) -> bool {
    !s.app.policy().partners.is_empty()
}

pub(crate) async fn partners_page(
    State(s): State<AppState>,
    ov: OfficeVisit,
    ClientAddr(client): ClientAddr,
) -> Response {
    if !runs(&s) {
        return not_found_page(&s, ov.v.lang);
    }
    let (ov, _st) = match ov
        .viewing(&s, Power::AllRequests, client, "office.partners.view")
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = ov.v.lang;
    let t = T(lang);
    let policy = s.app.policy().clone();
    let overview = match s.app.partner_overview().await {
        Ok(o) => o,
        Err(e) => return error_page(e),
    };
    let mut partners = Vec::new();
    for o in overview {
        let rows = match s.app.partner_deliveries(&o.partner.id).await {
            Ok(r) => r,
            Err(e) => return error_page(e),
        };
        let labels = |ids: &[String]| {
            ids.iter()
                .filter_map(|id| policy.item(id))
                .map(|i| i.label.get(lang).to_owned())
                .collect::<Vec<_>>()
                .join(", ")
        };
        partners.push(PartnerView {
            id: o.partner.id.clone(),
            name: o.partner.name.get(lang).to_owned(),
            purposes: o
                .partner
                .purposes
                .iter()
                .filter_map(|id| policy.purpose(id))
                .map(|p| p.label.get(lang).to_owned())
                .collect::<Vec<_>>()
                .join(", "),
            items: labels(&o.partner.items),
            retention: jikimi_core::partners::retention_text(&policy, &o.partner.retention)
                .get(lang)
                .to_owned(),
            consenting: o.consenting,
            asked: o.asks.first().map(|a| kst(a.asked_at)),
            reachable: o.reachable,
            counts: o
                .counts
                .iter()
                .map(|(k, n)| (t.s(state_key(k)), *n))
                .collect(),
            deliveries: rows
                .iter()
                .map(|r| DeliveryView {
                    id: r.id.to_string(),
                    no: r.id.simple().to_string()[..8].to_owned(),
                    kind: t.s(kind_key(&r.kind)),
                    items: labels(&jikimi_core::partners::row_items(r)),
                    state: t.s(state_key(&r.state)),
                    attempts: r.attempts,
                    error: r.last_error.clone().unwrap_or_default(),
                    sent: r.sent_at.map(kst).unwrap_or_default(),
                    acknowledged: r.acknowledged_at.map(kst).unwrap_or_default(),
                    resend: r.state == state::FAILED,
                })
                .collect(),
        });
    }
    let page = OfficePartnersPage {
        c: ov.chrome(&s),
        partners,
        notice: ov.v.notice(),
        errors: ov.v.error_list(),
    };
    let mut r = ov.v.render(page);
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    r
}

/// Back to `to` with why nothing was done, in the page's language.
async fn refused(ov: OfficeVisit, s: &AppState, to: &str, key: &str) -> Response {
    let (ko, en) = (T(Lang::Ko), T(Lang::En));
    ov.v.notice_to(s, to, ko.s(key), en.s(key)).await
}

/// `POST /office/partners/{id}/{what}`: `ask` (tell every member and ask, S15) or `provide`.
pub(crate) async fn partner_action(
    State(s): State<AppState>,
    ov: OfficeVisit,
    Path((id, what)): Path<(String, String)>,
    form: FormData,
) -> Response {
    let (ov, st) = match ov.signed_form(&s, &form, HERE).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !runs(&s) || st.require(Power::AllRequests).is_err() || s.app.policy().partner(&id).is_none()
    {
        return not_found_page(&s, ov.v.lang);
    }
    let (ko, en) = (T(Lang::Ko), T(Lang::En));
    let here = format!("{HERE}#partner-{id}");
    match what.as_str() {
        "ask" => {
            if !s.app.sends_notices() {
                return refused(ov, &s, &here, "pt_no_mail").await;
            }
            match s.app.ask_partner_consent(&st.actor(), &id).await {
                Ok(_) => {
                    ov.v.notice_to(&s, &here, ko.s("pt_asked"), en.s("pt_asked"))
                        .await
                }
                Err(CoreError::Conflict(_)) => refused(ov, &s, &here, "pt_asked_before").await,
                Err(e) => error_page(e),
            }
        }
        "provide" => {
            let overview = match s.app.partner_overview().await {
                Ok(o) => o,
                Err(e) => return error_page(e),
            };
            let Some(o) = overview.iter().find(|o| o.partner.id == id) else {
                return not_found_page(&s, ov.v.lang);
            };
            let why = if o.asks.is_empty() {
                Some("pt_not_asked")
            } else if !o.reachable {
                Some("pt_unreachable")
            } else {
                None
            };
            if let Some(key) = why {
                return refused(ov, &s, &here, key).await;
            }
            match s.app.provide_to_partner(&st.actor(), &id).await {
                Ok(n) => {
                    let ko = ko.s("pt_provided").replace("{n}", &n.to_string());
                    let en = en.s("pt_provided").replace("{n}", &n.to_string());
                    ov.v.notice_to(&s, &here, &ko, &en).await
                }
                // Asked, but before the partner's facts changed.
                Err(CoreError::Conflict(_)) => refused(ov, &s, &here, "pt_not_asked").await,
                Err(e) => error_page(e),
            }
        }
        _ => not_found_page(&s, ov.v.lang),
    }
}

/// `POST /office/partners/deliveries/{id}/resend`: sends a delivery the partner has not
/// acknowledged again now.
pub(crate) async fn delivery_resend(
    State(s): State<AppState>,
    ov: OfficeVisit,
    Path(id): Path<uuid::Uuid>,
    form: FormData,
) -> Response {
    let (ov, st) = match ov.signed_form(&s, &form, HERE).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !runs(&s) || st.require(Power::AllRequests).is_err() {
        return not_found_page(&s, ov.v.lang);
    }
    let (ko, en) = (T(Lang::Ko), T(Lang::En));
    match s.app.resend_partner_delivery(&st.actor(), id).await {
        Ok(()) => {
            ov.v.notice_to(&s, HERE, ko.s("pt_resent"), en.s("pt_resent"))
                .await
        }
        Err(CoreError::Conflict(_)) => refused(ov, &s, HERE, "pt_not_waiting").await,
        Err(CoreError::NotFound(_)) => not_found_page(&s, ov.v.lang),
        Err(e) => error_page(e),
    }
}
