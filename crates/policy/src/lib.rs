#![doc = include_str!("../README.md")]

mod error;
mod load;
mod model;
mod period;
pub mod render;
mod version;

use std::path::Path;

pub use error::{PolicyError, Problem, Warning};
pub use model::{
    Channel, Choice, ConsentCategory, ConsentKind, ConsentMode, Contact, Context, Cookie, Duty,
    IdentityMode, Item, ItemKind, Lang, LegalBasis, Meta, Operator, Partner, Policy, Processor,
    Purpose, RetentionClass, Sensitivity, Text,
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

    /// True if any item is a 주민등록번호 (see warning `pipa_24_2`).
    pub fn collects_rrn(&self) -> bool {
        self.items.iter().any(|i| i.kind == ItemKind::Rrn)
    }
}
