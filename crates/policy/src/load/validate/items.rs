//! `[[item]]`: the personal items collected.

use std::collections::{HashMap, HashSet};

use super::{Cx, Ids, one_ref, refs};
use crate::load::RawItem;
use crate::model::{ConsentKind, ItemKind, Lang, LegalBasis, Sensitivity};

/// What the items section found that other sections' checks need ([`super::cross`]).
pub(super) struct ItemFacts<'r> {
    /// Required items that can only be given by agreeing to the whole policy, by the id of
    /// their (required) `policy_agreement` category.
    pub(super) forced: HashMap<&'r str, Vec<&'r str>>,
    /// Some item is a unique identifier or sensitive (other than CI/DI).
    pub(super) needs_large_scale: bool,
}

/// `[[item]]`: bilingual texts; purposes and retention class resolve; the legal basis agrees
/// with `consent`; choices only (and always) on choice kinds; `max_len` ≥ 1; the sensitivity
/// its kind demands. Warns `pipa_24_2` (주민등록번호) and `separate_consent` (sensitive data
/// without a consent basis). The place for a rule about a new item kind.
pub(super) fn check<'r>(items: &'r [RawItem], ids: &Ids<'r>, cx: &mut Cx<'_>) -> ItemFacts<'r> {
    let mut forced: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut needs_large_scale = false;
    for it in items {
        let id = it.id.get_ref();
        let k = format!("item.{id}");
        cx.text(&it.label, &format!("{k}.label"));
        if let Some(h) = &it.help {
            cx.text(h, &format!("{k}.help"));
        }
        if it.purposes.get_ref().is_empty() {
            cx.error(
                it.purposes.span(),
                format!("{k}.purposes"),
                "an item needs at least one purpose",
            );
        }
        refs(
            cx,
            it.purposes.get_ref(),
            &format!("{k}.purposes"),
            "purpose",
            &ids.purposes,
        );
        one_ref(
            cx,
            &it.retention,
            format!("{k}.retention"),
            "retention class",
            &ids.retention,
        );

        if let Some(cat) = legal_basis(it, &k, ids, cx) {
            forced.entry(cat).or_default().push(id);
        }
        choices(it, &k, cx);
        if let Some(m) = &it.max_len
            && *m.get_ref() == 0
        {
            cx.error(
                m.span(),
                format!("{k}.max_len"),
                "max_len must be at least 1",
            );
        }
        needs_large_scale |= kind_and_sensitivity(it, &k, cx);
    }
    ItemFacts {
        forced,
        needs_large_scale,
    }
}

/// `basis` and `consent` agree: a consent basis names an `optional_items` or
/// `policy_agreement` category, other bases name none; a required item may not depend on
/// consent, except on a required `policy_agreement`, whose id is returned (warned `r_con_02`
/// by [`super::cross::forced_consent`]).
fn legal_basis<'r>(it: &RawItem, k: &str, ids: &Ids<'r>, cx: &mut Cx<'_>) -> Option<&'r str> {
    let basis = *it.basis.get_ref();
    let mut forced = None;
    match (basis, &it.consent) {
        (LegalBasis::Consent, None) => cx.error(
            it.basis.span(),
            format!("{k}.consent"),
            "an item with basis = \"consent\" must name its consent category (consent = \"…\")",
        ),
        (LegalBasis::Contract | LegalBasis::Law, Some(c)) => cx.error(
            c.span(),
            format!("{k}.consent"),
            format!(
                "an item with basis = \"{}\" is processed without consent and must not name \
                 a consent category",
                if basis == LegalBasis::Law {
                    "law"
                } else {
                    "contract"
                }
            ),
        ),
        (LegalBasis::Consent, Some(c)) => {
            if let Some(cat) = ids.consent_by_id.get(c.get_ref().as_str()) {
                let ck = *cat.kind.get_ref();
                let cat_required = cat.required.as_ref().is_some_and(|r| *r.get_ref());
                if !matches!(
                    ck,
                    ConsentKind::OptionalItems | ConsentKind::PolicyAgreement
                ) {
                    cx.error(
                        c.span(),
                        format!("{k}.consent"),
                        format!(
                            "an item's consent must be an optional_items or policy_agreement \
                             category; {:?} is {}",
                            c.get_ref(),
                            ck.label(Lang::En)
                        ),
                    );
                } else if *it.required.get_ref() {
                    if ck == ConsentKind::PolicyAgreement && cat_required {
                        forced = Some(cat.id.get_ref().as_str());
                    } else {
                        cx.error(
                            it.required.span(),
                            format!("{k}.required"),
                            "required items cannot depend on consent: give the item basis = \
                             \"contract\" or \"law\", or make it optional",
                        );
                    }
                }
            } else {
                one_ref(
                    cx,
                    c,
                    format!("{k}.consent"),
                    "consent category",
                    &ids.consents,
                );
            }
        }
        (LegalBasis::Contract | LegalBasis::Law, None) => {}
    }
    forced
}

/// Choices only (and always) on `choice` and `multi_choice` items; valid, distinct ids.
fn choices(it: &RawItem, k: &str, cx: &mut Cx<'_>) {
    let kind = *it.kind.get_ref();
    let has_choices = matches!(kind, ItemKind::Choice | ItemKind::MultiChoice);
    if has_choices && it.choices.is_empty() {
        cx.error(
            it.kind.span(),
            format!("{k}.choices"),
            "a choice item needs at least one choice",
        );
    }
    if !has_choices && let Some(c) = it.choices.first() {
        cx.error(
            c.id.span(),
            format!("{k}.choices"),
            "only choice and multi_choice items have choices",
        );
    }
    let mut seen = HashSet::new();
    for (i, c) in it.choices.iter().enumerate() {
        let ck = format!("{k}.choices[{i}]");
        cx.id(&c.id, &format!("{ck}.id"));
        cx.text(&c.label, &format!("{ck}.label"));
        if !seen.insert(c.id.get_ref()) {
            cx.error(
                c.id.span(),
                format!("{ck}.id"),
                format!("duplicate choice id {:?}", c.id.get_ref()),
            );
        }
    }
}

/// The sensitivity an item's kind demands; warns `pipa_24_2` for 주민등록번호 and
/// `separate_consent` for sensitive data without a consent basis. Returns whether the item
/// makes staff access logs a 2-year matter (`operator.large_scale`).
fn kind_and_sensitivity(it: &RawItem, k: &str, cx: &mut Cx<'_>) -> bool {
    let kind = *it.kind.get_ref();
    let basis = *it.basis.get_ref();
    let sensitivity = it
        .sensitivity
        .as_ref()
        .map_or(Sensitivity::Normal, |s| *s.get_ref());
    let mut large = false;
    let expected = match kind {
        ItemKind::Rrn | ItemKind::Ci | ItemKind::Di => Some(Sensitivity::UniqueIdentifier),
        ItemKind::CardNumber | ItemKind::AccountNumber => Some(Sensitivity::Financial),
        _ => None,
    };
    if let Some(exp) = expected
        && sensitivity != exp
    {
        let span = it.sensitivity.as_ref().map_or(it.kind.span(), |s| s.span());
        cx.error(
            span,
            format!("{k}.sensitivity"),
            format!(
                "an item of this kind must have sensitivity = \"{}\"",
                match exp {
                    Sensitivity::Financial => "financial",
                    _ => "unique_identifier",
                }
            ),
        );
    }
    if kind == ItemKind::Rrn {
        large = true;
        cx.warn(
            it.id.span(),
            "pipa_24_2",
            k,
            "this policy collects 주민등록번호 (resident registration numbers). PIPA Art. 24-2 \
             (개인정보 보호법 제24조의2) forbids processing them without a specific statutory \
             basis, and a membership site has none: use identity verification (본인확인, \
             CI/DI) instead",
        );
    } else if matches!(
        sensitivity,
        Sensitivity::Sensitive | Sensitivity::UniqueIdentifier
    ) && !matches!(kind, ItemKind::Ci | ItemKind::Di)
    {
        large = true;
        if basis != LegalBasis::Consent {
            cx.warn(
                it.id.span(),
                "separate_consent",
                k,
                format!(
                    "{} without a consent basis: PIPA Art. 23/24 allow it only with separate \
                     consent or a specific statutory basis",
                    sensitivity.label(Lang::En)
                ),
            );
        }
    }
    large
}
