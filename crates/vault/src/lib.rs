#![doc = include_str!("../README.md")]

mod keys;
mod mask;
mod password;
mod secret;

pub use keys::{
    BlindIndexKey, ChainKey, DataKey, KeyId, MasterKey, Opener, SEAL_VERSION, WrappedKey,
    sealed_key_id,
};
pub use mask::{mask_address, mask_email, mask_generic, mask_name, mask_phone_display, mask_rrn};
pub use password::{HashPool, PasswordCheck, PasswordHasher};
pub use secret::Revealed;

/// What can go wrong in the vault. No variant carries key material or plaintext.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("the master key text is not valid ({0})")]
    BadKeyText(&'static str),
    #[error("a wrapped key could not be opened: wrong master key or damaged key record")]
    Unwrap,
    #[error(
        "a sealed value could not be opened: wrong key, wrong owner/item binding or damaged data"
    )]
    Open,
    #[error("a sealed value is malformed ({0})")]
    Malformed(&'static str),
    #[error("sealed with key {found}, but key {expected} was given")]
    WrongKey { expected: KeyId, found: KeyId },
    #[error("encryption failed")]
    Seal,
    #[error("password hashing failed: {0}")]
    Password(String),
}
