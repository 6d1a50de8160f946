use std::fmt;

use zeroize::Zeroizing;

/// A personal value opened from its seal. `Debug` is redacted and there is no `Display`,
/// so it cannot reach a log line or an error message by accident; the text is zeroised on drop.
/// Read it only with [`Revealed::expose`], where it is deliberately shown or re-sealed.
#[derive(Clone, PartialEq, Eq)]
pub struct Revealed(Zeroizing<String>);

impl Revealed {
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Revealed {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for Revealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Revealed(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let v = Revealed::new("홍길동".into());
        assert_eq!(format!("{v:?}"), "Revealed(<redacted>)");
        assert_eq!(v.expose(), "홍길동");
    }
}
