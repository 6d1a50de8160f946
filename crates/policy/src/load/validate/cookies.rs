//! `[[cookie]]` and `[cookie_choices]`.

use super::{Cx, S};
use crate::load::RawCookie;
use crate::model::Text;

/// `[cookie_choices]`: how to refuse cookies, in both languages.
pub(super) fn check_choices(choices: &S<Text>, cx: &mut Cx<'_>) {
    cx.text(choices, "cookie_choices");
}

/// `[[cookie]]`: a valid cookie name and bilingual texts. (Ids: [`super::Ids::collect`].)
pub(super) fn check(cookies: &[RawCookie], cx: &mut Cx<'_>) {
    for c in cookies {
        let k = format!("cookie.{}", c.id.get_ref());
        let name = c.name.get_ref();
        let ok = !name.is_empty()
            && name
                .chars()
                .all(|ch| ch.is_ascii_graphic() && !"()<>@,;:\\\"/[]?={}".contains(ch));
        if !ok {
            cx.error(
                c.name.span(),
                format!("{k}.name"),
                format!("invalid cookie name {name:?}"),
            );
        }
        cx.text(&c.collects, &format!("{k}.collects"));
        cx.text(&c.purposes, &format!("{k}.purposes"));
        cx.text(&c.retention, &format!("{k}.retention"));
    }
}
