//! `[officer]` and `[manager]`: the privacy office.

use super::{Cx, looks_like_email};
use crate::load::RawContact;

/// `[officer]` or `[manager]` (`who`): bilingual name, department and title, a valid e-mail.
pub(super) fn check(who: &str, c: &RawContact, cx: &mut Cx<'_>) {
    cx.text(&c.name, &format!("{who}.name"));
    cx.text(&c.department, &format!("{who}.department"));
    cx.text(&c.title, &format!("{who}.title"));
    if !looks_like_email(c.email.get_ref()) {
        cx.error(
            c.email.span(),
            format!("{who}.email"),
            format!("invalid e-mail address {:?}", c.email.get_ref()),
        );
    }
}
