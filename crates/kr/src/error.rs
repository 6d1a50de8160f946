//! What all error types of this crate have in common.
//!
//! Each module has its own error enum ([`RrnError`], [`PhoneError`], ...). Every
//! enum has inherent `code()` and `message()` methods, and implements
//! [`ValidationError`] so that callers can treat them alike. [`KrError`] wraps
//! any of them for functions that validate several fields.

use crate::{CiError, DiError, EmailError, Lang, NameError, PhoneError, PostalError, RrnError};

/// A validation failure with a stable machine-readable code and a localised text.
pub trait ValidationError: std::error::Error {
    /// Stable machine id such as `"rrn.date"`; safe to log and to match on.
    fn code(&self) -> &'static str;

    /// User-facing text naming the violated rule. Never contains the input.
    fn message(&self, lang: Lang) -> String;
}

/// Implements [`ValidationError`] by delegating to the inherent methods.
macro_rules! impl_validation_error {
    ($($ty:ty),* $(,)?) => {$(
        impl ValidationError for $ty {
            fn code(&self) -> &'static str {
                <$ty>::code(self)
            }

            fn message(&self, lang: Lang) -> String {
                <$ty>::message(self, lang)
            }
        }
    )*};
}

impl_validation_error!(
    RrnError,
    PhoneError,
    PostalError,
    EmailError,
    NameError,
    CiError,
    DiError,
);

/// Any validation error of this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KrError {
    /// See [`RrnError`].
    #[error(transparent)]
    Rrn(#[from] RrnError),
    /// See [`PhoneError`].
    #[error(transparent)]
    Phone(#[from] PhoneError),
    /// See [`PostalError`].
    #[error(transparent)]
    Postal(#[from] PostalError),
    /// See [`EmailError`].
    #[error(transparent)]
    Email(#[from] EmailError),
    /// See [`NameError`].
    #[error(transparent)]
    Name(#[from] NameError),
    /// See [`CiError`].
    #[error(transparent)]
    Ci(#[from] CiError),
    /// See [`DiError`].
    #[error(transparent)]
    Di(#[from] DiError),
}

impl KrError {
    fn inner(&self) -> &dyn ValidationError {
        match self {
            KrError::Rrn(e) => e,
            KrError::Phone(e) => e,
            KrError::Postal(e) => e,
            KrError::Email(e) => e,
            KrError::Name(e) => e,
            KrError::Ci(e) => e,
            KrError::Di(e) => e,
        }
    }

    /// Stable machine id of the wrapped error.
    pub fn code(&self) -> &'static str {
        self.inner().code()
    }

    /// User-facing text of the wrapped error.
    pub fn message(&self, lang: Lang) -> String {
        self.inner().message(lang)
    }
}

impl_validation_error!(KrError);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kr_error_delegates_code_message_and_display() {
        let err = KrError::from(PostalError::OldFormat);
        assert_eq!(err.code(), "postal.old_format");
        assert_eq!(
            err.message(Lang::En),
            PostalError::OldFormat.message(Lang::En)
        );
        assert_eq!(err.to_string(), PostalError::OldFormat.to_string());
        let as_trait: &dyn ValidationError = &err;
        assert_eq!(as_trait.code(), "postal.old_format");
    }
}
