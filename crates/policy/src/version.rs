//! The policy version: SHA-256 of the canonical form.

use std::fmt;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::Policy;

/// Version of a policy: lowercase hex SHA-256 of its canonical form (canonical JSON of the
/// model: object keys sorted, no insignificant whitespace, arrays in declared order).
/// Consent records refer to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct PolicyVersion(String);

impl PolicyVersion {
    /// Full 64-digit hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// First 12 hex digits, for display.
    pub fn short(&self) -> &str {
        self.0.get(..12).unwrap_or(&self.0)
    }

    pub(crate) fn of(policy: &Policy) -> Result<PolicyVersion, serde_json::Error> {
        let value = serde_json::to_value(policy)?;
        let mut out = String::new();
        write_canonical(&value, &mut out)?;
        Ok(PolicyVersion(hex::encode(Sha256::digest(out.as_bytes()))))
    }
}

impl fmt::Display for PolicyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for PolicyVersion {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Writes `value` as canonical JSON. Keys are sorted here explicitly, so the result does
/// not depend on whether serde_json's `preserve_order` feature is enabled somewhere in the
/// build.
fn write_canonical(value: &serde_json::Value, out: &mut String) -> Result<(), serde_json::Error> {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key)?);
                out.push(':');
                if let Some(v) = map.get(key) {
                    write_canonical(v, out)?;
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out)?;
            }
            out.push(']');
        }
        scalar => out.push_str(&serde_json::to_string(scalar)?),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_sorts_keys() {
        let v: serde_json::Value =
            serde_json::from_str(r#"{"b":1,"a":[{"d":"한","c":null}]}"#).unwrap();
        let mut s = String::new();
        write_canonical(&v, &mut s).unwrap();
        assert_eq!(s, r#"{"a":[{"c":null,"d":"한"}],"b":1}"#);
    }
}
