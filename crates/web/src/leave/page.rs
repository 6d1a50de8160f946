//! Withdrawal (회원탈퇴) and the former member's view of what is kept.

use crate::page::*;

/// A withdrawal's receipt and what is kept, carried from the withdrawal to the page that shows
/// them, and the receipt a former member looked up with, for `/retained`.
pub(crate) const RECEIPT_COOKIE: crate::CookieName = crate::cookie_name!("jikimi_receipt");
/// How long the receipt page can be shown again (reload, language switch, print).
pub(crate) const RECEIPT_MINUTES: i64 = 30;

#[derive(Debug, Clone)]
pub struct KeptRow {
    pub label: String,
    pub records: String,
    /// The items a copy of which is kept in this record.
    pub copies: String,
    pub period: String,
    pub basis: String,
}

#[derive(Template)]
#[template(path = "withdraw.html")]
pub(crate) struct WithdrawPage {
    pub(crate) c: Chrome,
    pub(crate) deleted: Vec<String>,
    pub(crate) kept: Vec<KeptRow>,
    pub(crate) error: Option<String>,
}

/// The classes that keep a record at withdrawal, with the items each keeps a copy of.
pub(crate) fn kept_rows(policy: &jikimi_policy::Policy, lang: Lang) -> Vec<KeptRow> {
    policy
        .retention
        .iter()
        .filter(|c| c.withdrawal_record)
        .map(|c| KeptRow {
            label: c.label.get(lang).to_owned(),
            records: c.records.get(lang).to_owned(),
            copies: c
                .keeps
                .iter()
                .filter_map(|id| policy.item(id).map(|i| i.label.get(lang).to_owned()))
                .collect::<Vec<_>>()
                .join(", "),
            period: c.period.describe(lang),
            basis: c.basis.get(lang).to_owned(),
        })
        .collect()
}

pub(crate) async fn withdraw_page(State(s): State<AppState>, Signed { v, si }: Signed) -> Response {
    let lang = v.lang;
    let policy = s.app.policy().clone();
    let deleted = page_try!(s.app.destroyed_at_withdrawal(si.member).await)
        .iter()
        .filter_map(|id| policy.item(id).map(|i| i.label.get(lang).to_owned()))
        .collect();
    let page = WithdrawPage {
        c: v.chrome(&s),
        deleted,
        kept: kept_rows(&policy, lang),
        error: v.flash.errors.first().map(|e| e.message(lang).to_owned()),
    };
    v.render(page)
}

/// What the withdrawn page shows, sealed in a cookie for [`RECEIPT_MINUTES`].
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Receipt {
    pub(crate) code: String,
    pub(crate) withdrawn_at: chrono::DateTime<chrono::Utc>,
    pub(crate) retained: Vec<(String, chrono::NaiveDate)>,
}

pub(crate) async fn withdraw_submit(
    State(s): State<AppState>,
    Signed { v, si }: Signed,
    ClientAddr(client): ClientAddr,
    form: FormData,
) -> Response {
    const HERE: &str = "/mypage/withdraw";
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, HERE, &form).await;
    }
    if let Err(e) = s
        .app
        .reauthenticate_from(client, &si, &Revealed::new(form.get("password").to_owned()))
        .await
    {
        return match e {
            CoreError::BadCredentials => {
                let e = FieldError::new(
                    "password",
                    "password.wrong",
                    T(Lang::Ko).s("password_wrong"),
                    T(Lang::En).s("password_wrong"),
                );
                v.back_to(&s, HERE, &form, vec![e], None).await
            }
            e => error_page(e),
        };
    }
    let receipt = match s
        .app
        .withdraw(&Actor::Member(si.member), si.member, "web")
        .await
    {
        Ok(r) => r,
        Err(e) => return error_page(e),
    };
    let shown = Receipt {
        code: receipt.code,
        withdrawn_at: receipt.withdrawn_at,
        retained: receipt
            .retained
            .into_iter()
            .map(|r| (r.class, r.expires_on))
            .collect(),
    };
    let mut v = v;
    v.jar = v.jar.add(clear_session_cookie(&s));
    match seal_cookie(&s, RECEIPT_COOKIE, RECEIPT_MINUTES, &shown).await {
        Ok(c) => v.jar = v.jar.add(c),
        // The member has left; the receipt cannot be shown, but the withdrawal stands.
        Err(e) => return error_page(e),
    }
    v.redirect("/mypage/withdrawn")
}

#[derive(Template)]
#[template(path = "withdrawn.html")]
pub(crate) struct WithdrawnPage {
    pub(crate) c: Chrome,
    pub(crate) receipt: String,
    pub(crate) withdrawn_at: String,
    pub(crate) kept: Vec<(String, String, String)>,
}

/// The withdrawal's receipt, shown (again, for a reload or the language switch) for
/// [`RECEIPT_MINUTES`] after leaving; later, or in another browser, only a note that it was shown.
pub(crate) async fn withdrawn_page(State(s): State<AppState>, v: Visit) -> Response {
    let lang = v.lang;
    let t = T(lang);
    let Some(r) = open_cookie::<Receipt>(&s, &v.jar, RECEIPT_COOKIE).await else {
        return message(
            v,
            &s,
            t.s("withdrawn_title"),
            vec![t.s("receipt_gone").into()],
            Some(("/retained", t.s("retained_link"))),
        );
    };
    let policy = s.app.policy().clone();
    let page = WithdrawnPage {
        c: Chrome::new(&s, lang, false, v.csrf.clone(), &v.here),
        receipt: r.code,
        withdrawn_at: kst(r.withdrawn_at),
        kept: r
            .retained
            .into_iter()
            .map(|(class, expires)| {
                let (label, basis) = crate::leave::api::class_texts(&policy, &class, lang);
                (label, expires.to_string(), basis)
            })
            .collect(),
    };
    v.render(page)
}

#[derive(Template)]
#[template(path = "retained.html")]
pub(crate) struct RetainedPage {
    pub(crate) c: Chrome,
    pub(crate) records: Vec<RetainedRow>,
    pub(crate) searched: bool,
    pub(crate) error: Option<String>,
}

/// One kept record as the former member sees it: what, how long and why, and (on request) what.
pub(crate) struct RetainedRow {
    pub(crate) label: String,
    pub(crate) period: String,
    pub(crate) expires: String,
    pub(crate) held: bool,
    pub(crate) basis: String,
    /// The record's content as (label, value) lines.
    pub(crate) content: Vec<(String, String)>,
}

/// A kept record's content for people: labels from the policy, KST times, effective dates.
pub(crate) fn content_lines(
    s: &AppState,
    versions: &[jikimi_core::access::PolicyVersion],
    content: &serde_json::Value,
    lang: Lang,
) -> Vec<(String, String)> {
    let t = T(lang);
    let policy = s.app.policy();
    let mut out = vec![];
    // A payment record (issue 15): the event, the order, the amount, when, and the means as the
    // payment company reported it (the card number masked).
    if let Some(event) = content["event"].as_str() {
        let what = match event {
            "paid" => "pr_paid",
            "offer_withdrawn" => "pr_offer_withdrawn",
            _ => "pr_refunded",
        };
        out.push((t.s("pr_event").to_owned(), t.s(what).to_owned()));
        for (key, label) in [("order", "pr_order"), ("order_name", "od_product")] {
            if let Some(v) = content[key].as_str() {
                out.push((t.s(label).to_owned(), v.to_owned()));
            }
        }
        if let Some(a) = content["amount"].as_i64() {
            out.push((t.s("od_amount").to_owned(), crate::me::orders::won(lang, a)));
        }
        if let Some(at) = content["at"].as_str() {
            out.push((t.s("pr_at").to_owned(), kst_text(at)));
        }
        let card = content["card_publisher"]
            .as_str()
            .or_else(|| content["card_issuer"].as_str());
        for (value, label) in [
            (card, "pr_card"),
            (content["card_number_masked"].as_str(), "pr_card_number"),
            (content["bank"].as_str(), "pr_bank"),
            (content["reason"].as_str(), "pr_reason"),
        ] {
            if let Some(v) = value {
                out.push((t.s(label).to_owned(), v.to_owned()));
            }
        }
        if let Some(m) = content["installment_months"].as_i64() {
            let v = if m <= 1 {
                t.s("pr_lump_sum").to_owned()
            } else {
                format!("{m}")
            };
            out.push((t.s("pr_installment").to_owned(), v));
        }
        return out;
    }
    if let Some(at) = content["member_since"].as_str() {
        out.push((t.s("member_since").to_owned(), kst_text(at)));
    }
    if let Some(at) = content["withdrawn_at"].as_str() {
        out.push((t.s("withdrawn_at").to_owned(), kst_text(at)));
    }
    if let Some(l) = content["login_id"].as_str() {
        out.push((t.s("login_id").to_owned(), l.to_owned()));
    }
    if let Some(items) = content["items"].as_object() {
        for item in &policy.items {
            if let Some(val) = items.get(&item.id).and_then(|v| v.as_str()) {
                out.push((
                    item.label.get(lang).to_owned(),
                    jikimi_core::validate::display(item.kind, val),
                ));
            }
        }
    }
    if let Some(consents) = content["consents"].as_array() {
        for c in consents {
            let category = c["category"].as_str().unwrap_or_default();
            let title = policy
                .consent(category)
                .map(|x| x.title.get(lang).to_owned())
                .unwrap_or_else(|| category.to_owned());
            let decision = if c["granted"].as_bool().unwrap_or(false) {
                t.s("consent_given")
            } else {
                t.s("consent_refused")
            };
            let version = c["policy_version"].as_str().unwrap_or_default();
            out.push((
                title,
                format!(
                    "{decision} · {} · {} {}",
                    c["at"].as_str().map(kst_text).unwrap_or_default(),
                    t.s("policy_of"),
                    version_label(s, versions, version),
                ),
            ));
        }
    }
    out
}

pub(crate) async fn retained_page(State(s): State<AppState>, v: Visit) -> Response {
    let lang = v.lang;
    // The receipt looked up here, or the one just given at withdrawal.
    let receipt = open_cookie::<serde_json::Value>(&s, &v.jar, RECEIPT_COOKIE).await;
    let code = receipt.and_then(|r| match r {
        serde_json::Value::String(code) => Some(code),
        other => other["code"].as_str().map(str::to_owned),
    });
    let Some(code) = code else {
        let page = RetainedPage {
            c: v.chrome(&s),
            records: vec![],
            searched: false,
            error: v.flash.errors.first().map(|e| e.message(lang).to_owned()),
        };
        return v.render(page);
    };
    let policy = s.app.policy().clone();
    let versions = page_try!(s.app.policy_versions().await);
    let records = match s.app.retained_for_receipt(&code).await {
        Ok(views) => views
            .into_iter()
            .map(|r| {
                let (label, basis) = crate::leave::api::class_texts(&policy, &r.class, lang);
                RetainedRow {
                    label,
                    period: crate::leave::api::class_period(&policy, &r.class, lang),
                    expires: r.expires_on.to_string(),
                    held: r.held,
                    basis,
                    content: content_lines(&s, &versions, &r.content, lang),
                }
            })
            .collect(),
        Err(CoreError::NotFound(_)) => vec![],
        Err(e) => return error_page(e),
    };
    let page = RetainedPage {
        c: v.chrome(&s),
        records,
        searched: true,
        error: None,
    };
    v.render(page)
}

/// Looks up with a receipt: the receipt goes into a sealed cookie (never into the URL) and the
/// page shows what is kept.
pub(crate) async fn retained_submit(
    State(s): State<AppState>,
    v: Visit,
    ClientAddr(client): ClientAddr,
    form: FormData,
) -> Response {
    const HERE: &str = "/retained";
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, HERE, &form).await;
    }
    let mut v = v;
    if form.get("action") == "forget" {
        v.jar = v.jar.remove(removal(&s, RECEIPT_COOKIE));
        return v.redirect(HERE);
    }
    let code = form.get("receipt").trim().to_owned();
    // Counted here, where a code is typed in; the page opens it from the sealed cookie.
    page_try!(s.app.limit_receipt_lookup(client, &code).await);
    match seal_cookie(&s, RECEIPT_COOKIE, RECEIPT_MINUTES, &code).await {
        Ok(c) => v.jar = v.jar.add(c),
        Err(e) => return error_page(e),
    }
    v.redirect(HERE)
}
