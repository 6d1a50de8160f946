//! Validation of the raw file: one function per section of the policy file, each in its
//! own file, called by [`validate`] in a fixed order.
//!
//! - `[meta]` → [`meta::check`]
//! - `[operator]` → [`operator::check`] (warning `operator_info`)
//! - `[officer]`, `[manager]` → [`contacts::check`]
//! - `[cookie_choices]` → [`cookies::check_choices`]; `[[retention_note]]` →
//!   [`retention::check_notes`]
//! - the ids of every table (malformed, duplicate) → [`Ids::collect`]
//! - `[[purpose]]` → [`purposes::check`]
//! - `[[retention]]` → [`retention::check_classes`]
//! - `[[item]]` → [`items::check`] (warnings `pipa_24_2`, `separate_consent`)
//! - between sections → [`cross`]: `r_con_02`, `large_scale` (items), `meta.identity`,
//!   `meta.consent_mode` (consents)
//! - `[[consent]]` → [`consents::check`]
//! - `[[partner]]` → [`partners::check`]
//! - `[[processor]]` → [`processors::check`]
//! - `[[cookie]]` → [`cookies::check`]
//! - `[promises]`, `processor.needs` → [`promises::check`]
//!
//! Problems and warnings are sorted by their position in the file afterwards; among those at
//! the same position, the call order decides.

mod consents;
mod contacts;
mod cookies;
mod cross;
mod items;
mod meta;
mod operator;
mod partners;
mod processors;
mod promises;
mod purposes;
mod retention;

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use super::{RawConsent, RawFile, S, position};
use crate::error::{Problem, Warning};
use crate::model::Text;
use crate::period::Period;

/// Validates everything; returns the parsed period of each retention class.
pub(super) fn validate(raw: &RawFile, cx: &mut Cx<'_>) -> HashMap<String, Period> {
    meta::check(&raw.meta, cx);
    operator::check(&raw.operator, cx);
    contacts::check("officer", &raw.officer, cx);
    contacts::check("manager", &raw.manager, cx);
    cookies::check_choices(&raw.cookie_choices, cx);
    retention::check_notes(&raw.retention_notes, cx);
    let ids = Ids::collect(raw, cx);
    purposes::check(&raw.purposes, &ids, cx);
    let periods = retention::check_classes(&raw.retention, raw.operator.large_scale, &ids, cx);
    let facts = items::check(&raw.items, &ids, cx);
    cross::forced_consent(&facts, &ids, cx);
    cross::large_scale(&facts, &raw.operator, cx);
    cross::identity(&raw.meta, &raw.items, cx);
    cross::guardians(&raw.meta, &raw.items, cx);
    consents::check(raw, &ids, cx);
    cross::single_agreement(&raw.meta, &raw.consents, cx);
    partners::check(raw, &ids, cx);
    processors::check(&raw.processors, &ids, cx);
    cookies::check(&raw.cookies, cx);
    promises::check(raw, cx);
    periods
}

pub(super) use promises::need_offsets;

/// The ids declared in each table, which references are checked against, and the consent
/// categories by id (the first of a duplicated id).
struct Ids<'r> {
    purposes: HashSet<String>,
    items: HashSet<String>,
    consents: HashSet<String>,
    retention: HashSet<String>,
    partners: HashSet<String>,
    consent_by_id: HashMap<&'r str, &'r RawConsent>,
}

impl<'r> Ids<'r> {
    /// Collects the ids of every table, reporting malformed and duplicate ones.
    fn collect(raw: &'r RawFile, cx: &mut Cx<'_>) -> Self {
        let purposes = index(cx, "purpose", raw.purposes.iter().map(|p| &p.id));
        let items = index(cx, "item", raw.items.iter().map(|p| &p.id));
        let consents = index(cx, "consent", raw.consents.iter().map(|p| &p.id));
        let retention = index(cx, "retention", raw.retention.iter().map(|p| &p.id));
        let partners = index(cx, "partner", raw.partners.iter().map(|p| &p.id));
        index(cx, "processor", raw.processors.iter().map(|p| &p.id));
        index(cx, "cookie", raw.cookies.iter().map(|p| &p.id));

        let consent_by_id: HashMap<&str, &RawConsent> = raw
            .consents
            .iter()
            .rev()
            .map(|c| (c.id.get_ref().as_str(), c))
            .collect();
        Ids {
            purposes,
            items,
            consents,
            retention,
            partners,
            consent_by_id,
        }
    }
}

/// The shared context of validation: the source (for positions) and what was found, each
/// with the byte offset it is sorted by.
pub(super) struct Cx<'a> {
    pub(super) file: &'a str,
    pub(super) src: &'a str,
    pub(super) problems: Vec<(usize, Problem)>,
    pub(super) warnings: Vec<(usize, Warning)>,
}

impl Cx<'_> {
    fn error(&mut self, span: Range<usize>, key: impl Into<String>, message: impl Into<String>) {
        let (line, column) = position(self.src, span.start);
        self.problems.push((
            span.start,
            Problem {
                file: self.file.to_owned(),
                line,
                column,
                key: key.into(),
                message: message.into(),
            },
        ));
    }

    fn warn(
        &mut self,
        span: Range<usize>,
        code: &'static str,
        key: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.warnings.push((
            span.start,
            Warning {
                code,
                key: key.into(),
                message: message.into(),
            },
        ));
    }

    fn text(&mut self, t: &S<Text>, key: &str) {
        let v = t.get_ref();
        let missing: Vec<&str> = [("ko", &v.ko), ("en", &v.en)]
            .into_iter()
            .filter(|(_, s)| s.trim().is_empty())
            .map(|(l, _)| l)
            .collect();
        if !missing.is_empty() {
            self.error(
                t.span(),
                key,
                format!(
                    "text must be given in Korean and English ({} is empty)",
                    missing.join(", ")
                ),
            );
        }
    }

    fn id(&mut self, id: &S<String>, key: &str) {
        let s = id.get_ref();
        let ok = s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            self.error(
                id.span(),
                key,
                format!(
                    "invalid id {s:?}: use lowercase letters, digits and _ (starting with a letter)"
                ),
            );
        }
    }
}

/// Collects ids of one kind, reporting malformed and duplicate ones.
fn index<'r>(
    cx: &mut Cx<'_>,
    kind: &str,
    ids: impl Iterator<Item = &'r S<String>>,
) -> HashSet<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for id in ids {
        let key = format!("{kind}.{}.id", id.get_ref());
        cx.id(id, &key);
        if let Some(first) = seen.get(id.get_ref()) {
            let (line, _) = position(cx.src, *first);
            cx.error(
                id.span(),
                key,
                format!(
                    "duplicate {kind} id {:?} (first declared on line {line})",
                    id.get_ref()
                ),
            );
        } else {
            seen.insert(id.get_ref().clone(), id.span().start);
        }
    }
    seen.into_keys().collect()
}

/// Checks a list of references: each must resolve, no duplicates.
fn refs(cx: &mut Cx<'_>, list: &[S<String>], key: &str, what: &str, known: &HashSet<String>) {
    let mut seen = HashSet::new();
    for (i, r) in list.iter().enumerate() {
        if !known.contains(r.get_ref()) {
            cx.error(
                r.span(),
                format!("{key}[{i}]"),
                format!("unknown {what} {:?}", r.get_ref()),
            );
        } else if !seen.insert(r.get_ref()) {
            cx.error(
                r.span(),
                format!("{key}[{i}]"),
                format!("{what} {:?} is listed twice", r.get_ref()),
            );
        }
    }
}

fn one_ref(cx: &mut Cx<'_>, r: &S<String>, key: String, what: &str, known: &HashSet<String>) {
    if !known.contains(r.get_ref()) {
        cx.error(r.span(), key, format!("unknown {what} {:?}", r.get_ref()));
    }
}

fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    }
}
