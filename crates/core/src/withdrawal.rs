//! Leaving: sessions end, the statutory records move (sealed, minimal) to the retention store,
//! the member's key and rows are destroyed, and a destruction record without personal data stays.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use jikimi_store::{AuditEntry, DestructionRecord, RetainedRecord, StoreError, Withdrawal};
use rand::Rng;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::jobs::{Backoff, Job, JobError, RetryPolicy};
use crate::members::LOGIN_ITEM;
use crate::{Actor, CoreError, Jikimi, Result};

const RECEIPT_DOMAIN: &str = "withdrawal_receipt";
/// Crockford's base-32 alphabet: no I, L, O or U to misread.
const RECEIPT_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// What the former member is given once, at withdrawal.
#[derive(Clone, Serialize)]
pub struct WithdrawalReceipt {
    /// Shown once; only its keyed digest is stored. With it the former member can see what is
    /// kept about them (S12) without an account.
    pub code: String,
    pub withdrawn_at: DateTime<Utc>,
    pub retained: Vec<RetainedSummary>,
}

impl std::fmt::Debug for WithdrawalReceipt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WithdrawalReceipt")
            .field("withdrawn_at", &self.withdrawn_at)
            .field("retained", &self.retained)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RetainedSummary {
    pub class: String,
    pub expires_on: NaiveDate,
}

/// A retained record opened for its data subject.
#[derive(Clone, Serialize)]
pub struct RetainedView {
    pub class: String,
    pub expires_on: NaiveDate,
    /// Kept past `expires_on` under a legal hold.
    pub held: bool,
    pub content: serde_json::Value,
}

impl std::fmt::Debug for RetainedView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RetainedView({}, {})", self.class, self.expires_on)
    }
}

/// The content of a retained record: the minimum the law names — the record and basic information.
#[derive(Serialize, Deserialize)]
struct RecordContent {
    class: String,
    member_since: DateTime<Utc>,
    withdrawn_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    login_id: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    items: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    consents: Vec<ConsentRecord>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ConsentRecord {
    category: String,
    granted: bool,
    at: DateTime<Utc>,
    policy_version: String,
}

/// `JKM-XXXX-XXXX-XXXX-XXXX` (a withdrawal; `JKC-…` a complaint): 80 random bits.
pub(crate) fn receipt_code(prefix: &str) -> String {
    let mut rng = rand::rngs::OsRng;
    let groups: Vec<String> = (0..4)
        .map(|_| {
            (0..4)
                .map(|_| RECEIPT_ALPHABET[rng.gen_range(0..RECEIPT_ALPHABET.len())] as char)
                .collect()
        })
        .collect();
    format!("{prefix}-{}", groups.join("-"))
}

/// The keyed digest a receipt code is found by (withdrawal and complaint receipts alike).
pub(crate) fn receipt_index(j: &Jikimi, code: &str) -> Vec<u8> {
    j.digest(RECEIPT_DOMAIN, &normalize_receipt(code))
}

fn normalize_receipt(code: &str) -> String {
    code.trim().to_uppercase().replace(' ', "")
}

impl Jikimi {
    /// What a withdrawal would destroy at once, as item ids: every item the member holds except
    /// those a withdrawal record keeps a copy of (listed as kept, with their period). Linking
    /// values are left out of the list shown to members.
    pub async fn destroyed_at_withdrawal(&self, member: Uuid) -> Result<Vec<String>> {
        let policy = self.policy().clone();
        let kept: Vec<&str> = policy
            .retention
            .iter()
            .filter(|c| c.withdrawal_record)
            .flat_map(|c| c.keeps.iter().map(String::as_str))
            .collect();
        Ok(self
            .held_item_ids(member)
            .await?
            .into_iter()
            .filter(|id| !kept.contains(&id.as_str()))
            .filter(|id| {
                policy
                    .item(id)
                    .is_some_and(|i| !crate::validate::never_shown(i.kind))
            })
            .collect())
    }

    /// Withdraws a member (DESIGN invariant 6). In one data transaction: the retained records
    /// are written sealed under their retention bucket keys, every live row is deleted, and a
    /// destruction record and audit entry are written; then the member key is destroyed, which
    /// makes every copy of the member's data (backups included) unreadable. A `keys.destroy` job
    /// in the same transaction retries the key destruction if this process dies in between.
    pub async fn withdraw(
        &self,
        actor: &Actor,
        member: Uuid,
        channel: &str,
    ) -> Result<WithdrawalReceipt> {
        self.withdraw_with(actor, member, channel, None, Vec::new())
            .await
    }

    /// [`Jikimi::withdraw`], closing the office request it answers (`request`, with its audit
    /// entries) in the same data transaction.
    pub(crate) async fn withdraw_with(
        &self,
        actor: &Actor,
        member: Uuid,
        channel: &str,
        request: Option<jikimi_store::RequestWrite>,
        request_audit: Vec<AuditEntry>,
    ) -> Result<WithdrawalReceipt> {
        self.guardian_may_act(actor, member).await?;
        let now = self.clock().now();
        let today = self.clock().today_kst();
        let policy = self.policy().clone();
        let Some(row) = self.store().member(member).await? else {
            return Err(CoreError::NotFound("member"));
        };
        let key = self.member_key(member).await?;
        let owner = member.to_string();
        let login = key.open_str(&owner, LOGIN_ITEM, &row.login_sealed)?;
        let items = self.store().items(member, None).await?;
        let consents = self.store().consent_events(member).await?;

        let code = receipt_code("JKM");
        let receipt_index = receipt_index(self, &code);
        let mut retained = Vec::new();
        let mut summary = Vec::new();
        for class in policy.retention.iter().filter(|c| c.withdrawal_record) {
            let Some(expires_on) = class.period.expires_on(today) else {
                continue;
            };
            let mut kept = BTreeMap::new();
            for item in items.iter().filter(|i| class.keeps.contains(&i.item_id)) {
                let v = key.open_str(&owner, &item.item_id, &item.sealed)?;
                kept.insert(item.item_id.clone(), v.expose().to_owned());
            }
            let content = RecordContent {
                class: class.id.clone(),
                member_since: row.created_at,
                withdrawn_at: now,
                login_id: class
                    .keeps
                    .iter()
                    .any(|k| k == "login_id")
                    .then(|| login.expose().to_owned()),
                items: kept,
                consents: consents
                    .iter()
                    .filter(|_| class.keeps.iter().any(|k| k == "consent_history"))
                    .map(|c| ConsentRecord {
                        category: c.category.clone(),
                        granted: c.granted,
                        at: c.at,
                        policy_version: c.policy_version.clone(),
                    })
                    .collect(),
            };
            let plain = zeroize::Zeroizing::new(
                serde_json::to_vec(&content)
                    .map_err(|e| CoreError::Setup(format!("retained record: {e}")))?,
            );
            let (bucket, rkey) = self.keyring().retention_key(&class.id, expires_on).await?;
            // Time-ordered (UUIDv7, from the record's creation time): a bucket's records were all
            // written on one day, so they lie together in the id index too and a purge deletes
            // a run of it, not entries scattered over it (bench/README.md, "Purge").
            let id = Uuid::new_v7(uuid::Timestamp::from_unix(
                uuid::NoContext,
                u64::try_from(now.timestamp()).unwrap_or_default(),
                now.timestamp_subsec_nanos(),
            ));
            retained.push(RetainedRecord {
                id,
                class: class.id.clone(),
                bucket,
                key_id: rkey.id().to_string(),
                expires_on,
                receipt_index: receipt_index.clone(),
                sealed: rkey.seal(&id.to_string(), &class.id, &plain)?,
                created_at: now,
                hold_reason: None,
            });
            summary.push(RetainedSummary {
                class: class.id.clone(),
                expires_on,
            });
        }

        // The payment records of the member's orders stay for their own period (the last one
        // is named), filed under this receipt by the withdrawal's transaction.
        let last_payment_record = self
            .store()
            .member_payment_records(member)
            .await?
            .into_iter()
            .map(|(_, day)| day)
            .max();
        if let (Some(class), Some(expires_on)) = (
            policy.retention_class(crate::payments::PAYMENT_CLASS),
            last_payment_record,
        ) {
            summary.push(RetainedSummary {
                class: class.id.clone(),
                expires_on,
            });
        }

        // The withdrawal receipt by mail: read before the key goes, sealed under its own key.
        let to = match items.iter().find(|i| i.item_id == crate::mail::EMAIL_ITEM) {
            Some(i) if self.sends_notices() => Some(
                key.open_str(&owner, &i.item_id, &i.sealed)?
                    .expose()
                    .to_owned(),
            ),
            _ => None,
        };
        let kept = summary
            .iter()
            .filter_map(|s| {
                let class = policy.retention.iter().find(|c| c.id == s.class)?;
                Some((class.label.clone(), s.expires_on))
            })
            .collect();
        let (mail_jobs, mail_audit) = self
            .notice(
                actor,
                member,
                to.as_deref(),
                &crate::mail::Content::Withdrawal {
                    at: now,
                    code: code.clone(),
                    kept,
                },
            )
            .await?;

        // Prize delivery items go with the member: their entries' own keys after the commit.
        let (prizes, prize_destruction) = self.prizes_leaving(actor, member, now).await?;
        // So does the record of a guardian's consent (a child member, issue 16).
        let (guardians, guardian_destruction) = self.guardian_leaving(actor, member, now).await?;
        let destroyed_items = items.len() as i64 + 1; // the items plus the login ID
        let destruction = DestructionRecord {
            id: Uuid::new_v4(),
            at: now,
            event: "withdrawal".into(),
            class: "membership".into(),
            period: "until_withdrawal".into(),
            count: destroyed_items,
            method: "key_destruction".into(),
            actor: actor.audit_name(),
            run_id: None,
        };
        let entry = AuditEntry {
            at: now,
            actor: actor.audit_name(),
            origin: None,
            action: "member.withdraw".into(),
            member_id: Some(member),
            items: items.iter().map(|i| i.item_id.clone()).collect(),
            purpose: None,
            outcome: "ok".into(),
            detail: serde_json::json!({
                "channel": channel,
                "retained": summary.iter().map(|s| &s.class).collect::<Vec<_>>(),
                "destruction": destruction.id,
            }),
        };
        self.store()
            .withdraw(Withdrawal {
                member_id: member,
                at: now,
                retained,
                receipt_index,
                destruction: std::iter::once(destruction)
                    .chain(prize_destruction)
                    .chain(guardian_destruction)
                    .collect(),
                audit: std::iter::once(entry)
                    .chain(request_audit)
                    .chain(mail_audit)
                    .collect(),
                jobs: std::iter::once(KeysDestroy::new_job(&MemberKey { member_id: member }, now)?)
                    .chain(mail_jobs)
                    // S9: every partner that received the member's data is told.
                    .chain(self.follow_job(member, crate::partners::WITHDRAWAL, &[], None)?)
                    .collect(),
                request,
            })
            .await
            .map_err(|e| match e {
                StoreError::NotFound(w) => CoreError::NotFound(w),
                StoreError::Conflict(c) => CoreError::Conflict(c),
                other => CoreError::Store(other),
            })?;
        // The data is gone from the live store; now the key, and with it every copy.
        if let Err(e) = self.keyring().destroy_member_key(member).await {
            tracing::error!(member = %member, error = %e, "member key destruction failed; the keys.destroy job will retry");
        }
        if !prizes.is_empty()
            && let Err(e) = self.keyring().destroy_prize_keys(&prizes).await
        {
            tracing::error!(member = %member, error = %e, "prize key destruction failed; the purge's sweep destroys them");
        }
        if !guardians.is_empty()
            && let Err(e) = self
                .keyring()
                .destroy_own_keys(crate::keyring::GUARDIAN_PREFIX, &guardians)
                .await
        {
            tracing::error!(member = %member, error = %e, "guardian key destruction failed; the purge's sweep destroys them");
        }
        tracing::info!(member = %member, "member withdrew");
        Ok(WithdrawalReceipt {
            code,
            withdrawn_at: now,
            retained: summary,
        })
    }

    /// What is kept about a former member, opened with their withdrawal receipt (S12).
    pub async fn retained_for_receipt(&self, code: &str) -> Result<Vec<RetainedView>> {
        self.open_retained(code).await
    }

    /// [`Jikimi::retained_for_receipt`] for a receipt typed in by a client: look-ups are limited
    /// per client and per receipt code, so codes cannot be found by trying ([`crate::limits`]).
    /// (Opening again the receipt a page already holds in its sealed cookie needs no limit.)
    pub async fn retained_for_receipt_from(
        &self,
        client: crate::Client,
        code: &str,
    ) -> Result<Vec<RetainedView>> {
        self.limit_receipt_lookup(client, code).await?;
        self.open_retained(code).await
    }

    /// Counts a receipt look-up by `client` against the limits per client and per receipt code,
    /// refusing it ([`CoreError::RateLimited`]) past them. For a page that looks up later, from
    /// the sealed cookie it sets once the look-up was allowed.
    pub async fn limit_receipt_lookup(&self, client: crate::Client, code: &str) -> Result<()> {
        let limits = self.limits().clone();
        let receipt = normalize_receipt(code);
        self.limit_both(
            crate::Action::ReceiptLookup,
            client,
            limits.receipt_lookup_per_client,
            &[(&receipt, limits.receipt_lookup_per_code)],
        )
        .await
    }

    async fn open_retained(&self, code: &str) -> Result<Vec<RetainedView>> {
        let index = receipt_index(self, code);
        let rows = self.store().retained_by_receipt(&index).await?;
        let today = self.clock().today_kst();
        let mut out = Vec::with_capacity(rows.len());
        // A record past its expiry is no longer kept for any purpose, not even this one, unless
        // a legal hold keeps it (and then its subject may see it).
        for r in rows
            .iter()
            .filter(|r| r.expires_on >= today || r.hold_reason.is_some())
        {
            let Some(key) = self
                .keyring()
                .retention_key_by_bucket(&r.class, &r.bucket)
                .await?
            else {
                continue; // the bucket was destroyed: the record is gone
            };
            let plain = key.open(&r.id.to_string(), &r.class, &r.sealed)?;
            let content: serde_json::Value = serde_json::from_slice(&plain)
                .map_err(|e| CoreError::Setup(format!("retained record: {e}")))?;
            out.push(RetainedView {
                class: r.class.clone(),
                expires_on: r.expires_on,
                held: r.hold_reason.is_some(),
                content,
            });
        }
        self.store()
            .append_audit(vec![AuditEntry {
                at: self.clock().now(),
                actor: Actor::FormerMember.audit_name(),
                origin: None,
                action: "retention.view".into(),
                member_id: None,
                items: out.iter().map(|v| v.class.clone()).collect(),
                purpose: Some(crate::SUBJECT_ACCESS.into()),
                outcome: if out.is_empty() { "denied" } else { "ok" }.into(),
                detail: serde_json::Value::Null,
            }])
            .await?;
        if out.is_empty() {
            return Err(CoreError::NotFound("retained records for this receipt"));
        }
        Ok(out)
    }

    /// Deletes expired sessions and expired identity-verification results (returns how many),
    /// and the abuse-limit counters and login locks whose windows are over ([`crate::limits`]).
    pub async fn housekeeping(&self) -> Result<u64> {
        let now = self.clock().now();
        let sessions = self
            .store()
            .purge_expired(now, self.settings().session_idle)
            .await?;
        let limits = self
            .store()
            .purge_limits(now, self.settings().failure_window)
            .await?;
        tracing::debug!(rows = limits, "abuse-limit counters swept");
        Ok(sessions)
    }
}

/// `keys.destroy`: destroys a withdrawn member's key. Written in the withdrawal's transaction, so
/// a withdrawal whose key destruction failed (or whose process died right after the commit) is
/// finished here. Refuses while the member exists: a key is never destroyed under live data.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeysDestroy;

/// The payload of [`KeysDestroy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberKey {
    pub member_id: Uuid,
}

impl Job for KeysDestroy {
    const KIND: &'static str = "keys.destroy";
    type Payload = MemberKey;

    /// A minute, doubling to an hour, for about a day. Should it give up, the orphan-key sweep
    /// (hourly, and in every purge) still destroys a key that has no member.
    fn retry(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: 30,
            backoff: Backoff::Exponential {
                first: chrono::Duration::minutes(1),
                max: chrono::Duration::hours(1),
            },
            lease: chrono::Duration::minutes(30),
        }
    }

    async fn run(&self, app: &Jikimi, p: MemberKey) -> std::result::Result<(), JobError> {
        if app.store().member(p.member_id).await?.is_some() {
            return Err(JobError::GiveUp("member still exists; key kept".into()));
        }
        app.keyring().destroy_member_key(p.member_id).await?;
        Ok(())
    }
}
