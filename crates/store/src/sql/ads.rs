//! Advertising campaigns (issue 17, R-MKT-01..03): the office's campaigns and each send, per
//! member, without the content.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{AdCampaignRow, AdSendRow, AuditEntry, DestructionRecord, NewJob, Result};

/// Campaigns and sends (part of [`Store`](crate::Store)).
#[async_trait]
pub trait AdStore: Send + Sync {
    /// Writes a campaign with its first page's job and `audit`, in one transaction.
    async fn insert_ad_campaign(
        &self,
        row: AdCampaignRow,
        job: NewJob,
        audit: Vec<AuditEntry>,
    ) -> Result<()>;
    async fn ad_campaign(&self, id: Uuid) -> Result<Option<AdCampaignRow>>;
    /// Every campaign, the latest first, with how many members it was sent to.
    async fn ad_campaigns(&self) -> Result<Vec<(AdCampaignRow, i64)>>;
    /// Writes one page of a campaign once: `marker` (the next page's job, whose id is the
    /// page's), the messages' `jobs`, the `sends` and `audit`, in one transaction; `false`
    /// (nothing written) when the page was written before.
    async fn write_ad_page(
        &self,
        marker: NewJob,
        jobs: Vec<NewJob>,
        sends: Vec<AdSendRow>,
        audit: Vec<AuditEntry>,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// Per campaign with sends, when its last message was queued.
    async fn ad_last_queued(&self) -> Result<Vec<(Uuid, DateTime<Utc>)>>;
    /// Destroys the campaigns `ids` (their texts) with their sends, in one transaction with the
    /// destruction record (its count: the campaigns destroyed) and `audit`. Returns how many.
    async fn destroy_ad_campaigns(
        &self,
        ids: &[Uuid],
        destruction: &DestructionRecord,
        audit: Vec<AuditEntry>,
    ) -> Result<u64>;
}

/// Expands `impl AdStore for $store`. Needs `BEGIN`, `Tx`, `append_audit_tx`, `insert_jobs_tx`
/// and `insert_destruction_tx`.
macro_rules! ad_sql {
    ($store:ident) => {
        #[async_trait::async_trait]
        impl $crate::AdStore for $store {
            async fn insert_ad_campaign(
                &self,
                r: $crate::AdCampaignRow,
                job: $crate::NewJob,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<()> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                sqlx::query(
                    "INSERT INTO ad_campaigns
                     (id, channel, subject, body, created_by, created_at, send_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(r.id)
                .bind(&r.channel)
                .bind(&r.subject)
                .bind(&r.body)
                .bind(&r.created_by)
                .bind(r.created_at)
                .bind(r.send_at)
                .execute(&mut *tx)
                .await?;
                insert_jobs_tx(&mut tx, &[job], r.created_at).await?;
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn ad_campaign(
                &self,
                id: uuid::Uuid,
            ) -> $crate::Result<Option<$crate::AdCampaignRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, channel, subject, body, created_by, created_at, send_at
                     FROM ad_campaigns WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn ad_campaigns(
                &self,
            ) -> $crate::Result<Vec<($crate::AdCampaignRow, i64)>> {
                let rows: Vec<$crate::AdCampaignRow> = sqlx::query_as(
                    "SELECT id, channel, subject, body, created_by, created_at, send_at
                     FROM ad_campaigns ORDER BY created_at DESC, id",
                )
                .fetch_all(&self.read)
                .await?;
                let counts: Vec<(uuid::Uuid, i64)> = sqlx::query_as(
                    "SELECT campaign_id, COUNT(*) FROM ad_sends GROUP BY campaign_id",
                )
                .fetch_all(&self.read)
                .await?;
                let counts: std::collections::HashMap<uuid::Uuid, i64> =
                    counts.into_iter().collect();
                Ok(rows
                    .into_iter()
                    .map(|r| {
                        let n = counts.get(&r.id).copied().unwrap_or(0);
                        (r, n)
                    })
                    .collect())
            }

            async fn write_ad_page(
                &self,
                marker: $crate::NewJob,
                jobs: Vec<$crate::NewJob>,
                sends: Vec<$crate::AdSendRow>,
                audit: Vec<$crate::AuditEntry>,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<bool> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                if !insert_marker_tx(&mut tx, &marker, now).await? {
                    return Ok(false);
                }
                for s in &sends {
                    sqlx::query(
                        "INSERT INTO ad_sends (campaign_id, member_id, channel, message_id, queued_at)
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (campaign_id, member_id) DO NOTHING",
                    )
                    .bind(s.campaign_id)
                    .bind(s.member_id)
                    .bind(&s.channel)
                    .bind(s.message_id)
                    .bind(s.queued_at)
                    .execute(&mut *tx)
                    .await?;
                }
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                insert_jobs_tx(&mut tx, &jobs, now).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn ad_last_queued(
                &self,
            ) -> $crate::Result<Vec<(uuid::Uuid, chrono::DateTime<chrono::Utc>)>> {
                Ok(sqlx::query_as(
                    "SELECT campaign_id, MAX(queued_at) FROM ad_sends GROUP BY campaign_id",
                )
                .fetch_all(&self.read)
                .await?)
            }

            async fn destroy_ad_campaigns(
                &self,
                ids: &[uuid::Uuid],
                destruction: &$crate::DestructionRecord,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<u64> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let mut n = 0;
                for id in ids {
                    sqlx::query("DELETE FROM ad_sends WHERE campaign_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    n += sqlx::query("DELETE FROM ad_campaigns WHERE id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                if n > 0 {
                    let mut d = destruction.clone();
                    d.count = i64::try_from(n).unwrap_or(i64::MAX);
                    insert_destruction_tx(&mut tx, &d, true).await?;
                    append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                }
                tx.commit().await?;
                Ok(n)
            }
        }
    };
}
pub(crate) use ad_sql;
