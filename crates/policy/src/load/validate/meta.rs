//! `[meta]`: the policy's own id, title, effective date and child age.

use super::Cx;
use crate::load::{RawMeta, to_date};

/// `[meta]`: a well-formed policy id, a bilingual title, a plain effective date, a child age
/// between 14 and 19. (`consent_mode` and `identity` are checked against other sections in
/// [`super::cross`].)
pub(super) fn check(meta: &RawMeta, cx: &mut Cx<'_>) {
    let id = meta.id.get_ref();
    let ok = id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !ok {
        cx.error(
            meta.id.span(),
            "meta.id",
            format!("invalid policy id {id:?}: use lowercase letters, digits, - and _"),
        );
    }
    cx.text(&meta.title, "meta.title");
    if to_date(&meta.effective_date).is_none() {
        cx.error(
            meta.effective_date.span(),
            "meta.effective_date",
            "effective_date must be a plain date like 2026-01-01",
        );
    }
    if let Some(n) = &meta.child_notice {
        cx.text(n, "meta.child_notice");
    }
    if let Some(age) = &meta.child_age
        && !(14..=19).contains(age.get_ref())
    {
        cx.error(
            age.span(),
            "meta.child_age",
            "child_age must be between 14 (PIPA Art. 22-2) and 19",
        );
    }
}
