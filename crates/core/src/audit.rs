//! Verifying the audit chain.

use serde::Serialize;

use crate::{Jikimi, Result};

/// One row that does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditProblem {
    pub seq: i64,
    pub reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    pub rows: i64,
    pub problems: Vec<AuditProblem>,
}

impl AuditReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl Jikimi {
    /// Recomputes every link of the audit chain with the chain key. A changed row fails its own
    /// link; a deleted or re-ordered row breaks the sequence or the previous-hash link.
    pub async fn verify_audit(&self) -> Result<AuditReport> {
        let linker = crate::keyring::AuditLinker(self.keyring().chain_key().await?);
        let mut problems = Vec::new();
        let mut expected_seq = 1;
        let mut prev = vec![0u8; 32];
        let mut rows = 0;
        loop {
            let batch = self.store().audit_rows(expected_seq - 1, 1000).await?;
            if batch.is_empty() {
                break;
            }
            for row in batch {
                rows += 1;
                if row.seq != expected_seq {
                    problems.push(AuditProblem {
                        seq: row.seq,
                        reason: "sequence gap: rows before this one are missing",
                    });
                }
                if row.prev_hash != prev {
                    problems.push(AuditProblem {
                        seq: row.seq,
                        reason: "previous-hash link broken",
                    });
                }
                let link =
                    jikimi_store::ChainLinker::link(&linker, &row.prev_hash, &row.canonical_body());
                if link != row.hash {
                    problems.push(AuditProblem {
                        seq: row.seq,
                        reason: "row content does not match its hash (changed after it was written)",
                    });
                }
                prev = row.hash.clone();
                expected_seq = row.seq + 1;
            }
        }
        Ok(AuditReport { rows, problems })
    }
}
