//! `[[purpose]]`: why data is processed.

use super::{Cx, Ids, one_ref};
use crate::load::RawPurpose;

/// `[[purpose]]`: bilingual label and description; `consent` names a known category.
pub(super) fn check(purposes: &[RawPurpose], ids: &Ids<'_>, cx: &mut Cx<'_>) {
    for p in purposes {
        let k = format!("purpose.{}", p.id.get_ref());
        cx.text(&p.label, &format!("{k}.label"));
        cx.text(&p.description, &format!("{k}.description"));
        if let Some(c) = &p.consent {
            one_ref(
                cx,
                c,
                format!("{k}.consent"),
                "consent category",
                &ids.consents,
            );
        }
    }
}
