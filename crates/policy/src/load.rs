//! Loading: TOML → raw model (with spans) → validation → public model.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Deserialize;
use toml::Spanned;
use toml::value::Datetime;

use crate::Loaded;
use crate::capability::{Capability, Kind, Need};
use crate::error::{PolicyError, Problem, Warning};
use crate::model::*;
use crate::period::Period;
use crate::version::PolicyVersion;

mod validate;

use validate::{Cx, validate};

type S<T> = Spanned<T>;

// ---------------------------------------------------------------------------------------
// Raw model: the TOML shape, with spans on everything a problem may point at.
// ---------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    meta: RawMeta,
    operator: RawOperator,
    officer: RawContact,
    manager: RawContact,
    #[serde(default, rename = "purpose")]
    purposes: Vec<RawPurpose>,
    #[serde(default, rename = "item")]
    items: Vec<RawItem>,
    #[serde(default, rename = "consent")]
    consents: Vec<RawConsent>,
    #[serde(default, rename = "retention")]
    retention: Vec<RawRetention>,
    #[serde(default, rename = "partner")]
    partners: Vec<RawPartner>,
    #[serde(default, rename = "processor")]
    processors: Vec<RawProcessor>,
    #[serde(default, rename = "cookie")]
    cookies: Vec<RawCookie>,
    cookie_choices: S<Text>,
    #[serde(default, rename = "retention_note")]
    retention_notes: Vec<S<Text>>,
    promises: Option<RawPromises>,
}

/// `[promises]`: the promises kept by people, not code.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPromises {
    #[serde(default)]
    organisational: Vec<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    id: S<String>,
    title: S<Text>,
    effective_date: S<Datetime>,
    consent_mode: S<ConsentMode>,
    identity: S<IdentityMode>,
    child_age: Option<S<u32>>,
    child_notice: Option<S<Text>>,
    change: Option<RawChange>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChange {
    summary: S<Text>,
    disadvantage: Option<S<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOperator {
    name: S<Text>,
    website: S<String>,
    company: Option<S<Text>>,
    representative: Option<S<Text>>,
    address: Option<S<Text>>,
    business_number: Option<S<String>>,
    mail_order_number: Option<S<String>>,
    phone: Option<S<String>>,
    email: Option<S<String>>,
    #[serde(default)]
    large_scale: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContact {
    name: S<Text>,
    department: S<Text>,
    title: S<Text>,
    email: S<String>,
    phone: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPurpose {
    id: S<String>,
    label: S<Text>,
    description: S<Text>,
    consent: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    id: S<String>,
    label: S<Text>,
    kind: S<ItemKind>,
    required: S<bool>,
    basis: S<LegalBasis>,
    consent: Option<S<String>>,
    purposes: S<Vec<S<String>>>,
    sensitivity: Option<S<Sensitivity>>,
    retention: S<String>,
    context: Option<S<Context>>,
    max_len: Option<S<usize>>,
    #[serde(default)]
    choices: Vec<RawChoice>,
    help: Option<S<Text>>,
    #[serde(default)]
    unique: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChoice {
    id: S<String>,
    label: S<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConsent {
    id: S<String>,
    kind: S<ConsentKind>,
    title: S<Text>,
    purpose: S<Text>,
    channel: Option<S<Channel>>,
    required: Option<S<bool>>,
    items: Option<S<Vec<S<String>>>>,
    retention: S<String>,
    refusal: S<Text>,
    partner: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    id: S<String>,
    label: S<Text>,
    period: S<String>,
    basis: S<Text>,
    records: S<Text>,
    after_withdrawal: Option<S<bool>>,
    withdrawal_record: Option<S<bool>>,
    keeps: Option<S<Vec<S<String>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPartner {
    id: S<String>,
    name: S<Text>,
    purposes: S<Vec<S<String>>>,
    items: S<Vec<S<String>>>,
    retention: S<String>,
    consent: S<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProcessor {
    id: S<String>,
    name: S<Text>,
    task: S<Text>,
    items: S<Vec<S<String>>>,
    duties: S<Vec<S<Duty>>>,
    contract_on_file: Option<S<bool>>,
    /// The capability that hands the items to this processor (default
    /// `processor_integration`).
    needs: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCookie {
    id: S<String>,
    name: S<String>,
    collects: S<Text>,
    purposes: S<Text>,
    retention: S<Text>,
}

// ---------------------------------------------------------------------------------------
// Positions
// ---------------------------------------------------------------------------------------

/// 1-based line and column (in characters) of a byte offset.
fn position(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = src.get(..offset).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// Turns a TOML syntax / type error into a located problem with a best-effort key path.
fn parse_problem(src: &str, file: &str, err: &toml::de::Error) -> Problem {
    let mut message = err.message().trim().to_owned();
    if message.is_empty() {
        // toml has no text for some syntax errors, e.g. a file that ends inside a value.
        message = if err.span().is_some_and(|s| s.start >= src.trim_end().len()) {
            "the file ends in the middle of a value, table or array".to_owned()
        } else {
            "not valid TOML here".to_owned()
        };
    }
    let field = backticked_field(&message);
    match err.span() {
        Some(span) => {
            // An empty span at the very start is the root table (e.g. a missing
            // top-level table): it has no location, and the key is just the field.
            let root = span.start == 0 && span.end == 0;
            let ((line, column), key) = match (&field, root) {
                (Some(f), true) => ((0, 0), f.clone()),
                _ => (
                    position(src, span.start),
                    guess_key(src, span.start, field.as_deref()),
                ),
            };
            Problem {
                file: file.to_owned(),
                line,
                column,
                key,
                message,
            }
        }
        None => Problem {
            file: file.to_owned(),
            line: 0,
            column: 0,
            key: field.unwrap_or_default(),
            message,
        },
    }
}

/// `x` from "unknown field `x`, …" or "missing field `x`".
fn backticked_field(message: &str) -> Option<String> {
    for prefix in ["unknown field `", "missing field `"] {
        if let Some(rest) = message.strip_prefix(prefix) {
            return rest.split('`').next().map(str::to_owned);
        }
    }
    None
}

fn header_name(trimmed: &str) -> Option<(String, bool)> {
    if let Some(rest) = trimmed.strip_prefix("[[") {
        let end = rest.find("]]")?;
        Some((rest[..end].trim().to_owned(), true))
    } else if let Some(rest) = trimmed.strip_prefix('[') {
        let end = rest.find(']')?;
        Some((rest[..end].trim().to_owned(), false))
    } else {
        None
    }
}

/// The bare key before `=` on a line, if the line starts with one.
fn line_key(line: &str) -> Option<String> {
    let t = line.trim_start();
    let (k, _) = t.split_once('=')?;
    let k = k.trim();
    let ok = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '"' | ' '));
    ok.then(|| k.replace(['"', ' '], ""))
}

/// `id = "x"` in the lines of a block.
fn block_id<'a>(lines: impl Iterator<Item = &'a str>) -> Option<String> {
    for line in lines {
        let t = line.trim_start();
        if header_name(t).is_some() {
            return None;
        }
        if line_key(t).as_deref() == Some("id") {
            let v = t.split_once('=')?.1.trim();
            let v = v.strip_prefix('"')?;
            return v.split('"').next().map(str::to_owned);
        }
    }
    None
}

/// Key path of the position `offset`: the enclosing table (array tables by their `id`,
/// else by index), the key on that line, and the field named in the message.
fn guess_key(src: &str, offset: usize, field: Option<&str>) -> String {
    let lines: Vec<&str> = src.split('\n').collect();
    let (line_no, _) = position(src, offset);
    let cur = line_no.saturating_sub(1);
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut header: Option<(String, bool, usize, usize)> = None; // name, array, index, line
    for (i, line) in lines.iter().enumerate().take(cur + 1) {
        if let Some((name, array)) = header_name(line.trim_start()) {
            let n = counts.entry(name.clone()).or_insert(0);
            header = Some((name, array, *n, i));
            *n += 1;
        }
    }
    let mut parts: Vec<String> = Vec::new();
    if let Some((name, array, index, at)) = &header {
        if *array {
            match block_id(lines.iter().skip(at + 1).copied()) {
                Some(id) => parts.push(format!("{name}.{id}")),
                None => parts.push(format!("{name}[{index}]")),
            }
        } else {
            parts.push(name.clone());
        }
    }
    let current = lines.get(cur).copied().unwrap_or("");
    let on_header = header.as_ref().is_some_and(|h| h.3 == cur);
    if !on_header && let Some(k) = line_key(current) {
        parts.push(k);
    }
    if let Some(f) = field {
        let last = parts.last().map(|p| p.rsplit('.').next().unwrap_or(p));
        if last != Some(f) {
            parts.push(f.to_owned());
        }
    }
    parts.join(".")
}

fn to_date(d: &S<Datetime>) -> Option<NaiveDate> {
    let v = d.get_ref();
    match (&v.date, &v.time, &v.offset) {
        (Some(date), None, None) => NaiveDate::from_ymd_opt(
            i32::from(date.year),
            u32::from(date.month),
            u32::from(date.day),
        ),
        _ => None,
    }
}

pub(crate) fn load(src: &str, file: &str) -> Result<Loaded, PolicyError> {
    let raw: RawFile =
        toml::from_str(src).map_err(|e| PolicyError::Parse(parse_problem(src, file, &e)))?;
    let mut cx = Cx {
        file,
        src,
        problems: Vec::new(),
        warnings: Vec::new(),
    };
    let periods = validate(&raw, &mut cx);
    if !cx.problems.is_empty() {
        let mut problems = cx.problems;
        problems.sort_by_key(|(offset, _)| *offset);
        return Err(PolicyError::Invalid(
            problems.into_iter().map(|(_, p)| p).collect(),
        ));
    }
    let offsets = entry_offsets(&raw);
    let need_offsets = validate::need_offsets(&raw);
    let mut policy = convert(raw, &periods);
    let needs = policy
        .section_needs()
        .into_iter()
        .map(|(key, capability)| {
            let offset = need_offsets.get(&key).copied().unwrap_or(0);
            let (line, column) = position(src, offset);
            Need {
                capability,
                key,
                file: file.to_owned(),
                line,
                column,
            }
        })
        .collect();
    policy.version = PolicyVersion::of(&policy).map_err(|e| {
        PolicyError::Invalid(vec![Problem {
            file: file.to_owned(),
            line: 0,
            column: 0,
            key: String::new(),
            message: format!("cannot compute the canonical form: {e}"),
        }])
    })?;
    let mut warnings = cx.warnings;
    for entry in policy.sample_entries() {
        let key = entry.key();
        let offset = offsets.get(&key).copied().unwrap_or(usize::MAX);
        warnings.push((
            offset,
            Warning {
                code: "sample_entry",
                message: format!(
                    "{key} is marked \"{SAMPLE_MARKER}\": it is an example written so that a \
                     section renders, not a declaration of what this site does. Replace it with \
                     the real entry or delete it before publishing"
                ),
                key,
            },
        ));
    }
    warnings.sort_by_key(|(offset, _)| *offset);
    Ok(Loaded {
        policy,
        warnings: warnings.into_iter().map(|(_, w)| w).collect(),
        needs,
    })
}

/// Where each entry starts in the file, by its key path (as [`SampleEntry::key`] spells it),
/// so that warnings about entries come in file order.
fn entry_offsets(raw: &RawFile) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    out.insert("meta".to_owned(), raw.meta.id.span().start);
    out.insert("operator".to_owned(), raw.operator.name.span().start);
    out.insert("officer".to_owned(), raw.officer.name.span().start);
    out.insert("manager".to_owned(), raw.manager.name.span().start);
    out.insert("cookie_choices".to_owned(), raw.cookie_choices.span().start);
    for (i, n) in raw.retention_notes.iter().enumerate() {
        out.insert(format!("retention_note[{i}]"), n.span().start);
    }
    let tables: [(&str, Vec<&S<String>>); 7] = [
        ("purpose", raw.purposes.iter().map(|x| &x.id).collect()),
        ("item", raw.items.iter().map(|x| &x.id).collect()),
        ("consent", raw.consents.iter().map(|x| &x.id).collect()),
        ("retention", raw.retention.iter().map(|x| &x.id).collect()),
        ("partner", raw.partners.iter().map(|x| &x.id).collect()),
        ("processor", raw.processors.iter().map(|x| &x.id).collect()),
        ("cookie", raw.cookies.iter().map(|x| &x.id).collect()),
    ];
    for (table, ids) in tables {
        for id in ids {
            out.entry(format!("{table}.{}", id.get_ref()))
                .or_insert(id.span().start);
        }
    }
    out
}

fn strings(v: &S<Vec<S<String>>>) -> Vec<String> {
    v.get_ref().iter().map(|s| s.get_ref().clone()).collect()
}

/// Converts a validated raw file into the public model.
fn convert(raw: RawFile, periods: &HashMap<String, Period>) -> Policy {
    let t = |t: S<Text>| t.into_inner();
    let contact = |c: RawContact| Contact {
        name: t(c.name),
        department: t(c.department),
        title: t(c.title),
        email: c.email.into_inner(),
        phone: c.phone.map(Spanned::into_inner),
    };
    let effective_date = to_date(&raw.meta.effective_date).unwrap_or_default();
    Policy {
        meta: Meta {
            id: raw.meta.id.into_inner(),
            title: t(raw.meta.title),
            effective_date,
            consent_mode: raw.meta.consent_mode.into_inner(),
            identity: raw.meta.identity.into_inner(),
            child_age: raw.meta.child_age.map_or(14, Spanned::into_inner),
            child_notice: raw.meta.child_notice.map(t),
            change: raw.meta.change.map(|c| crate::model::Change {
                summary: t(c.summary),
                disadvantage: c.disadvantage.is_some_and(Spanned::into_inner),
            }),
        },
        operator: Operator {
            name: t(raw.operator.name),
            website: raw.operator.website.into_inner(),
            company: raw.operator.company.map(Spanned::into_inner),
            representative: raw.operator.representative.map(Spanned::into_inner),
            address: raw.operator.address.map(Spanned::into_inner),
            business_number: raw.operator.business_number.map(Spanned::into_inner),
            mail_order_number: raw.operator.mail_order_number.map(Spanned::into_inner),
            phone: raw.operator.phone.map(Spanned::into_inner),
            email: raw.operator.email.map(Spanned::into_inner),
            large_scale: raw.operator.large_scale,
        },
        officer: contact(raw.officer),
        manager: contact(raw.manager),
        purposes: raw
            .purposes
            .into_iter()
            .map(|p| Purpose {
                id: p.id.into_inner(),
                label: t(p.label),
                description: t(p.description),
                consent: p.consent.map(Spanned::into_inner),
            })
            .collect(),
        items: raw
            .items
            .into_iter()
            .map(|i| Item {
                purposes: strings(&i.purposes),
                id: i.id.into_inner(),
                label: t(i.label),
                kind: i.kind.into_inner(),
                required: i.required.into_inner(),
                basis: i.basis.into_inner(),
                consent: i.consent.map(Spanned::into_inner),
                sensitivity: i
                    .sensitivity
                    .map_or(Sensitivity::Normal, Spanned::into_inner),
                retention: i.retention.into_inner(),
                context: i.context.map_or(Context::Signup, Spanned::into_inner),
                max_len: i.max_len.map(Spanned::into_inner),
                choices: i
                    .choices
                    .into_iter()
                    .map(|c| Choice {
                        id: c.id.into_inner(),
                        label: t(c.label),
                    })
                    .collect(),
                help: i.help.map(Spanned::into_inner),
                unique: i.unique,
            })
            .collect(),
        consents: raw
            .consents
            .into_iter()
            .map(|c| ConsentCategory {
                items: c.items.as_ref().map(strings).unwrap_or_default(),
                id: c.id.into_inner(),
                kind: c.kind.into_inner(),
                title: t(c.title),
                purpose: t(c.purpose),
                channel: c.channel.map(Spanned::into_inner),
                required: c.required.is_some_and(Spanned::into_inner),
                retention: c.retention.into_inner(),
                refusal: t(c.refusal),
                partner: c.partner.map(Spanned::into_inner),
            })
            .collect(),
        retention: raw
            .retention
            .into_iter()
            .map(|r| RetentionClass {
                period: periods
                    .get(r.id.get_ref())
                    .copied()
                    .unwrap_or(Period::UntilWithdrawal),
                id: r.id.into_inner(),
                label: t(r.label),
                basis: t(r.basis),
                records: t(r.records),
                after_withdrawal: r.after_withdrawal.is_some_and(Spanned::into_inner),
                withdrawal_record: r.withdrawal_record.is_some_and(Spanned::into_inner),
                keeps: r
                    .keeps
                    .map(|k| {
                        k.into_inner()
                            .into_iter()
                            .map(Spanned::into_inner)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect(),
        partners: raw
            .partners
            .into_iter()
            .map(|p| Partner {
                purposes: strings(&p.purposes),
                items: strings(&p.items),
                id: p.id.into_inner(),
                name: t(p.name),
                retention: p.retention.into_inner(),
                consent: p.consent.into_inner(),
            })
            .collect(),
        processors: raw
            .processors
            .into_iter()
            .map(|p| Processor {
                items: strings(&p.items),
                duties: p.duties.get_ref().iter().map(|d| *d.get_ref()).collect(),
                id: p.id.into_inner(),
                name: t(p.name),
                task: t(p.task),
                contract_on_file: p.contract_on_file.is_some_and(Spanned::into_inner),
                needs: p.needs.and_then(|n| Capability::from_name(n.get_ref())),
            })
            .collect(),
        cookies: raw
            .cookies
            .into_iter()
            .map(|c| Cookie {
                id: c.id.into_inner(),
                name: c.name.into_inner(),
                collects: t(c.collects),
                purposes: t(c.purposes),
                retention: t(c.retention),
            })
            .collect(),
        cookie_choices: t(raw.cookie_choices),
        retention_notes: raw
            .retention_notes
            .into_iter()
            .map(Spanned::into_inner)
            .collect(),
        organisational: raw
            .promises
            .map(|p| {
                p.organisational
                    .iter()
                    .filter_map(|n| Capability::from_name(n.get_ref()))
                    .filter(|c| c.kind() == Kind::Organisational)
                    .collect()
            })
            .unwrap_or_default(),
        version: PolicyVersion::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters() {
        let src = "a = 1\n한글 = 2\n";
        assert_eq!(position(src, 0), (1, 1));
        let off = src.find('=').unwrap();
        assert_eq!(position(src, off), (1, 3));
        let off2 = src.rfind('=').unwrap();
        assert_eq!(position(src, off2), (2, 4));
    }

    #[test]
    fn keys_from_headers() {
        let src = "[meta]\nid = \"x\"\n\n[[item]]\nid = \"name\"\nfoo = 1\n\n[[item]]\nbar = 2\n";
        let off = src.find("foo").unwrap();
        assert_eq!(guess_key(src, off, Some("foo")), "item.name.foo");
        let off = src.find("bar").unwrap();
        assert_eq!(guess_key(src, off, Some("bar")), "item[1].bar");
        let off = src.find("id = \"x\"").unwrap();
        assert_eq!(guess_key(src, off, None), "meta.id");
        let off = src.find("[[item]]").unwrap();
        assert_eq!(guess_key(src, off, Some("basis")), "item.name.basis");
    }
}
