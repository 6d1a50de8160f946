//! 결제 (S2): the member's orders and the site's paid services (`/mypage/orders`). Buying makes
//! the order on the server (the product's amount from the catalogue); its payment page opens
//! PortOne's payment window and comes back to the same address with `?paymentId=`, where the
//! order is settled from PortOne's own answer (`Jikimi::settle_order`).

use jikimi_core::payments::OrderRow;
use jikimi_core::payments::state;

use crate::page::*;
use crate::signup::window::{window_csp, with_csp};

const HERE: &str = "/mypage/orders";

#[derive(Template)]
#[template(path = "orders.html")]
pub(crate) struct OrdersPage {
    pub(crate) c: Chrome,
    /// (id, name, price)
    pub(crate) products: Vec<(String, String, String)>,
    pub(crate) orders: Vec<OrderView>,
    pub(crate) notice: Option<String>,
    pub(crate) errors: Vec<(String, String)>,
    /// How long payment records are kept, from the policy's class (`serve` requires it).
    pub(crate) kept: String,
}

#[derive(Debug, Clone)]
pub(crate) struct OrderView {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) amount: String,
    pub(crate) state: &'static str,
    pub(crate) at: String,
    /// A pending order can still be paid.
    pub(crate) payable: bool,
    /// The last day the member may withdraw the offer themself (청약철회), while they may.
    pub(crate) withdrawable_until: Option<String>,
}

/// `12,900원` / `12,900 won`.
pub(crate) fn won(lang: Lang, amount: i64) -> String {
    let digits = amount.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if amount < 0 {
        out.insert(0, '-');
    }
    match lang {
        Lang::Ko => format!("{out}원"),
        Lang::En => format!("{out} won"),
    }
}

/// The i18n key of an order's state.
pub(crate) fn state_key(s: &str) -> &'static str {
    match s {
        state::PENDING => "od_pending",
        state::PAID => "od_paid",
        state::REFUSED => "od_refused",
        state::FAILED => "od_failed",
        state::CANCELLED => "od_cancelled",
        state::PARTIALLY_CANCELLED => "od_partly_cancelled",
        _ => "od_unknown",
    }
}

fn view(s: &AppState, o: &OrderRow, lang: Lang) -> OrderView {
    let t = T(lang);
    let name = s
        .app
        .product(&o.product)
        .map(|p| match lang {
            Lang::Ko => p.name_ko.clone(),
            Lang::En => p.name_en.clone(),
        })
        .unwrap_or_else(|| o.order_name.clone());
    let mut amount = won(lang, o.amount);
    if o.cancelled_amount > 0 {
        amount = format!(
            "{amount} ({} {})",
            t.s("od_refunded"),
            won(lang, o.cancelled_amount)
        );
    }
    OrderView {
        id: o.id.clone(),
        name,
        amount,
        state: t.s(state_key(&o.state)),
        at: kst(o.created_at),
        payable: o.state == state::PENDING,
        withdrawable_until: s.app.offer_withdrawable_until(o).map(|d| d.to_string()),
    }
}

pub(crate) async fn orders_page(State(s): State<AppState>, Signed { v, si }: Signed) -> Response {
    let lang = v.lang;
    let Some(setup) = s.app.payments() else {
        return not_found_page(&s, lang);
    };
    let orders = page_try!(s.app.member_orders(si.member).await);
    let page = OrdersPage {
        c: v.chrome(&s),
        products: setup
            .products
            .iter()
            .map(|p| {
                let name = match lang {
                    Lang::Ko => p.name_ko.clone(),
                    Lang::En => p.name_en.clone(),
                };
                (p.id.clone(), name, won(lang, p.amount))
            })
            .collect(),
        orders: orders.iter().map(|o| view(&s, o, lang)).collect(),
        notice: v.notice(),
        errors: v.error_list(),
        kept: s
            .app
            .policy()
            .retention_class(jikimi_core::payments::PAYMENT_CLASS)
            .map(|c| c.period.describe(lang))
            .unwrap_or_default(),
    };
    v.render(page)
}

/// 구매: the order is made here, then its payment page opens PortOne's window.
pub(crate) async fn orders_submit(
    State(s): State<AppState>,
    Signed { v, si }: Signed,
    form: FormData,
) -> Response {
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, HERE, &form).await;
    }
    if s.app.payments().is_none() {
        return not_found_page(&s, v.lang);
    }
    match s.app.create_order(si.member, form.get("product")).await {
        Ok(order) => v.redirect(&format!("{HERE}/{}/pay", order.id)),
        Err(CoreError::Invalid(errors)) => v.back_to(&s, HERE, &form, errors, None).await,
        Err(e) => error_page(e),
    }
}

/// `POST /mypage/orders/{id}/withdraw`: the member withdraws the offer (청약철회) of a paid
/// order within 7 days of payment; the whole payment is refunded through PortOne.
pub(crate) async fn withdraw_submit(
    State(s): State<AppState>,
    Signed { v, si }: Signed,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, HERE, &form).await;
    }
    if s.app.payments().is_none() {
        return not_found_page(&s, v.lang);
    }
    let key = match s.app.withdraw_own_offer(si.member, &id).await {
        Ok(_) => "od_withdrawn",
        Err(CoreError::NotFound(_)) => return not_found_page(&s, v.lang),
        Err(CoreError::Conflict(_)) => "od_not_withdrawable",
        Err(CoreError::Unavailable(_)) => "od_provider_unavailable",
        Err(e) => return error_page(e),
    };
    let (ko, en) = (T(Lang::Ko).s(key), T(Lang::En).s(key));
    v.notice_to(&s, HERE, ko, en).await
}

#[derive(Template)]
#[template(path = "payment_window.html")]
pub(crate) struct PaymentWindowPage {
    pub(crate) c: Chrome,
    pub(crate) sdk_url: String,
    pub(crate) store_id: String,
    pub(crate) channel_key: String,
    pub(crate) id: String,
    pub(crate) order_name: String,
    pub(crate) amount: i64,
    pub(crate) amount_text: String,
    pub(crate) ret: String,
}

/// The query PortOne's payment window comes back with; its `code` says it ended unpaid, but the
/// server asks PortOne either way.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PaidBack {
    #[serde(rename = "paymentId")]
    pub(crate) id: Option<String>,
}

/// `/mypage/orders/{id}/pay`: the page that opens PortOne's payment window for a pending order
/// of this member; with `?paymentId=`, the window is back and the order is settled.
pub(crate) async fn pay_page(
    State(s): State<AppState>,
    Signed { v, si }: Signed,
    Path(id): Path<String>,
    Query(back): Query<PaidBack>,
) -> Response {
    let lang = v.lang;
    let Some(setup) = s.app.payments() else {
        return not_found_page(&s, lang);
    };
    let order = match s.app.order(&id).await {
        Ok(Some(o)) if o.member_id == Some(si.member) => o,
        Ok(_) => return not_found_page(&s, lang),
        Err(e) => return error_page(e),
    };
    if back.id.is_some() || order.state != state::PENDING {
        let settled = match s.app.settle_order(&order.id).await {
            Ok(o) => o,
            Err(CoreError::Unavailable(_)) => {
                let (ko, en) = (T(Lang::Ko), T(Lang::En));
                return v
                    .notice_to(
                        &s,
                        HERE,
                        ko.s("od_provider_unavailable"),
                        en.s("od_provider_unavailable"),
                    )
                    .await;
            }
            Err(e) => return error_page(e),
        };
        let key = match settled.state.as_str() {
            state::PAID => "od_done",
            state::REFUSED => "od_refused_notice",
            _ => "od_not_done",
        };
        let (ko, en) = (T(Lang::Ko).s(key), T(Lang::En).s(key));
        return v.notice_to(&s, HERE, ko, en).await;
    }
    let win = setup.portone.window_of(&setup.channel_key);
    let csp = window_csp(&win.origin);
    let page = PaymentWindowPage {
        c: v.chrome(&s),
        sdk_url: win.sdk_url,
        store_id: win.store_id,
        channel_key: win.channel_key,
        ret: format!("{HERE}/{}/pay", order.id),
        id: order.id.clone(),
        order_name: order.order_name.clone(),
        amount: order.amount,
        amount_text: won(lang, order.amount),
    };
    with_csp(v.render(page), &csp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_written_with_thousands_separators() {
        assert_eq!(won(Lang::Ko, 12_900), "12,900원");
        assert_eq!(won(Lang::Ko, 100), "100원");
        assert_eq!(won(Lang::Ko, 1_000_000), "1,000,000원");
        assert_eq!(won(Lang::En, 9_900), "9,900 won");
    }
}
