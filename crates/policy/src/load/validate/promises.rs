//! `[promises]` and the capabilities each section of the file needs (the promise ledger).
//!
//! A section that promises a mechanism needs the [`Capability`] that keeps it: payment and
//! prize items need their flows, a partner needs the notices to members, a processor needs
//! the code that hands it the items, an after-withdrawal retention class needs a writer.
//! Loading does not refuse these (a policy may be written ahead of the code); `policy check`
//! and `serve` do, through [`crate::Loaded::missing_capabilities`].

use super::Cx;
use std::collections::HashMap;

use crate::capability::{Capability, Kind};
use crate::load::RawFile;

/// `[promises] organisational`: each name is a known capability kept by people.
/// `processor.needs`: a known capability.
pub(super) fn check(raw: &RawFile, cx: &mut Cx<'_>) {
    if let Some(p) = &raw.promises {
        for (i, name) in p.organisational.iter().enumerate() {
            let key = format!("promises.organisational[{i}]");
            match Capability::from_name(name.get_ref()) {
                None => cx.error(
                    name.span(),
                    key,
                    format!("unknown capability \"{}\"", name.get_ref()),
                ),
                Some(c) if c.kind() == Kind::Code => cx.error(
                    name.span(),
                    key,
                    format!(
                        "capability \"{c}\" is kept by code, not by people: the build declares it, \
                         the policy file cannot"
                    ),
                ),
                Some(_) => {}
            }
        }
    }
    for pr in &raw.processors {
        if let Some(n) = &pr.needs
            && Capability::from_name(n.get_ref()).is_none()
        {
            cx.error(
                n.span(),
                format!("processor.{}.needs", pr.id.get_ref()),
                format!("unknown capability \"{}\"", n.get_ref()),
            );
        }
    }
}

/// Where each key of [`crate::Policy::section_needs`] points in the file.
pub(in crate::load) fn need_offsets(raw: &RawFile) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for it in &raw.items {
        if let Some(ctx) = &it.context {
            out.entry(format!("item.{}.context", it.id.get_ref()))
                .or_insert(ctx.span().start);
        }
    }
    for rc in &raw.retention {
        out.entry(format!("retention.{}", rc.id.get_ref()))
            .or_insert(rc.id.span().start);
    }
    for pt in &raw.partners {
        out.entry(format!("partner.{}", pt.id.get_ref()))
            .or_insert(pt.id.span().start);
    }
    for pr in &raw.processors {
        let span = pr.needs.as_ref().map_or(pr.id.span(), |n| n.span());
        out.entry(format!("processor.{}", pr.id.get_ref()))
            .or_insert(span.start);
    }
    out
}
