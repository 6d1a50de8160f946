//! Loading: TOML → raw model (with spans) → validation → public model.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use chrono::NaiveDate;
use serde::Deserialize;
use toml::Spanned;
use toml::value::Datetime;

use crate::Loaded;
use crate::bizno::{self, BusinessNumberError};
use crate::error::{PolicyError, Problem, Warning};
use crate::model::*;
use crate::period::Period;
use crate::version::PolicyVersion;

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
    let message = err.message().trim().to_owned();
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

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

struct Cx<'a> {
    file: &'a str,
    src: &'a str,
    problems: Vec<(usize, Problem)>,
    warnings: Vec<(usize, Warning)>,
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

/// What a withdrawal record may keep besides items: the login ID and the consent history.
pub const KEEPABLE_RECORDS: &[&str] = &["login_id", "consent_history"];

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
    let mut policy = convert(raw, &periods);
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

/// Validates everything; returns the parsed period of each retention class.
fn validate(raw: &RawFile, cx: &mut Cx<'_>) -> HashMap<String, Period> {
    // --- meta, operator, office -------------------------------------------------------
    let meta = &raw.meta;
    {
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
    }
    cx.text(&meta.title, "meta.title");
    if to_date(&meta.effective_date).is_none() {
        cx.error(
            meta.effective_date.span(),
            "meta.effective_date",
            "effective_date must be a plain date like 2026-01-01",
        );
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
    let op = &raw.operator;
    cx.text(&op.name, "operator.name");
    for (t, key) in [
        (&op.company, "operator.company"),
        (&op.representative, "operator.representative"),
        (&op.address, "operator.address"),
    ] {
        if let Some(t) = t {
            cx.text(t, key);
        }
    }
    if let Some(b) = &op.business_number {
        match bizno::check(b.get_ref()) {
            Ok(()) => {}
            Err(BusinessNumberError::Format) => cx.error(
                b.span(),
                "operator.business_number",
                format!(
                    "invalid 사업자등록번호 {:?}: write it as NNN-NN-NNNNN, e.g. \"123-45-67891\"",
                    b.get_ref()
                ),
            ),
            Err(BusinessNumberError::CheckDigit) => cx.error(
                b.span(),
                "operator.business_number",
                format!(
                    "사업자등록번호 {:?} fails its check digit (weights 1,3,7,1,3,7,1,3,5): \
                     look for a mistyped digit",
                    b.get_ref()
                ),
            ),
        }
    }
    if let Some(v) = &op.mail_order_number
        && v.get_ref().trim().is_empty()
    {
        cx.error(
            v.span(),
            "operator.mail_order_number",
            "leave the key out instead of giving it empty",
        );
    }
    if let Some(e) = &op.email
        && !looks_like_email(e.get_ref())
    {
        cx.error(
            e.span(),
            "operator.email",
            format!("invalid e-mail address {:?}", e.get_ref()),
        );
    }
    let missing: Vec<&str> = [
        ("company (상호)", op.company.is_none()),
        ("representative (대표자)", op.representative.is_none()),
        (
            "business_number (사업자등록번호)",
            op.business_number.is_none(),
        ),
    ]
    .into_iter()
    .filter_map(|(k, absent)| absent.then_some(k))
    .collect();
    if !missing.is_empty() {
        cx.warn(
            op.name.span(),
            "operator_info",
            "operator",
            format!(
                "the operator's {} {} not given: a Korean site shows its company name, \
                 representative and business registration number in its footer (전자상거래법 \
                 제10조: on the first screen of an online shop), and members look for them \
                 before they trust a site; add them before publishing",
                missing.join(", "),
                if missing.len() == 1 { "is" } else { "are" }
            ),
        );
    }
    let site = op.website.get_ref();
    if !(site.starts_with("https://") || site.starts_with("http://")) || site.contains(' ') {
        cx.error(
            op.website.span(),
            "operator.website",
            "website must be an http(s):// address",
        );
    }
    for (who, c) in [("officer", &raw.officer), ("manager", &raw.manager)] {
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
    cx.text(&raw.cookie_choices, "cookie_choices");
    for (i, n) in raw.retention_notes.iter().enumerate() {
        cx.text(n, &format!("retention_note[{i}]"));
    }

    // --- ids -----------------------------------------------------------------------------
    let purposes = index(cx, "purpose", raw.purposes.iter().map(|p| &p.id));
    let items = index(cx, "item", raw.items.iter().map(|p| &p.id));
    let consents = index(cx, "consent", raw.consents.iter().map(|p| &p.id));
    let retention = index(cx, "retention", raw.retention.iter().map(|p| &p.id));
    let partners = index(cx, "partner", raw.partners.iter().map(|p| &p.id));
    let _ = index(cx, "processor", raw.processors.iter().map(|p| &p.id));
    let _ = index(cx, "cookie", raw.cookies.iter().map(|p| &p.id));

    let consent_by_id: HashMap<&str, &RawConsent> = raw
        .consents
        .iter()
        .rev()
        .map(|c| (c.id.get_ref().as_str(), c))
        .collect();

    // --- purposes ----------------------------------------------------------------------
    for p in &raw.purposes {
        let k = format!("purpose.{}", p.id.get_ref());
        cx.text(&p.label, &format!("{k}.label"));
        cx.text(&p.description, &format!("{k}.description"));
        if let Some(c) = &p.consent {
            one_ref(cx, c, format!("{k}.consent"), "consent category", &consents);
        }
    }

    // --- retention classes ---------------------------------------------------------------
    let mut periods = HashMap::new();
    for r in &raw.retention {
        let k = format!("retention.{}", r.id.get_ref());
        cx.text(&r.label, &format!("{k}.label"));
        cx.text(&r.basis, &format!("{k}.basis"));
        cx.text(&r.records, &format!("{k}.records"));
        if let Some(keeps) = &r.keeps {
            let mut keepable = items.clone();
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
                    let min = if raw.operator.large_scale {
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
                                if raw.operator.large_scale {
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

    // --- items ---------------------------------------------------------------------------
    let mode = *meta.consent_mode.get_ref();
    let mut forced: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut needs_large_scale = false;
    for it in &raw.items {
        let id = it.id.get_ref();
        let k = format!("item.{id}");
        cx.text(&it.label, &format!("{k}.label"));
        if let Some(h) = &it.help {
            cx.text(h, &format!("{k}.help"));
        }
        let kind = *it.kind.get_ref();
        let basis = *it.basis.get_ref();
        let sensitivity = it
            .sensitivity
            .as_ref()
            .map_or(Sensitivity::Normal, |s| *s.get_ref());

        if it.purposes.get_ref().is_empty() {
            cx.error(
                it.purposes.span(),
                format!("{k}.purposes"),
                "an item needs at least one purpose",
            );
        }
        refs(
            cx,
            it.purposes.get_ref(),
            &format!("{k}.purposes"),
            "purpose",
            &purposes,
        );
        one_ref(
            cx,
            &it.retention,
            format!("{k}.retention"),
            "retention class",
            &retention,
        );

        match (basis, &it.consent) {
            (LegalBasis::Consent, None) => cx.error(
                it.basis.span(),
                format!("{k}.consent"),
                "an item with basis = \"consent\" must name its consent category (consent = \"…\")",
            ),
            (LegalBasis::Contract | LegalBasis::Law, Some(c)) => cx.error(
                c.span(),
                format!("{k}.consent"),
                format!(
                    "an item with basis = \"{}\" is processed without consent and must not name \
                     a consent category",
                    if basis == LegalBasis::Law {
                        "law"
                    } else {
                        "contract"
                    }
                ),
            ),
            (LegalBasis::Consent, Some(c)) => {
                if let Some(cat) = consent_by_id.get(c.get_ref().as_str()) {
                    let ck = *cat.kind.get_ref();
                    let cat_required = cat.required.as_ref().is_some_and(|r| *r.get_ref());
                    if !matches!(
                        ck,
                        ConsentKind::OptionalItems | ConsentKind::PolicyAgreement
                    ) {
                        cx.error(
                            c.span(),
                            format!("{k}.consent"),
                            format!(
                                "an item's consent must be an optional_items or policy_agreement \
                                 category; {:?} is {}",
                                c.get_ref(),
                                ck.label(Lang::En)
                            ),
                        );
                    } else if *it.required.get_ref() {
                        if ck == ConsentKind::PolicyAgreement && cat_required {
                            forced
                                .entry(cat.id.get_ref().as_str())
                                .or_default()
                                .push(id);
                        } else {
                            cx.error(
                                it.required.span(),
                                format!("{k}.required"),
                                "required items cannot depend on consent: give the item basis = \
                                 \"contract\" or \"law\", or make it optional",
                            );
                        }
                    }
                } else {
                    one_ref(cx, c, format!("{k}.consent"), "consent category", &consents);
                }
            }
            (LegalBasis::Contract | LegalBasis::Law, None) => {}
        }

        let has_choices = matches!(kind, ItemKind::Choice | ItemKind::MultiChoice);
        if has_choices && it.choices.is_empty() {
            cx.error(
                it.kind.span(),
                format!("{k}.choices"),
                "a choice item needs at least one choice",
            );
        }
        if !has_choices && let Some(c) = it.choices.first() {
            cx.error(
                c.id.span(),
                format!("{k}.choices"),
                "only choice and multi_choice items have choices",
            );
        }
        let mut seen = HashSet::new();
        for (i, c) in it.choices.iter().enumerate() {
            let ck = format!("{k}.choices[{i}]");
            cx.id(&c.id, &format!("{ck}.id"));
            cx.text(&c.label, &format!("{ck}.label"));
            if !seen.insert(c.id.get_ref()) {
                cx.error(
                    c.id.span(),
                    format!("{ck}.id"),
                    format!("duplicate choice id {:?}", c.id.get_ref()),
                );
            }
        }
        if let Some(m) = &it.max_len
            && *m.get_ref() == 0
        {
            cx.error(
                m.span(),
                format!("{k}.max_len"),
                "max_len must be at least 1",
            );
        }
        let expected = match kind {
            ItemKind::Rrn | ItemKind::Ci | ItemKind::Di => Some(Sensitivity::UniqueIdentifier),
            ItemKind::CardNumber | ItemKind::AccountNumber => Some(Sensitivity::Financial),
            _ => None,
        };
        if let Some(exp) = expected
            && sensitivity != exp
        {
            let span = it.sensitivity.as_ref().map_or(it.kind.span(), |s| s.span());
            cx.error(
                span,
                format!("{k}.sensitivity"),
                format!(
                    "an item of this kind must have sensitivity = \"{}\"",
                    match exp {
                        Sensitivity::Financial => "financial",
                        _ => "unique_identifier",
                    }
                ),
            );
        }
        if kind == ItemKind::Rrn {
            needs_large_scale = true;
            cx.warn(
                it.id.span(),
                "pipa_24_2",
                k.clone(),
                "this policy collects 주민등록번호 (resident registration numbers). PIPA Art. 24-2 \
                 (개인정보 보호법 제24조의2) forbids processing them without a specific statutory \
                 basis, and a membership site has none: use identity verification (본인확인, \
                 CI/DI) instead",
            );
        } else if matches!(
            sensitivity,
            Sensitivity::Sensitive | Sensitivity::UniqueIdentifier
        ) && !matches!(kind, ItemKind::Ci | ItemKind::Di)
        {
            needs_large_scale = true;
            if basis != LegalBasis::Consent {
                cx.warn(
                    it.id.span(),
                    "separate_consent",
                    k.clone(),
                    format!(
                        "{} without a consent basis: PIPA Art. 23/24 allow it only with separate \
                         consent or a specific statutory basis",
                        sensitivity.label(Lang::En)
                    ),
                );
            }
        }
    }

    for (cat, ids) in &forced {
        if let Some(c) = consent_by_id.get(cat) {
            cx.warn(
                c.id.span(),
                "r_con_02",
                format!("consent.{cat}"),
                format!(
                    "{} required item(s) ({}) can only be given by agreeing to the whole policy. \
                     Since 2024-09-15 items needed for the contract are processed on notice \
                     (PIPA Art. 15(1)4, 22(3); Decree Art. 17) and a forced consent for them is \
                     discouraged (R-CON-02)",
                    ids.len(),
                    ids.join(", ")
                ),
            );
        }
    }

    if needs_large_scale && !raw.operator.large_scale {
        cx.warn(
            raw.operator.website.span(),
            "large_scale",
            "operator.large_scale",
            "the policy processes unique identifiers or sensitive data, so staff access logs \
             must be kept 2 years (안전성 확보조치 기준 제8조): set large_scale = true",
        );
    }

    // --- identity --------------------------------------------------------------------------
    let has_kind = |ks: &[ItemKind]| raw.items.iter().any(|i| ks.contains(i.kind.get_ref()));
    match meta.identity.get_ref() {
        IdentityMode::Rrn if !has_kind(&[ItemKind::Rrn]) => cx.error(
            meta.identity.span(),
            "meta.identity",
            "identity = \"rrn\" needs an item of kind \"rrn\"",
        ),
        IdentityMode::Verification if !has_kind(&[ItemKind::Ci, ItemKind::Di]) => cx.error(
            meta.identity.span(),
            "meta.identity",
            "identity = \"verification\" needs an item of kind \"ci\" or \"di\" to hold the result",
        ),
        _ => {}
    }

    // --- consent categories ----------------------------------------------------------------
    let mut agreements = 0usize;
    for c in &raw.consents {
        let id = c.id.get_ref();
        let k = format!("consent.{id}");
        let kind = *c.kind.get_ref();
        cx.text(&c.title, &format!("{k}.title"));
        cx.text(&c.purpose, &format!("{k}.purpose"));
        cx.text(&c.refusal, &format!("{k}.refusal"));
        one_ref(
            cx,
            &c.retention,
            format!("{k}.retention"),
            "retention class",
            &retention,
        );

        match (kind, &c.channel) {
            (ConsentKind::AdReception, None) => cx.error(
                c.kind.span(),
                format!("{k}.channel"),
                "an ad_reception consent needs channel = \"email\", \"sms\" or \"push\"",
            ),
            (ConsentKind::AdReception, Some(_)) | (_, None) => {}
            (_, Some(ch)) => cx.error(
                ch.span(),
                format!("{k}.channel"),
                "only ad_reception consents have a channel",
            ),
        }

        let required = c.required.as_ref().is_some_and(|r| *r.get_ref());
        if required
            && kind != ConsentKind::PolicyAgreement
            && let Some(r) = &c.required
        {
            cx.error(
                r.span(),
                format!("{k}.required"),
                "only a policy_agreement category may be required: consent must be free to refuse",
            );
        }
        if kind == ConsentKind::PolicyAgreement {
            match mode {
                ConsentMode::Separate => cx.error(
                    c.kind.span(),
                    format!("{k}.kind"),
                    "policy_agreement categories belong to consent_mode = \"single_agreement\"",
                ),
                ConsentMode::SingleAgreement if !required => cx.error(
                    c.kind.span(),
                    format!("{k}.required"),
                    "the policy_agreement category must be required = true",
                ),
                ConsentMode::SingleAgreement => agreements += 1,
            }
        }

        let explicit: &[S<String>] = c.items.as_ref().map_or(&[], |v| v.get_ref().as_slice());
        let items_span = c.items.as_ref().map_or(c.id.span(), |v| v.span());
        match kind {
            ConsentKind::OptionalItems | ConsentKind::PolicyAgreement => {
                if !explicit.is_empty() {
                    cx.error(
                        items_span.clone(),
                        format!("{k}.items"),
                        "list no items here: set consent = \"…\" on each item instead",
                    );
                }
                let covered = raw
                    .items
                    .iter()
                    .any(|i| i.consent.as_ref().is_some_and(|x| x.get_ref() == id));
                if kind == ConsentKind::OptionalItems && !covered {
                    cx.error(
                        c.id.span(),
                        format!("{k}.items"),
                        "an optional_items category needs at least one item (no item names it)",
                    );
                }
            }
            ConsentKind::ThirdParty | ConsentKind::Marketing | ConsentKind::AdReception => {
                if explicit.is_empty() && kind != ConsentKind::AdReception {
                    cx.error(
                        items_span.clone(),
                        format!("{k}.items"),
                        "this consent must list the items it covers",
                    );
                }
                refs(cx, explicit, &format!("{k}.items"), "item", &items);
            }
        }

        match (kind, &c.partner) {
            (ConsentKind::ThirdParty, None) => cx.error(
                c.kind.span(),
                format!("{k}.partner"),
                "a third_party consent must name its recipient (partner = \"…\")",
            ),
            (ConsentKind::ThirdParty, Some(p)) => {
                one_ref(cx, p, format!("{k}.partner"), "partner", &partners);
                if let Some(partner) = raw.partners.iter().find(|x| x.id.get_ref() == p.get_ref()) {
                    let a: HashSet<&String> = explicit.iter().map(|s| s.get_ref()).collect();
                    let b: HashSet<&String> = partner
                        .items
                        .get_ref()
                        .iter()
                        .map(|s| s.get_ref())
                        .collect();
                    if a != b {
                        cx.error(
                            items_span.clone(),
                            format!("{k}.items"),
                            format!(
                                "the items asked for must be exactly the items provided to partner {:?}",
                                p.get_ref()
                            ),
                        );
                    }
                }
            }
            (_, Some(p)) => cx.error(
                p.span(),
                format!("{k}.partner"),
                "only a third_party consent names a partner",
            ),
            (_, None) => {}
        }
    }
    if mode == ConsentMode::SingleAgreement && agreements != 1 {
        cx.error(
            meta.consent_mode.span(),
            "meta.consent_mode",
            format!(
                "consent_mode = \"single_agreement\" needs exactly one required policy_agreement \
                 category (found {agreements})"
            ),
        );
    }

    // --- partners --------------------------------------------------------------------------
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
            &purposes,
        );
        if p.items.get_ref().is_empty() {
            cx.error(
                p.items.span(),
                format!("{k}.items"),
                "a partner needs at least one item",
            );
        }
        refs(cx, p.items.get_ref(), &format!("{k}.items"), "item", &items);
        one_ref(
            cx,
            &p.retention,
            format!("{k}.retention"),
            "retention class",
            &retention,
        );
        match consent_by_id.get(p.consent.get_ref().as_str()) {
            None => one_ref(
                cx,
                &p.consent,
                format!("{k}.consent"),
                "consent category",
                &consents,
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

    // --- processors ------------------------------------------------------------------------
    for p in &raw.processors {
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
        refs(cx, p.items.get_ref(), &format!("{k}.items"), "item", &items);
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

    // --- cookies ---------------------------------------------------------------------------
    for c in &raw.cookies {
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

    periods
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
