//! `[[retention]]` classes and `[[retention_note]]`s.

use std::collections::HashMap;

use super::{Cx, Ids, S, refs};
use crate::load::RawRetention;
use crate::model::{Lang, Text};
use crate::period::Period;

/// What a withdrawal record may keep besides items: the login ID and the consent history.
pub const KEEPABLE_RECORDS: &[&str] = &["login_id", "consent_history"];

/// `[[retention_note]]`: each in both languages.
pub(super) fn check_notes(notes: &[S<Text>], cx: &mut Cx<'_>) {
    for (i, n) in notes.iter().enumerate() {
        cx.text(n, &format!("retention_note[{i}]"));
    }
}

/// `[[retention]]`: bilingual texts, a valid period, consistent `after_withdrawal` /
/// `withdrawal_record` / `keeps`, and the minimum for `access_logs` (2 years when the
/// operator is `large_scale`). Returns the parsed period of each class.
pub(super) fn check_classes(
    classes: &[RawRetention],
    large_scale: bool,
    ids: &Ids<'_>,
    cx: &mut Cx<'_>,
) -> HashMap<String, Period> {
    let mut periods = HashMap::new();
    for r in classes {
        let k = format!("retention.{}", r.id.get_ref());
        cx.text(&r.label, &format!("{k}.label"));
        cx.text(&r.basis, &format!("{k}.basis"));
        cx.text(&r.records, &format!("{k}.records"));
        if let Some(keeps) = &r.keeps {
            let mut keepable = ids.items.clone();
            keepable.extend(KEEPABLE_RECORDS.iter().map(|s| (*s).to_owned()));
            refs(
                cx,
                keeps.get_ref(),
                &format!("{k}.keeps"),
                "item",
                &keepable,
            );
        }
        let after = r.after_withdrawal.as_ref().is_some_and(|a| *a.get_ref());
        if let Some(wr) = r.withdrawal_record.as_ref().filter(|w| *w.get_ref())
            && !after
        {
            cx.error(
                wr.span(),
                format!("{k}.withdrawal_record"),
                "a record made at withdrawal is kept after withdrawal; set after_withdrawal = true",
            );
        }
        if let Some(keeps) = r.keeps.as_ref().filter(|k| !k.get_ref().is_empty())
            && !r.withdrawal_record.as_ref().is_some_and(|w| *w.get_ref())
        {
            cx.error(
                keeps.span(),
                format!("{k}.keeps"),
                "only a class with withdrawal_record = true keeps items",
            );
        }
        match r.period.get_ref().parse::<Period>() {
            Ok(p) => {
                if p == Period::UntilWithdrawal
                    && let Some(aw) = r.after_withdrawal.as_ref().filter(|a| *a.get_ref())
                {
                    cx.error(
                        aw.span(),
                        format!("{k}.after_withdrawal"),
                        "a class kept until withdrawal cannot be kept after withdrawal; \
                             give it a fixed period or set after_withdrawal = false",
                    );
                }
                if r.id.get_ref() == "access_logs" {
                    let min = if large_scale {
                        Period::Years(2)
                    } else {
                        Period::Years(1)
                    };
                    if !p.at_least(&min) {
                        cx.error(
                            r.period.span(),
                            format!("{k}.period"),
                            format!(
                                "staff access logs must be kept at least {} (안전성 확보조치 기준 \
                                 제8조{})",
                                min.describe(Lang::En),
                                if large_scale {
                                    "; operator.large_scale = true"
                                } else {
                                    ""
                                }
                            ),
                        );
                    }
                }
                periods.insert(r.id.get_ref().clone(), p);
            }
            Err(e) => cx.error(r.period.span(), format!("{k}.period"), e.to_string()),
        }
    }
    periods
}
