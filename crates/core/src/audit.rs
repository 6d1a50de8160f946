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

/// Where the anchor lives: in the key store, apart from the data, so whoever can rewrite the data
/// file cannot also move the anchor back.
const ANCHOR: &str = "audit_anchor";

impl Jikimi {
    /// Records the chain's current head (sequence and hash) in the key store. Rows up to the
    /// anchor can then not be cut off the end of the chain unnoticed. Runs in the background loop
    /// and at every verification; the anchor only moves forward.
    pub async fn anchor_audit(&self) -> Result<Option<i64>> {
        let Some(head) = self.store().audit_head().await? else {
            return Ok(None);
        };
        let keys = self.keyring().key_store();
        let value = format!("{}:{}", head.seq, hex::encode(&head.hash));
        // Instances anchor concurrently: the anchor only moves forward (compare and set, retried
        // while another instance moved it, until it is at or past this head).
        loop {
            let stored = keys.meta(ANCHOR).await?;
            let current = stored.as_deref().and_then(parse_anchor);
            if current.is_some_and(|(seq, _)| seq >= head.seq) {
                break;
            }
            if keys.replace_meta(ANCHOR, stored.as_deref(), &value).await? {
                break;
            }
        }
        Ok(Some(head.seq))
    }

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
        // The chain must still reach the anchored head, with the anchored hash.
        let keys = self.keyring().key_store();
        if let Some((seq, hash)) = keys.meta(ANCHOR).await?.and_then(|v| parse_anchor(&v)) {
            let at = self.store().audit_rows(seq - 1, 1).await?;
            match at.first() {
                Some(row) if row.seq == seq && row.hash == hash => {}
                Some(_) => problems.push(AuditProblem {
                    seq,
                    reason: "the anchored row was replaced",
                }),
                None => problems.push(AuditProblem {
                    seq,
                    reason: "rows up to the anchored head are missing (the chain was cut short)",
                }),
            }
        }
        if problems.is_empty() {
            self.anchor_audit().await?;
        }
        Ok(AuditReport { rows, problems })
    }
}

fn parse_anchor(v: &str) -> Option<(i64, Vec<u8>)> {
    let (seq, hash) = v.split_once(':')?;
    Some((seq.parse().ok()?, hex::decode(hash).ok()?))
}
