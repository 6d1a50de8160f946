//! Verifying the audit chain, and its anchor in the key store.
//!
//! The anchor is the chain's head (sequence and hash) as last verified, kept in the key store
//! apart from the data and authenticated with a MAC under the chain key
//! (`mac1:<seq>:<hash hex>:<mac hex>`). Every key store gets one when it is created (the genesis
//! anchor, sequence 0), so an installation without an authentic anchor has lost it. The anchor
//! moves only forward, and only over rows whose links were verified from it: rows cut off the end
//! of the chain are never anchored over, and `serve` refuses to start on a chain that does not
//! verify from its anchor (ARCHITECTURE.md, "Audit chain").

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use jikimi_store::{AuditEntry, AuditRow, ChainLinker};
use jikimi_vault::ChainKey;
use serde::Serialize;

use crate::keyring::AuditLinker;
use crate::{Actor, CoreError, Jikimi, Result};

/// One row (or the anchor) that does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditProblem {
    pub seq: i64,
    pub reason: &'static str,
    /// The problem is the anchor's (in the key store), not a row's content.
    pub anchor: bool,
}

impl AuditProblem {
    fn row(seq: i64, reason: &'static str) -> Self {
        Self {
            seq,
            reason,
            anchor: false,
        }
    }

    fn anchor(seq: i64, reason: &'static str) -> Self {
        Self {
            seq,
            reason,
            anchor: true,
        }
    }
}

impl std::fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.anchor {
            write!(f, "audit anchor (row {}): {}", self.seq, self.reason)
        } else {
            write!(f, "audit row {}: {}", self.seq, self.reason)
        }
    }
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

/// What one anchoring step found: the head the anchor stands at afterwards, and the problems
/// that kept it from moving (none when the chain verified from the anchor to its head).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnchorReport {
    pub head: i64,
    pub problems: Vec<AuditProblem>,
}

impl AnchorReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What `jikimi audit re-anchor` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Reanchored {
    /// The anchor was authentic and the chain verified from it: it was only moved forward.
    AlreadyAnchored { head: i64 },
    /// A new authentic anchor at `head`, after an `audit.reanchor` row recording what it replaced.
    Anchored { previous: &'static str, head: i64 },
}

/// What this process knows of the chain while it runs: the highest anchor it has seen (an
/// older anchor put back into the key store is caught against it) and whether it found a break.
#[derive(Debug)]
pub(crate) struct AuditWatch {
    floor: AtomicI64,
    broken: AtomicBool,
}

impl Default for AuditWatch {
    fn default() -> Self {
        Self {
            floor: AtomicI64::new(-1),
            broken: AtomicBool::new(false),
        }
    }
}

impl AuditWatch {
    fn raise_floor(&self, seq: i64) {
        self.floor.fetch_max(seq, Ordering::SeqCst);
    }
}

/// Where the anchor lives: in the key store, apart from the data, so whoever can rewrite the data
/// cannot also move the anchor back.
pub(crate) const ANCHOR: &str = "audit_anchor";
/// The authenticated form's tag.
const ANCHOR_TAG: &str = "mac1";
/// Instances racing to move the anchor: rounds of compare-and-set before leaving it to the next
/// round (another instance is moving it forward meanwhile).
const ANCHOR_RACES: usize = 8;

/// The anchor as verified.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Anchor {
    seq: i64,
    hash: Vec<u8>,
}

/// The genesis anchor: no row yet, the hash the first row links to.
fn genesis() -> Anchor {
    Anchor {
        seq: 0,
        hash: vec![0u8; 32],
    }
}

/// The stored form of an anchor: tag, sequence, hash and MAC.
fn encode_anchor(key: &ChainKey, anchor: &Anchor) -> String {
    format!(
        "{ANCHOR_TAG}:{}:{}:{}",
        anchor.seq,
        hex::encode(&anchor.hash),
        hex::encode(key.anchor_mac(anchor.seq, &anchor.hash))
    )
}

/// The genesis anchor's stored form, written when a key store is created.
pub(crate) fn genesis_anchor(key: &ChainKey) -> String {
    encode_anchor(key, &genesis())
}

const NO_ANCHOR: &str = "the key store holds no audit anchor, yet every key store gets one when it is created: it was deleted (if this installation predates authenticated anchors, run `jikimi audit re-anchor`)";
const PLAIN_ANCHOR: &str = "the audit anchor is not authenticated (the old plain `seq:hash` form, or written without the chain key); if this installation predates authenticated anchors, run `jikimi audit re-anchor`";
const FORGED_ANCHOR: &str =
    "the audit anchor's MAC does not verify: it was not written by this service (forged)";
const BACKWARD_ANCHOR: &str = "the audit anchor moved backward: an older anchor was put back into the key store while this instance ran";
const CUT: &str =
    "the anchored row is missing: rows up to the anchored head were cut off the chain";
const REPLACED: &str = "the anchored row was replaced";
const GAP: &str = "sequence gap: rows before this one are missing";
const LINK: &str = "previous-hash link broken";
const CONTENT: &str = "row content does not match its hash (changed after it was written)";

/// The anchor as stored, authenticated, or the problem with it.
fn read_anchor(stored: Option<&str>, key: &ChainKey) -> std::result::Result<Anchor, AuditProblem> {
    let Some(v) = stored else {
        return Err(AuditProblem::anchor(0, NO_ANCHOR));
    };
    let parts: Vec<&str> = v.split(':').collect();
    let seq_of = |s: &str| s.parse::<i64>().ok().filter(|n| *n >= 0);
    match parts.as_slice() {
        [ANCHOR_TAG, seq, hash, mac] => {
            // Plain hex only (the decoder would also take a `0x` prefix, which is never written).
            let strict = |s: &str| {
                if hex::check_raw(s) {
                    hex::decode(s).ok()
                } else {
                    None
                }
            };
            let (Some(seq), Some(hash), Some(mac)) = (seq_of(seq), strict(hash), strict(mac))
            else {
                return Err(AuditProblem::anchor(0, FORGED_ANCHOR));
            };
            if key.anchor_mac_matches(seq, &hash, &mac) {
                Ok(Anchor { seq, hash })
            } else {
                Err(AuditProblem::anchor(seq, FORGED_ANCHOR))
            }
        }
        [ANCHOR_TAG, ..] => Err(AuditProblem::anchor(0, FORGED_ANCHOR)),
        [seq, _] => Err(AuditProblem::anchor(seq_of(seq).unwrap_or(0), PLAIN_ANCHOR)),
        _ => Err(AuditProblem::anchor(0, FORGED_ANCHOR)),
    }
}

/// Checks one row against the expected sequence and previous hash; returns its problems.
fn check_row(
    linker: &AuditLinker,
    row: &AuditRow,
    expected_seq: i64,
    prev: &[u8],
    problems: &mut Vec<AuditProblem>,
) {
    if row.seq != expected_seq {
        problems.push(AuditProblem::row(row.seq, GAP));
    }
    if row.prev_hash != prev {
        problems.push(AuditProblem::row(row.seq, LINK));
    }
    if linker.link(&row.prev_hash, &row.canonical_body()) != row.hash {
        problems.push(AuditProblem::row(row.seq, CONTENT));
    }
}

impl Jikimi {
    /// Whether this instance found the audit chain broken (while anchoring or verifying) since it
    /// started. It stays so until a restart, which then refuses to serve.
    pub fn audit_chain_broken(&self) -> bool {
        self.inner.audit.broken.load(Ordering::SeqCst)
    }

    fn audit_broken(&self, problems: &[AuditProblem]) {
        if problems.is_empty() {
            return;
        }
        self.inner.audit.broken.store(true, Ordering::SeqCst);
        let list = problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        tracing::error!(
            problems = %list,
            "the audit chain does not verify from its anchor: the anchor stays where it is; investigate with `jikimi audit verify`"
        );
    }

    /// Verifies the chain from the anchor to its head: the anchored row is there with the
    /// anchored hash (its own link included), and every row after it links to the one before.
    /// Returns the head verified (the anchor itself when no row follows).
    async fn verify_from(
        &self,
        linker: &AuditLinker,
        anchor: &Anchor,
        problems: &mut Vec<AuditProblem>,
    ) -> Result<Anchor> {
        if anchor.seq > 0 {
            let at = self.store().audit_rows(anchor.seq - 1, 1).await?;
            match at.first() {
                Some(row) if row.seq == anchor.seq => {
                    if row.hash != anchor.hash {
                        problems.push(AuditProblem::anchor(anchor.seq, REPLACED));
                    } else if linker.link(&row.prev_hash, &row.canonical_body()) != row.hash {
                        problems.push(AuditProblem::row(row.seq, CONTENT));
                    }
                }
                _ => problems.push(AuditProblem::anchor(anchor.seq, CUT)),
            }
            if !problems.is_empty() {
                return Ok(anchor.clone());
            }
        }
        let mut head = anchor.clone();
        loop {
            let batch = self.store().audit_rows(head.seq, 1000).await?;
            if batch.is_empty() {
                return Ok(head);
            }
            for row in batch {
                check_row(linker, &row, head.seq + 1, &head.hash, problems);
                head = Anchor {
                    seq: row.seq,
                    hash: row.hash,
                };
            }
        }
    }

    /// The anchoring step (every round of `serve`, at its start, and after a verification):
    /// authenticates the anchor, verifies every link from it to the chain's head, and only then
    /// moves it forward to that head (compare and set: instances anchor concurrently). A break
    /// is logged at ERROR, marks this instance's chain broken ([`Jikimi::audit_chain_broken`])
    /// and leaves the anchor where it is, so the gap stays visible. Errors are storage failures.
    pub async fn anchor_audit(&self) -> Result<AnchorReport> {
        let key = self.keyring().chain_key().await?;
        let linker = AuditLinker(key);
        let key = &linker.0;
        let keys = self.keyring().key_store();
        let mut head_seen = 0;
        for _ in 0..ANCHOR_RACES {
            let stored = keys.meta(ANCHOR).await?;
            let mut problems = Vec::new();
            let anchor = match read_anchor(stored.as_deref(), key) {
                Ok(a) => a,
                Err(p) => {
                    problems.push(p);
                    self.audit_broken(&problems);
                    return Ok(AnchorReport { head: 0, problems });
                }
            };
            if anchor.seq < self.inner.audit.floor.load(Ordering::SeqCst) {
                problems.push(AuditProblem::anchor(anchor.seq, BACKWARD_ANCHOR));
            }
            let head = self.verify_from(&linker, &anchor, &mut problems).await?;
            if !problems.is_empty() {
                self.audit_broken(&problems);
                return Ok(AnchorReport {
                    head: anchor.seq,
                    problems,
                });
            }
            self.inner.audit.raise_floor(anchor.seq);
            head_seen = head.seq;
            if head.seq == anchor.seq {
                return Ok(AnchorReport {
                    head: head.seq,
                    problems,
                });
            }
            if keys
                .replace_meta(ANCHOR, stored.as_deref(), &encode_anchor(key, &head))
                .await?
            {
                self.inner.audit.raise_floor(head.seq);
                return Ok(AnchorReport {
                    head: head.seq,
                    problems,
                });
            }
            // Another instance moved the anchor meanwhile: verify again from where it is now.
        }
        Ok(AnchorReport {
            head: head_seen,
            problems: Vec::new(),
        })
    }

    /// Every link from the first row, without regard to the anchor.
    async fn verify_links(&self, linker: &AuditLinker) -> Result<(i64, Vec<AuditProblem>)> {
        let mut problems = Vec::new();
        let mut prev = genesis();
        let mut rows = 0;
        loop {
            let batch = self.store().audit_rows(prev.seq, 1000).await?;
            if batch.is_empty() {
                return Ok((rows, problems));
            }
            for row in batch {
                rows += 1;
                check_row(linker, &row, prev.seq + 1, &prev.hash, &mut problems);
                prev = Anchor {
                    seq: row.seq,
                    hash: row.hash,
                };
            }
        }
    }

    /// Recomputes every link of the audit chain with the chain key, and checks the anchor: it is
    /// authentic, the chain still reaches the anchored row with the anchored hash, and it did not
    /// move backward while this instance ran. A changed row fails its own link; a deleted or
    /// re-ordered row breaks the sequence or the previous-hash link; a cut tail misses the
    /// anchored row. When everything verifies, the anchor moves to the head.
    pub async fn verify_audit(&self) -> Result<AuditReport> {
        let linker = AuditLinker(self.keyring().chain_key().await?);
        let (rows, mut problems) = self.verify_links(&linker).await?;
        let stored = self.keyring().key_store().meta(ANCHOR).await?;
        match read_anchor(stored.as_deref(), &linker.0) {
            Err(p) => problems.push(p),
            Ok(anchor) => {
                if anchor.seq < self.inner.audit.floor.load(Ordering::SeqCst) {
                    problems.push(AuditProblem::anchor(anchor.seq, BACKWARD_ANCHOR));
                }
                let mut at_anchor = Vec::new();
                self.verify_from(&linker, &anchor, &mut at_anchor).await?;
                // Row problems after the anchor are already named by the full pass.
                for p in at_anchor {
                    if p.anchor && !problems.contains(&p) {
                        problems.push(p);
                    }
                }
            }
        }
        if problems.is_empty() {
            problems = self.anchor_audit().await?.problems;
        } else {
            self.audit_broken(&problems);
        }
        Ok(AuditReport { rows, problems })
    }

    /// `jikimi audit re-anchor`: gives an installation an authentic anchor again, once every link
    /// of the chain verifies from its first row. For an installation older than authenticated
    /// anchors (plain or no anchor), and after an incident whose loss the operator accepts. An
    /// authentic anchor whose row is missing is replaced only with `accept_loss`. The re-anchoring
    /// is itself a row of the chain (`audit.reanchor`, saying what the anchor was).
    pub async fn reanchor_audit(&self, actor: &Actor, accept_loss: bool) -> Result<Reanchored> {
        let linker = AuditLinker(self.keyring().chain_key().await?);
        let (_, links) = self.verify_links(&linker).await?;
        if let Some(p) = links.first() {
            return Err(CoreError::Conflict(format!(
                "the audit chain's links do not verify ({p}, {} problems in all): re-anchoring would vouch for a changed chain; restore the database from a backup",
                links.len()
            )));
        }
        let keys = self.keyring().key_store();
        let stored = keys.meta(ANCHOR).await?;
        let (previous, previous_seq) = match read_anchor(stored.as_deref(), &linker.0) {
            Ok(anchor) => {
                let mut problems = Vec::new();
                self.verify_from(&linker, &anchor, &mut problems).await?;
                if problems.is_empty() {
                    let report = self.anchor_audit().await?;
                    return match report.problems.first() {
                        None => Ok(Reanchored::AlreadyAnchored { head: report.head }),
                        Some(p) => Err(CoreError::Conflict(p.to_string())),
                    };
                }
                if !accept_loss {
                    return Err(CoreError::Conflict(format!(
                        "the anchor is authentic and the chain does not reach it ({}): rows were lost. Restore the database from a backup; to go on without them, run `jikimi audit re-anchor --accept-loss` (recorded in the chain)",
                        problems
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("; ")
                    )));
                }
                ("authentic, chain cut short", Some(anchor.seq))
            }
            Err(p) if p.reason == NO_ANCHOR => ("missing", None),
            Err(p) if p.reason == PLAIN_ANCHOR => ("plain (unauthenticated)", Some(p.seq)),
            Err(p) => ("forged", Some(p.seq)),
        };
        self.store()
            .append_audit(vec![AuditEntry {
                at: self.clock().now(),
                actor: actor.audit_name(),
                origin: None,
                action: "audit.reanchor".into(),
                member_id: None,
                items: Vec::new(),
                purpose: None,
                outcome: "ok".into(),
                detail: serde_json::json!({ "previous": previous, "previous_seq": previous_seq }),
            }])
            .await?;
        let (_, links) = self.verify_links(&linker).await?;
        let head = match self.store().audit_head().await? {
            Some(row) if links.is_empty() => Anchor {
                seq: row.seq,
                hash: row.hash,
            },
            _ => {
                return Err(CoreError::Conflict(
                    "the audit chain changed while it was re-anchored; run it again".into(),
                ));
            }
        };
        if !keys
            .replace_meta(ANCHOR, stored.as_deref(), &encode_anchor(&linker.0, &head))
            .await?
        {
            return Err(CoreError::Conflict(
                "the audit anchor changed while it was re-anchored; run it again".into(),
            ));
        }
        self.inner.audit.raise_floor(head.seq);
        tracing::warn!(previous, head = head.seq, "the audit chain was re-anchored");
        Ok(Reanchored::Anchored {
            previous,
            head: head.seq,
        })
    }
}
