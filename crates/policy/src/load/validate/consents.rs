//! `[[consent]]`: the consent categories.

use std::collections::HashSet;
use std::ops::Range;

use super::{Cx, Ids, S, one_ref, refs};
use crate::load::{RawConsent, RawFile, RawItem, RawPartner};
use crate::model::{ConsentKind, ConsentMode};

/// `[[consent]]`: bilingual texts; the retention class resolves; `channel` only (and always)
/// on `ad_reception`; only a `policy_agreement` may be required, and only in
/// `single_agreement` mode; `items` listed where the kind needs them and never where items
/// name their category; a `third_party` consent names its partner and asks for exactly that
/// partner's items.
pub(super) fn check(raw: &RawFile, ids: &Ids<'_>, cx: &mut Cx<'_>) {
    let mode = *raw.meta.consent_mode.get_ref();
    for c in &raw.consents {
        let id = c.id.get_ref();
        let k = format!("consent.{id}");
        cx.text(&c.title, &format!("{k}.title"));
        cx.text(&c.purpose, &format!("{k}.purpose"));
        cx.text(&c.refusal, &format!("{k}.refusal"));
        one_ref(
            cx,
            &c.retention,
            format!("{k}.retention"),
            "retention class",
            &ids.retention,
        );

        channel(c, &k, cx);
        required(c, &k, mode, cx);
        item_list(c, &k, &raw.items, ids, cx);
        partner(c, &k, &raw.partners, ids, cx);
    }
}

/// A `channel` on (and only on) an `ad_reception` consent.
fn channel(c: &RawConsent, k: &str, cx: &mut Cx<'_>) {
    let kind = *c.kind.get_ref();
    match (kind, &c.channel) {
        (ConsentKind::AdReception, None) => cx.error(
            c.kind.span(),
            format!("{k}.channel"),
            "an ad_reception consent needs channel = \"email\", \"sms\" or \"push\"",
        ),
        (ConsentKind::AdReception, Some(_)) | (_, None) => {}
        (_, Some(ch)) => cx.error(
            ch.span(),
            format!("{k}.channel"),
            "only ad_reception consents have a channel",
        ),
    }
}

/// Only a `policy_agreement` may be required; it must be, and only in `single_agreement` mode.
fn required(c: &RawConsent, k: &str, mode: ConsentMode, cx: &mut Cx<'_>) {
    let kind = *c.kind.get_ref();
    let required = c.required.as_ref().is_some_and(|r| *r.get_ref());
    if required
        && kind != ConsentKind::PolicyAgreement
        && let Some(r) = &c.required
    {
        cx.error(
            r.span(),
            format!("{k}.required"),
            "only a policy_agreement category may be required: consent must be free to refuse",
        );
    }
    if kind == ConsentKind::PolicyAgreement {
        match mode {
            ConsentMode::Separate => cx.error(
                c.kind.span(),
                format!("{k}.kind"),
                "policy_agreement categories belong to consent_mode = \"single_agreement\"",
            ),
            ConsentMode::SingleAgreement if !required => cx.error(
                c.kind.span(),
                format!("{k}.required"),
                "the policy_agreement category must be required = true",
            ),
            ConsentMode::SingleAgreement => {}
        }
    }
}

/// The items a consent lists (none: `[]`) and where to point at them (else at its id).
fn listed(c: &RawConsent) -> (&[S<String>], Range<usize>) {
    let explicit: &[S<String>] = c.items.as_ref().map_or(&[], |v| v.get_ref().as_slice());
    let items_span = c.items.as_ref().map_or(c.id.span(), |v| v.span());
    (explicit, items_span)
}

/// `optional_items` and `policy_agreement` list no items (the items name them; an
/// `optional_items` category needs one); the other kinds list known items
/// (`ad_reception` may list none).
fn item_list(c: &RawConsent, k: &str, items: &[RawItem], ids: &Ids<'_>, cx: &mut Cx<'_>) {
    let id = c.id.get_ref();
    let kind = *c.kind.get_ref();
    let (explicit, items_span) = listed(c);
    match kind {
        ConsentKind::OptionalItems | ConsentKind::PolicyAgreement => {
            if !explicit.is_empty() {
                cx.error(
                    items_span,
                    format!("{k}.items"),
                    "list no items here: set consent = \"…\" on each item instead",
                );
            }
            let covered = items
                .iter()
                .any(|i| i.consent.as_ref().is_some_and(|x| x.get_ref() == id));
            if kind == ConsentKind::OptionalItems && !covered {
                cx.error(
                    c.id.span(),
                    format!("{k}.items"),
                    "an optional_items category needs at least one item (no item names it)",
                );
            }
        }
        ConsentKind::ThirdParty | ConsentKind::Marketing | ConsentKind::AdReception => {
            if explicit.is_empty() && kind != ConsentKind::AdReception {
                cx.error(
                    items_span,
                    format!("{k}.items"),
                    "this consent must list the items it covers",
                );
            }
            refs(cx, explicit, &format!("{k}.items"), "item", &ids.items);
        }
    }
}

/// A `third_party` consent names a known partner and asks for exactly that partner's items;
/// no other kind names a partner.
fn partner(c: &RawConsent, k: &str, partners: &[RawPartner], ids: &Ids<'_>, cx: &mut Cx<'_>) {
    let kind = *c.kind.get_ref();
    let (explicit, items_span) = listed(c);
    match (kind, &c.partner) {
        (ConsentKind::ThirdParty, None) => cx.error(
            c.kind.span(),
            format!("{k}.partner"),
            "a third_party consent must name its recipient (partner = \"…\")",
        ),
        (ConsentKind::ThirdParty, Some(p)) => {
            one_ref(cx, p, format!("{k}.partner"), "partner", &ids.partners);
            if let Some(partner) = partners.iter().find(|x| x.id.get_ref() == p.get_ref()) {
                let a: HashSet<&String> = explicit.iter().map(|s| s.get_ref()).collect();
                let b: HashSet<&String> = partner
                    .items
                    .get_ref()
                    .iter()
                    .map(|s| s.get_ref())
                    .collect();
                if a != b {
                    cx.error(
                        items_span,
                        format!("{k}.items"),
                        format!(
                            "the items asked for must be exactly the items provided to partner {:?}",
                            p.get_ref()
                        ),
                    );
                }
            }
        }
        (_, Some(p)) => cx.error(
            p.span(),
            format!("{k}.partner"),
            "only a third_party consent names a partner",
        ),
        (_, None) => {}
    }
}
