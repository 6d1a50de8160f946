use jikimi_policy::Lang;

/// One field's problem: which field, which rule, and the message in both languages.
/// Messages never contain the submitted value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub ko: String,
    pub en: String,
}

impl FieldError {
    pub fn new(field: &str, code: &str, ko: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            code: code.to_owned(),
            ko: ko.into(),
            en: en.into(),
        }
    }

    pub fn message(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ko => &self.ko,
            Lang::En => &self.en,
        }
    }
}

/// Errors of the domain. Display texts name ids and rules, never personal values.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("invalid input: {}", .0.iter().map(|e| format!("{} ({})", e.field, e.code)).collect::<Vec<_>>().join(", "))]
    Invalid(Vec<FieldError>),
    /// The person already has an account (same login ID, e-mail, CI/DI or RRN).
    #[error("already a member (matched on {field})")]
    AlreadyMember {
        field: String,
        /// The existing account's login ID, masked, when it can be shown.
        masked_login: Option<String>,
    },
    /// Under the policy's child age: the guardian flow must run first. Nothing was stored.
    #[error("the applicant is under {age}; a legal guardian's consent is needed")]
    ChildNeedsGuardian { age: u32 },
    /// The single policy agreement (동의함) was not given. Nothing was stored.
    #[error("the privacy policy was not agreed to")]
    AgreementDeclined,
    #[error("purpose {purpose:?} is not allowed for item {item:?} ({reason})")]
    PurposeDenied {
        item: String,
        purpose: String,
        reason: &'static str,
    },
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// The request contradicts the current state (for example releasing a hold that is not in
    /// force).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The staff account's role does not have this power (least privilege, R-ACC-01).
    #[error("this staff role may not use {0}")]
    Forbidden(&'static str),
    #[error("wrong login ID or password")]
    BadCredentials,
    /// Showing this needs the password within the last few minutes (sensitive items, or all of
    /// one's data at once).
    #[error("the password must be entered again first")]
    ReauthRequired,
    /// A linking value (CI, DI): never shown to anyone.
    #[error("item {0:?} is never shown")]
    NeverShown(String),
    /// Too many failed logins for this login ID; try again after `retry_after` seconds.
    #[error("too many failed logins; try again in {retry_after} seconds")]
    TooManyAttempts { retry_after: i64 },
    /// An abuse limit ([`crate::limits`]): too many requests of `action` from this client or for
    /// this target; nothing was done. Try again after `retry_after` seconds.
    #[error("too many {action} requests; try again in {retry_after} seconds")]
    RateLimited {
        action: crate::limits::Action,
        retry_after: i64,
    },
    /// An outside service (the 본인확인 or payment provider) could not be reached, refused our
    /// credentials or answered something unreadable; nothing was done. The cause is logged.
    #[error("an outside service is unavailable: {0}")]
    Unavailable(&'static str),
    /// The identity verification failed or expired.
    #[error("identity verification failed: {0}")]
    Identity(&'static str),
    #[error(
        "the master key does not match the key store (key store expects fingerprint {expected}, the key given has {given}); start with the key this data was created with"
    )]
    MasterKeyMismatch { expected: String, given: String },
    #[error("{0}")]
    Setup(String),
    #[error("member key missing for an active member; refusing to continue")]
    KeyMissing,
    #[error(transparent)]
    Store(#[from] jikimi_store::StoreError),
    #[error(transparent)]
    Vault(#[from] jikimi_vault::VaultError),
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl CoreError {
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.display().to_string(),
            source,
        }
    }

    pub fn field(field: &str, code: &str, ko: impl Into<String>, en: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, code, ko, en)])
    }
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;
