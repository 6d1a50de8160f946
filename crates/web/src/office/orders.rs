//! Refunds (환불, full or partial) by the privacy office (`/office/orders`): a manager or the
//! officer (the power to work every request) looks up an order by its number — from the member's
//! request or complaint — and cancels part or all of what remains through PortOne, with a reason.
//! The order's look-up and the refund go into the access log; the refund writes its payment record.

use jikimi_core::payments::state;
use jikimi_core::staff::Power;

use crate::me::orders::{state_key, won};
use crate::office::page::{OfficeChrome, OfficeVisit};
use crate::page::*;

const HERE: &str = "/office/orders";

#[derive(Template)]
#[template(path = "office_orders.html")]
pub(crate) struct OfficeOrdersPage {
    pub(crate) c: OfficeChrome,
    pub(crate) id: String,
    /// The order looked up: (product, amount, state, refunded, ordered at, refundable).
    pub(crate) order: Option<(String, String, &'static str, String, String, bool)>,
    pub(crate) not_found: bool,
    pub(crate) notice: Option<String>,
    pub(crate) errors: Vec<(String, String)>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct OrderQuery {
    id: Option<String>,
}

pub(crate) async fn orders_page(
    State(s): State<AppState>,
    ov: OfficeVisit,
    ClientAddr(client): ClientAddr,
    Query(q): Query<OrderQuery>,
) -> Response {
    if s.app.payments().is_none() {
        return not_found_page(&s, ov.v.lang);
    }
    let (ov, _st) = match ov
        .viewing(&s, Power::AllRequests, client, "office.orders.view")
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = ov.v.lang;
    let t = T(lang);
    let id =
        q.id.or_else(|| Some(ov.v.flash.get("id").to_owned()))
            .unwrap_or_default();
    let found = if id.trim().is_empty() {
        None
    } else {
        match s.app.order(&id).await {
            Ok(o) => o,
            Err(e) => return error_page(e),
        }
    };
    let order = found.as_ref().map(|o| {
        (
            s.app
                .product(&o.product)
                .map(|p| match lang {
                    Lang::Ko => p.name_ko.clone(),
                    Lang::En => p.name_en.clone(),
                })
                .unwrap_or_else(|| o.order_name.clone()),
            won(lang, o.amount),
            t.s(state_key(&o.state)),
            won(lang, o.cancelled_amount),
            kst(o.created_at),
            o.state == state::PAID || o.state == state::PARTIALLY_CANCELLED,
        )
    });
    let page = OfficeOrdersPage {
        c: ov.chrome(&s),
        not_found: !id.trim().is_empty() && order.is_none(),
        id,
        order,
        notice: ov.v.notice(),
        errors: ov.v.error_list(),
    };
    ov.v.render(page)
}

/// `POST /office/orders/refund`: `id`, `amount` (empty: all that remains), `reason`.
pub(crate) async fn refund_submit(
    State(s): State<AppState>,
    ov: OfficeVisit,
    form: FormData,
) -> Response {
    let (ov, st) = match ov.signed_form(&s, &form, HERE).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if st.require(Power::AllRequests).is_err() {
        return not_found_page(&s, ov.v.lang);
    }
    let id = form.get("id").trim().to_owned();
    let back = format!("{HERE}?id={id}");
    let (ko, en) = (T(Lang::Ko), T(Lang::En));
    let amount = match form.get("amount").replace(',', "").trim() {
        "" => None,
        n => match n.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                let e = FieldError::new(
                    "amount",
                    "amount.number",
                    ko.s("of_amount_number"),
                    en.s("of_amount_number"),
                );
                return ov.v.back_to(&s, &back, &form, vec![e], None).await;
            }
        },
    };
    // 청약철회: all of what remains, recorded as a contract record too.
    let offer = form.get("offer_withdrawn") == "1";
    if offer && amount.is_some() {
        let e = FieldError::new(
            "amount",
            "amount.offer",
            ko.s("of_offer_whole"),
            en.s("of_offer_whole"),
        );
        return ov.v.back_to(&s, &back, &form, vec![e], None).await;
    }
    let done = if offer {
        s.app
            .withdraw_offer(&st.actor(), &id, form.get("reason"))
            .await
    } else {
        s.app
            .cancel_order(&st.actor(), &id, amount, form.get("reason"))
            .await
    };
    match done {
        Ok(_) => {
            ov.v.notice_to(&s, &back, ko.s("of_refunded"), en.s("of_refunded"))
                .await
        }
        Err(CoreError::Invalid(errors)) => ov.v.back_to(&s, &back, &form, errors, None).await,
        Err(CoreError::Conflict(why)) => {
            let e = FieldError::new(
                "amount",
                "order.state",
                format!("{} ({why})", ko.s("of_not_refundable")),
                format!("{} ({why})", en.s("of_not_refundable")),
            );
            ov.v.back_to(&s, &back, &form, vec![e], None).await
        }
        Err(CoreError::Unavailable(_)) => {
            ov.v.notice_to(
                &s,
                &back,
                ko.s("od_provider_unavailable"),
                en.s("od_provider_unavailable"),
            )
            .await
        }
        Err(e) => error_page(e),
    }
}
