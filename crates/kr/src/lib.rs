#![doc = include_str!("../README.md")]

pub mod age;
pub mod ci;
pub mod email;
pub mod error;
pub mod name;
pub mod phone;
pub mod postal;
pub mod rrn;

pub use age::{age_in_full_years, is_under, kst_today};
pub use ci::{Ci, CiError, Di, DiError};
pub use email::{Email, EmailError};
pub use error::{KrError, ValidationError};
pub use name::{NameError, PersonName};
pub use phone::{Phone, PhoneError, PhoneKind};
pub use postal::{PostalCode, PostalError};
pub use rrn::{Rrn, RrnError, Sex};

/// Language of a user-facing error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// Korean (the default).
    #[default]
    Ko,
    /// English.
    En,
}

impl Lang {
    /// Picks the text for this language from a `(korean, english)` pair.
    pub(crate) fn pick(self, ko: &str, en: &str) -> String {
        match self {
            Lang::Ko => ko.to_owned(),
            Lang::En => en.to_owned(),
        }
    }
}
