//! `[[processor]]`: entrusted processing (위탁).

use std::collections::HashSet;

use super::{Cx, Ids, refs};
use crate::load::RawProcessor;
use crate::model::Duty;

/// `[[processor]]`: bilingual name and task; at least one item, all known; all four duties
/// of PIPA Art. 26; `contract_on_file = true`.
pub(super) fn check(processors: &[RawProcessor], ids: &Ids<'_>, cx: &mut Cx<'_>) {
    for p in processors {
        let k = format!("processor.{}", p.id.get_ref());
        cx.text(&p.name, &format!("{k}.name"));
        cx.text(&p.task, &format!("{k}.task"));
        if p.items.get_ref().is_empty() {
            cx.error(
                p.items.span(),
                format!("{k}.items"),
                "a processor needs at least one item",
            );
        }
        refs(
            cx,
            p.items.get_ref(),
            &format!("{k}.items"),
            "item",
            &ids.items,
        );
        let have: HashSet<Duty> = p.duties.get_ref().iter().map(|d| *d.get_ref()).collect();
        let missing: Vec<&str> = Duty::ALL
            .iter()
            .filter(|d| !have.contains(d))
            .map(|d| match d {
                Duty::FollowInstructions => "follow_instructions",
                Duty::Confidentiality => "confidentiality",
                Duty::NoOnwardSharing => "no_onward_sharing",
                Duty::Liability => "liability",
            })
            .collect();
        if !missing.is_empty() {
            cx.error(
                p.duties.span(),
                format!("{k}.duties"),
                format!(
                    "the entrustment contract must contain all four duties (PIPA Art. 26); \
                     missing: {}",
                    missing.join(", ")
                ),
            );
        }
        match &p.contract_on_file {
            Some(c) if *c.get_ref() => {}
            Some(c) => cx.error(
                c.span(),
                format!("{k}.contract_on_file"),
                "the entrustment contract must be kept on file (contract_on_file = true)",
            ),
            None => cx.error(
                p.id.span(),
                format!("{k}.contract_on_file"),
                "the entrustment contract must be kept on file (contract_on_file = true)",
            ),
        }
    }
}
