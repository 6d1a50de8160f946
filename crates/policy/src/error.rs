//! Load errors and warnings.

use std::fmt;

use serde::Serialize;

/// One problem in a policy file, located by line, column and key path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// File name as given to the loader.
    pub file: String,
    /// 1-based line (0 if unknown).
    pub line: usize,
    /// 1-based column in characters (0 if unknown).
    pub column: usize,
    /// Key path, e.g. `item.rrn.purposes[1]` (empty if unknown).
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    /// `policies/x.toml:12:5: item.rrn.purposes[1]: unknown purpose "foo"`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The path.
        file: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, or a value has the wrong type, or a field is unknown
    /// or missing. Deserialisation stops at the first such problem.
    #[error("{0}")]
    Parse(Problem),
    /// The file parsed but breaks one or more rules; every problem found is reported,
    /// in file order.
    #[error("{}", ProblemList(.0))]
    Invalid(Vec<Problem>),
}

impl PolicyError {
    /// The located problems (empty for an I/O error).
    pub fn problems(&self) -> &[Problem] {
        match self {
            PolicyError::Io { .. } => &[],
            PolicyError::Parse(p) => std::slice::from_ref(p),
            PolicyError::Invalid(ps) => ps,
        }
    }
}

struct ProblemList<'a>(&'a [Problem]);

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// Something allowed but worth saying loudly (at start-up and in the admin console).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Stable code, e.g. `"pipa_24_2"`.
    pub code: &'static str,
    /// Key path it concerns.
    pub key: String,
    /// Explanation.
    pub message: String,
}

impl fmt::Display for Warning {
    /// `warning[pipa_24_2] item.rrn: …`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "warning[{}]", self.code)?;
        if !self.key.is_empty() {
            write!(f, " {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}
