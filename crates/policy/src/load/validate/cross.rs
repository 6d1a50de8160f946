//! Checks that span sections: what one section says that another must agree with.

use super::items::ItemFacts;
use super::{Cx, Ids};
use crate::load::{RawConsent, RawItem, RawMeta, RawOperator};
use crate::model::{ConsentKind, ConsentMode, Context, IdentityMode, ItemKind};

/// Items × consents: warns `r_con_02` for each required `policy_agreement` category that
/// required items depend on.
pub(super) fn forced_consent(facts: &ItemFacts<'_>, ids: &Ids<'_>, cx: &mut Cx<'_>) {
    for (cat, items) in &facts.forced {
        if let Some(c) = ids.consent_by_id.get(cat) {
            cx.warn(
                c.id.span(),
                "r_con_02",
                format!("consent.{cat}"),
                format!(
                    "{} required item(s) ({}) can only be given by agreeing to the whole policy. \
                     Since 2024-09-15 items needed for the contract are processed on notice \
                     (PIPA Art. 15(1)4, 22(3); Decree Art. 17) and a forced consent for them is \
                     discouraged (R-CON-02)",
                    items.len(),
                    items.join(", ")
                ),
            );
        }
    }
}

/// Items × `[operator]`: warns `large_scale` when unique identifiers or sensitive data are
/// processed but `operator.large_scale` is not set.
pub(super) fn large_scale(facts: &ItemFacts<'_>, op: &RawOperator, cx: &mut Cx<'_>) {
    if facts.needs_large_scale && !op.large_scale {
        cx.warn(
            op.website.span(),
            "large_scale",
            "operator.large_scale",
            "the policy processes unique identifiers or sensitive data, so staff access logs \
             must be kept 2 years (안전성 확보조치 기준 제8조): set large_scale = true",
        );
    }
}

/// `meta.identity` × items: the identity mode needs an item to hold its result.
pub(super) fn identity(meta: &RawMeta, items: &[RawItem], cx: &mut Cx<'_>) {
    let has_kind = |ks: &[ItemKind]| items.iter().any(|i| ks.contains(i.kind.get_ref()));
    match meta.identity.get_ref() {
        IdentityMode::Rrn if !has_kind(&[ItemKind::Rrn]) => cx.error(
            meta.identity.span(),
            "meta.identity",
            "identity = \"rrn\" needs an item of kind \"rrn\"",
        ),
        IdentityMode::Verification if !has_kind(&[ItemKind::Ci, ItemKind::Di]) => cx.error(
            meta.identity.span(),
            "meta.identity",
            "identity = \"verification\" needs an item of kind \"ci\" or \"di\" to hold the result",
        ),
        _ => {}
    }
}

/// `meta.consent_mode` × consents: `single_agreement` needs exactly one required
/// `policy_agreement` category.
pub(super) fn single_agreement(meta: &RawMeta, consents: &[RawConsent], cx: &mut Cx<'_>) {
    let mode = *meta.consent_mode.get_ref();
    let agreements = consents
        .iter()
        .filter(|c| {
            *c.kind.get_ref() == ConsentKind::PolicyAgreement
                && c.required.as_ref().is_some_and(|r| *r.get_ref())
        })
        .count();
    if mode == ConsentMode::SingleAgreement && agreements != 1 {
        cx.error(
            meta.consent_mode.span(),
            "meta.consent_mode",
            format!(
                "consent_mode = \"single_agreement\" needs exactly one required policy_agreement \
                 category (found {agreements})"
            ),
        );
    }
}

/// Guardian items (context `guardian`, issue 16): a policy that admits children declares the
/// child's name, the guardian's name, one contact the guardian is asked through (mobile number or
/// e-mail address) and the relationship, by these ids; the guardian's DI only where identities are
/// verified (the guardian verifies); and a plain-language text for children (R-CHD-05), else a
/// warning.
pub(super) fn guardians(meta: &RawMeta, items: &[RawItem], cx: &mut Cx<'_>) {
    let guardian: Vec<&RawItem> = items
        .iter()
        .filter(|i| i.context.as_ref().map(|c| *c.get_ref()) == Some(Context::Guardian))
        .collect();
    let Some(first) = guardian.first() else {
        return;
    };
    let span = first.id.span();
    let has = |id: &str| guardian.iter().any(|i| i.id.get_ref() == id);
    for id in ["child_name", "guardian_name", "guardian_relationship"] {
        if !has(id) {
            cx.error(
                span.clone(),
                format!("item.{id}"),
                format!("a policy that admits children with a guardian's consent declares item {id:?} (context = \"guardian\")"),
            );
        }
    }
    if has("guardian_mobile") == has("guardian_email") {
        cx.error(
            span.clone(),
            "item.guardian_mobile",
            "declare exactly one way to ask the guardian: item \"guardian_mobile\" (a text message) or \"guardian_email\" (an e-mail)",
        );
    }
    for i in &guardian {
        let known = [
            "child_name",
            "guardian_name",
            "guardian_mobile",
            "guardian_email",
            "guardian_relationship",
            "guardian_di",
        ];
        if !known.contains(&i.id.get_ref().as_str()) {
            cx.error(
                i.id.span(),
                format!("item.{}.context", i.id.get_ref()),
                "nothing asks for this item in the guardian's steps: only child_name, guardian_name, guardian_mobile or guardian_email, guardian_relationship and guardian_di",
            );
        }
    }
    let verified = *meta.identity.get_ref() == IdentityMode::Verification;
    // The guardian comes back the way they consented: 본인확인 matched by the DI, or a link
    // mailed to their address.
    if verified && !has("guardian_di") {
        cx.error(
            span.clone(),
            "item.guardian_di",
            "where identities are verified the guardian verifies too: declare item \"guardian_di\" (context = \"guardian\") so the guardian can be known again",
        );
    }
    if !verified && has("guardian_mobile") {
        cx.error(
            span.clone(),
            "item.guardian_mobile",
            "without 본인확인 the guardian is known again by a link mailed to them: ask for \"guardian_email\"",
        );
    }
    if has("guardian_di") && !verified {
        cx.error(
            span.clone(),
            "item.guardian_di",
            "the guardian's DI comes from 본인확인, which this policy does not use (identity = \"verification\")",
        );
    }
    if meta.child_notice.is_none() {
        cx.warn(
            span,
            "child_notice",
            "meta.child_notice",
            "a policy that admits children should tell them, in plain words, what is asked and why (PIPA Art. 22-2(3), R-CHD-05): add meta.child_notice",
        );
    }
}
