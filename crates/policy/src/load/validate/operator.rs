//! `[operator]`: the site and the company that runs it.

use super::{Cx, S, looks_like_email};
use crate::bizno::{self, BusinessNumberError};
use crate::load::RawOperator;

/// `[operator]`: bilingual texts, the 사업자등록번호 check digit, no empty 통신판매업 신고번호,
/// a valid e-mail, an http(s) website; warns `operator_info` when the company, its
/// representative or its business number is missing.
pub(super) fn check(op: &RawOperator, cx: &mut Cx<'_>) {
    cx.text(&op.name, "operator.name");
    for (t, key) in [
        (&op.company, "operator.company"),
        (&op.representative, "operator.representative"),
        (&op.address, "operator.address"),
    ] {
        if let Some(t) = t {
            cx.text(t, key);
        }
    }
    if let Some(b) = &op.business_number {
        business_number(b, cx);
    }
    if let Some(v) = &op.mail_order_number
        && v.get_ref().trim().is_empty()
    {
        cx.error(
            v.span(),
            "operator.mail_order_number",
            "leave the key out instead of giving it empty",
        );
    }
    if let Some(e) = &op.email
        && !looks_like_email(e.get_ref())
    {
        cx.error(
            e.span(),
            "operator.email",
            format!("invalid e-mail address {:?}", e.get_ref()),
        );
    }
    company_info(op, cx);
    let site = op.website.get_ref();
    if !(site.starts_with("https://") || site.starts_with("http://")) || site.contains(' ') {
        cx.error(
            op.website.span(),
            "operator.website",
            "website must be an http(s):// address",
        );
    }
}

/// The 사업자등록번호: `NNN-NN-NNNNN` with a valid check digit.
fn business_number(b: &S<String>, cx: &mut Cx<'_>) {
    match bizno::check(b.get_ref()) {
        Ok(()) => {}
        Err(BusinessNumberError::Format) => cx.error(
            b.span(),
            "operator.business_number",
            format!(
                "invalid 사업자등록번호 {:?}: write it as NNN-NN-NNNNN, e.g. \"123-45-67891\"",
                b.get_ref()
            ),
        ),
        Err(BusinessNumberError::CheckDigit) => cx.error(
            b.span(),
            "operator.business_number",
            format!(
                "사업자등록번호 {:?} fails its check digit (weights 1,3,7,1,3,7,1,3,5): \
                 look for a mistyped digit",
                b.get_ref()
            ),
        ),
    }
}

/// Warns `operator_info` when the company, its representative or its business number is
/// missing.
fn company_info(op: &RawOperator, cx: &mut Cx<'_>) {
    let missing: Vec<&str> = [
        ("company (상호)", op.company.is_none()),
        ("representative (대표자)", op.representative.is_none()),
        (
            "business_number (사업자등록번호)",
            op.business_number.is_none(),
        ),
    ]
    .into_iter()
    .filter_map(|(k, absent)| absent.then_some(k))
    .collect();
    if !missing.is_empty() {
        cx.warn(
            op.name.span(),
            "operator_info",
            "operator",
            format!(
                "the operator's {} {} not given: a Korean site shows its company name, \
                 representative and business registration number in its footer (전자상거래법 \
                 제10조: on the first screen of an online shop), and members look for them \
                 before they trust a site; add them before publishing",
                missing.join(", "),
                if missing.len() == 1 { "is" } else { "are" }
            ),
        );
    }
}
