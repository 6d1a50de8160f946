#![doc = include_str!("../README.md")]

mod bizno;
mod capability;
mod error;
mod load;
mod model;
mod period;
pub mod render;
mod version;

use std::path::Path;

pub use capability::{Capabilities, Capability, Kind, Need};
pub use error::{PolicyError, Problem, Warning};
pub use model::{
    Change, Channel, Choice, ConsentCategory, ConsentKind, ConsentMode, Contact, Context, Cookie,
    Duty, IdentityMode, Item, ItemKind, Lang, LegalBasis, Meta, Operator, OperatorLine, Partner,
    Policy, Processor, Purpose, RetentionClass, SAMPLE_MARKER, SampleEntry, Sensitivity, Text,
};
pub use period::{Period, PeriodError};
pub use version::PolicyVersion;

/// A loaded, valid policy and the warnings it raised.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The policy.
    pub policy: Policy,
    /// Things allowed but worth saying loudly (e.g. `pipa_24_2`), in file order.
    pub warnings: Vec<Warning>,
    /// The capability each promising section of the file needs, in file order.
    pub needs: Vec<Need>,
}

impl Loaded {
    /// The sections whose capability is neither in `caps` nor declared organisational by
    /// the policy, as problems naming the section (file, line, column, key) and the
    /// capability. `policy check` and `serve` refuse a policy with any.
    pub fn missing_capabilities(&self, caps: &Capabilities) -> Vec<Problem> {
        let present = self.policy.capabilities_with(caps);
        self.needs
            .iter()
            .filter(|n| !present.has(n.capability))
            .map(Need::problem)
            .collect()
    }
}

const LIFEPLAN: &str = include_str!("../../../policies/lifeplan.toml");
const LIFEPLAN_SEED: &str = include_str!("../../../policies/lifeplan-seed.toml");

impl Policy {
    /// Names accepted by [`Policy::builtin`]; the first is the default.
    pub const BUILTIN_NAMES: &[&str] = &["lifeplan", "lifeplan-seed"];

    /// Parses and validates a policy. `file` names the source in problems.
    pub fn from_toml_str(src: &str, file: &str) -> Result<Loaded, PolicyError> {
        load::load(src, file)
    }

    /// Reads, parses and validates a policy file.
    pub fn load_file(path: &Path) -> Result<Loaded, PolicyError> {
        let file = path.display().to_string();
        let src = std::fs::read_to_string(path).map_err(|source| PolicyError::Io {
            file: file.clone(),
            source,
        })?;
        load::load(&src, &file)
    }

    /// One of the shipped policies (`"lifeplan"`, `"lifeplan-seed"`), embedded in the
    /// binary. `None` for an unknown name.
    pub fn builtin(name: &str) -> Option<Result<Loaded, PolicyError>> {
        let (src, file) = match name {
            "lifeplan" => (LIFEPLAN, "policies/lifeplan.toml"),
            "lifeplan-seed" => (LIFEPLAN_SEED, "policies/lifeplan-seed.toml"),
            _ => return None,
        };
        Some(load::load(src, file))
    }

    /// The TOML source of a shipped policy.
    pub fn builtin_source(name: &str) -> Option<&'static str> {
        match name {
            "lifeplan" => Some(LIFEPLAN),
            "lifeplan-seed" => Some(LIFEPLAN_SEED),
            _ => None,
        }
    }

    /// SHA-256 of the canonical form, computed at load. (If the public fields are changed
    /// after loading, use [`Policy::compute_version`].)
    pub fn version(&self) -> &PolicyVersion {
        &self.version
    }

    /// Recomputes the version from the current field values.
    pub fn compute_version(&self) -> PolicyVersion {
        PolicyVersion::of(self).unwrap_or_default()
    }

    /// `caps` plus the organisational promises this policy declares: what a document of
    /// this policy may promise.
    pub fn capabilities_with(&self, caps: &Capabilities) -> Capabilities {
        let mut out = caps.clone();
        out.extend(self.organisational.iter().copied());
        out
    }

    /// The item with this id.
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|x| x.id == id)
    }

    /// The purpose with this id.
    pub fn purpose(&self, id: &str) -> Option<&Purpose> {
        self.purposes.iter().find(|x| x.id == id)
    }

    /// The consent category with this id.
    pub fn consent(&self, id: &str) -> Option<&ConsentCategory> {
        self.consents.iter().find(|x| x.id == id)
    }

    /// The retention class with this id.
    pub fn retention_class(&self, id: &str) -> Option<&RetentionClass> {
        self.retention.iter().find(|x| x.id == id)
    }

    /// The partner with this id.
    pub fn partner(&self, id: &str) -> Option<&Partner> {
        self.partners.iter().find(|x| x.id == id)
    }

    /// The processor with this id.
    pub fn processor(&self, id: &str) -> Option<&Processor> {
        self.processors.iter().find(|x| x.id == id)
    }

    /// True if `purpose` is listed for `item`. (A purpose with a `consent` additionally
    /// needs that consent, and a consent-based item needs its own consent: checking those
    /// against a member's consent state is the caller's job.)
    pub fn allows(&self, item: &str, purpose: &str) -> bool {
        self.item(item)
            .is_some_and(|i| i.purposes.iter().any(|p| p == purpose))
    }

    /// Items covered by a consent category: items whose `consent` is that id (declared
    /// order), then the category's explicit items (listed order), without repeats.
    pub fn items_for_consent(&self, consent_id: &str) -> Vec<&Item> {
        let mut out: Vec<&Item> = self
            .items
            .iter()
            .filter(|i| i.consent.as_deref() == Some(consent_id))
            .collect();
        if let Some(c) = self.consent(consent_id) {
            for id in &c.items {
                if let Some(item) = self.item(id)
                    && !out.iter().any(|x| x.id == item.id)
                {
                    out.push(item);
                }
            }
        }
        out
    }

    /// Consent categories that mention an item (its own category, then categories listing
    /// it explicitly).
    pub fn consents_for_item(&self, item_id: &str) -> Vec<&ConsentCategory> {
        self.consents
            .iter()
            .filter(|c| {
                c.items.iter().any(|i| i == item_id)
                    || self
                        .item(item_id)
                        .is_some_and(|i| i.consent.as_deref() == Some(c.id.as_str()))
            })
            .collect()
    }

    /// Items collected in a context, in declared order.
    pub fn items_in(&self, context: Context) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(move |i| i.context == context)
    }

    /// Items collected at sign-up, in declared order (the form order).
    pub fn signup_items(&self) -> impl Iterator<Item = &Item> {
        self.items_in(Context::Signup)
    }

    /// How long staff access logs are kept: the `access_logs` retention class if declared,
    /// otherwise the statutory minimum (2 years if `operator.large_scale`, else 1 year).
    pub fn access_log_period(&self) -> Period {
        self.retention_class("access_logs")
            .map(|r| r.period)
            .unwrap_or(if self.operator.large_scale {
                Period::Years(2)
            } else {
                Period::Years(1)
            })
    }

    /// The operator's company information as footer lines in `lang`, in the usual Korean
    /// order: 상호 · 대표자 · 주소 · 사업자등록번호 · 통신판매업 신고번호 · 대표전화 · 이메일.
    /// Fields the policy does not give are left out. (The site name, `operator.name`, is not a
    /// line: it is the site's title.)
    pub fn operator_lines(&self, lang: Lang) -> Vec<OperatorLine> {
        let op = &self.operator;
        let pick = |ko: &'static str, en: &'static str| match lang {
            Lang::Ko => ko,
            Lang::En => en,
        };
        let text = |t: &Option<Text>| t.as_ref().map(|t| t.get(lang).to_owned());
        [
            ("company", pick("상호", "Company"), text(&op.company)),
            (
                "representative",
                pick("대표자", "Representative"),
                text(&op.representative),
            ),
            ("address", pick("주소", "Address"), text(&op.address)),
            (
                "business_number",
                pick("사업자등록번호", "Business registration no."),
                op.business_number.clone(),
            ),
            (
                "mail_order_number",
                pick("통신판매업 신고번호", "Mail-order business report no."),
                op.mail_order_number.clone(),
            ),
            ("phone", pick("대표전화", "Phone"), op.phone.clone()),
            ("email", pick("이메일", "E-mail"), op.email.clone()),
        ]
        .into_iter()
        .filter_map(|(key, label, value)| value.map(|value| OperatorLine { key, label, value }))
        .collect()
    }

    /// Entries marked as samples ([`SAMPLE_MARKER`], "(예시)", in one of their Korean texts),
    /// in table order (`meta`, `operator`, `officer`, `manager`, purposes, items, consents,
    /// retention classes, retention notes, partners, processors, cookies, `cookie_choices`)
    /// and declared order within a table. A policy for a live site should have none; the
    /// loader warns about each (`sample_entry`).
    pub fn sample_entries(&self) -> Vec<SampleEntry> {
        fn single(out: &mut Vec<SampleEntry>, table: &'static str, sample: bool) {
            if sample {
                out.push(SampleEntry {
                    table,
                    id: String::new(),
                });
            }
        }
        fn each<'a, T: 'a>(
            out: &mut Vec<SampleEntry>,
            table: &'static str,
            entries: impl IntoIterator<Item = &'a T>,
            id: impl Fn(&T) -> &str,
            sample: impl Fn(&T) -> bool,
        ) {
            out.extend(
                entries
                    .into_iter()
                    .filter(|e| sample(e))
                    .map(|e| SampleEntry {
                        table,
                        id: id(e).to_owned(),
                    }),
            );
        }
        let mut out = Vec::new();
        single(&mut out, "meta", self.meta.title.is_sample());
        single(&mut out, "operator", self.operator.is_sample());
        single(&mut out, "officer", self.officer.is_sample());
        single(&mut out, "manager", self.manager.is_sample());
        each(
            &mut out,
            "purpose",
            &self.purposes,
            |x| &x.id,
            Purpose::is_sample,
        );
        each(&mut out, "item", &self.items, |x| &x.id, Item::is_sample);
        each(
            &mut out,
            "consent",
            &self.consents,
            |x| &x.id,
            ConsentCategory::is_sample,
        );
        each(
            &mut out,
            "retention",
            &self.retention,
            |x| &x.id,
            RetentionClass::is_sample,
        );
        out.extend(
            self.retention_notes
                .iter()
                .enumerate()
                .filter(|(_, n)| n.is_sample())
                .map(|(i, _)| SampleEntry {
                    table: "retention_note",
                    id: i.to_string(),
                }),
        );
        each(
            &mut out,
            "partner",
            &self.partners,
            |x| &x.id,
            Partner::is_sample,
        );
        each(
            &mut out,
            "processor",
            &self.processors,
            |x| &x.id,
            Processor::is_sample,
        );
        each(
            &mut out,
            "cookie",
            &self.cookies,
            |x| &x.id,
            Cookie::is_sample,
        );
        single(&mut out, "cookie_choices", self.cookie_choices.is_sample());
        out
    }

    /// True if any item is a 주민등록번호 (see warning `pipa_24_2`).
    pub fn collects_rrn(&self) -> bool {
        self.items.iter().any(|i| i.kind == ItemKind::Rrn)
    }
}
