//! Argon2id password hashing at the OWASP parameters, with re-hash detection.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use rand::rngs::OsRng;

use crate::VaultError;

/// Outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordCheck {
    pub ok: bool,
    /// The stored hash was made with other parameters; store a fresh hash after a good login.
    pub needs_rehash: bool,
}

/// Hashes and verifies passwords with one set of Argon2id parameters.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: Params,
    /// A hash of a random password, verified against when the login ID is unknown so that
    /// both answers take the same time.
    decoy: String,
}

impl PasswordHasher {
    /// OWASP's recommendation for Argon2id: m = 19456 KiB, t = 2, p = 1.
    pub const OWASP: (u32, u32, u32) = (19_456, 2, 1);

    pub fn owasp() -> Result<Self, VaultError> {
        let (m, t, p) = Self::OWASP;
        Self::with_params(m, t, p)
    }

    pub fn with_params(m_kib: u32, t: u32, p: u32) -> Result<Self, VaultError> {
        let params =
            Params::new(m_kib, t, p, None).map_err(|e| VaultError::Password(e.to_string()))?;
        let mut hasher = Self {
            params,
            decoy: String::new(),
        };
        let mut random = [0u8; 24];
        OsRng.fill_bytes(&mut random);
        hasher.decoy = hasher.hash(&hex::encode(random))?;
        Ok(hasher)
    }

    fn argon(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) with a fresh 128-bit salt.
    pub fn hash(&self, password: &str) -> Result<String, VaultError> {
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        let salt =
            SaltString::encode_b64(&salt).map_err(|e| VaultError::Password(e.to_string()))?;
        self.argon()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| VaultError::Password(e.to_string()))
    }

    pub fn verify(&self, password: &str, stored: &str) -> PasswordCheck {
        let Ok(parsed) = PasswordHash::new(stored) else {
            return PasswordCheck {
                ok: false,
                needs_rehash: true,
            };
        };
        let ok = self
            .argon()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        let same_params = parsed.algorithm == argon2::ARGON2ID_IDENT
            && Params::try_from(&parsed).is_ok_and(|p| {
                p.m_cost() == self.params.m_cost()
                    && p.t_cost() == self.params.t_cost()
                    && p.p_cost() == self.params.p_cost()
            });
        PasswordCheck {
            ok,
            needs_rehash: ok && !same_params,
        }
    }

    /// Spends the time of one verification and answers "no": for unknown login IDs.
    pub fn verify_decoy(&self, password: &str) -> PasswordCheck {
        let _ = self.verify(password, &self.decoy);
        PasswordCheck {
            ok: false,
            needs_rehash: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owasp_hash_verifies_and_records_parameters() {
        let h = PasswordHasher::owasp().unwrap();
        let stored = h.hash("correct horse 42").unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(
            h.verify("correct horse 42", &stored),
            PasswordCheck {
                ok: true,
                needs_rehash: false
            }
        );
        assert!(!h.verify("correct horse 43", &stored).ok);
        assert!(!h.verify_decoy("correct horse 42").ok);
        assert!(!h.verify("x", "not a phc string").ok);
    }

    #[test]
    fn changed_parameters_ask_for_rehash_only_after_a_good_password() {
        let old = PasswordHasher::with_params(8192, 1, 1).unwrap();
        let stored = old.hash("pass word 1").unwrap();
        let new = PasswordHasher::with_params(9216, 2, 1).unwrap();
        assert_eq!(
            new.verify("pass word 1", &stored),
            PasswordCheck {
                ok: true,
                needs_rehash: true
            }
        );
        assert_eq!(
            new.verify("wrong", &stored),
            PasswordCheck {
                ok: false,
                needs_rehash: false
            }
        );
    }
}
