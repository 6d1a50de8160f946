//! `[[partner]]`: third parties data is provided to.

use super::{Cx, Ids, one_ref, refs};
use crate::load::RawFile;
use crate::model::ConsentKind;

/// `[[partner]]`: a bilingual name; at least one purpose and one item, all known; the
/// retention class resolves; `consent` is the `third_party` category naming this partner,
/// and some `third_party` consent names it.
pub(super) fn check(raw: &RawFile, ids: &Ids<'_>, cx: &mut Cx<'_>) {
    for p in &raw.partners {
        let id = p.id.get_ref();
        let k = format!("partner.{id}");
        cx.text(&p.name, &format!("{k}.name"));
        if p.purposes.get_ref().is_empty() {
            cx.error(
                p.purposes.span(),
                format!("{k}.purposes"),
                "a partner needs at least one purpose",
            );
        }
        refs(
            cx,
            p.purposes.get_ref(),
            &format!("{k}.purposes"),
            "purpose",
            &ids.purposes,
        );
        if p.items.get_ref().is_empty() {
            cx.error(
                p.items.span(),
                format!("{k}.items"),
                "a partner needs at least one item",
            );
        }
        refs(
            cx,
            p.items.get_ref(),
            &format!("{k}.items"),
            "item",
            &ids.items,
        );
        one_ref(
            cx,
            &p.retention,
            format!("{k}.retention"),
            "retention class",
            &ids.retention,
        );
        match ids.consent_by_id.get(p.consent.get_ref().as_str()) {
            None => one_ref(
                cx,
                &p.consent,
                format!("{k}.consent"),
                "consent category",
                &ids.consents,
            ),
            Some(c) => {
                let names_us = c.partner.as_ref().is_some_and(|x| x.get_ref() == id);
                if *c.kind.get_ref() != ConsentKind::ThirdParty || !names_us {
                    cx.error(
                        p.consent.span(),
                        format!("{k}.consent"),
                        format!(
                            "consent {:?} must be a third_party category with partner = {id:?}",
                            p.consent.get_ref()
                        ),
                    );
                }
            }
        }
        let referenced = raw.consents.iter().any(|c| {
            *c.kind.get_ref() == ConsentKind::ThirdParty
                && c.partner.as_ref().is_some_and(|x| x.get_ref() == id)
        });
        if !referenced {
            cx.error(
                p.id.span(),
                format!("{k}.id"),
                "no third_party consent names this partner: data is provided only with consent",
            );
        }
    }
}
