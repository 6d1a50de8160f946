//! Provision to partners (issue 17, S9, S14, S15): each delivery to a partner (a provision, a
//! correction, a member's leaving or consent withdrawal) and each time the office asked every
//! member for a partner's consent. Item ids only; the values leave through the partner's
//! adapter when the delivery is sent and are never written here.

use async_trait::async_trait;
use uuid::Uuid;

use crate::{AuditEntry, NewJob, PartnerAskRow, PartnerDeliveryRow, Result};

/// Deliveries and asks (part of [`Store`](crate::Store)).
#[async_trait]
pub trait PartnerStore: Send + Sync {
    /// Writes deliveries with the jobs that send them and `audit`, in one transaction.
    async fn insert_partner_deliveries(
        &self,
        rows: Vec<PartnerDeliveryRow>,
        jobs: Vec<NewJob>,
        audit: Vec<AuditEntry>,
    ) -> Result<()>;
    async fn partner_delivery(&self, id: Uuid) -> Result<Option<PartnerDeliveryRow>>;
    /// Writes a delivery's state, attempts, error, times, items and consent version, with
    /// `audit` and `jobs`, in one transaction — only if the row is still as it was read
    /// (`was`: its state and attempts); `false` (nothing written) if another run changed it.
    async fn update_partner_delivery(
        &self,
        row: &PartnerDeliveryRow,
        was: (&str, i32),
        jobs: Vec<NewJob>,
        audit: Vec<AuditEntry>,
    ) -> Result<bool>;
    /// A member's deliveries, the latest first.
    async fn member_partner_deliveries(&self, member: Uuid) -> Result<Vec<PartnerDeliveryRow>>;
    /// A partner's deliveries, the latest first, at most `limit`.
    async fn partner_deliveries(
        &self,
        partner: &str,
        limit: i64,
    ) -> Result<Vec<PartnerDeliveryRow>>;
    /// The name `partner` knows each member by who had a delivery to it, and whether a
    /// provision to the member is still queued: (member, reference, provision queued).
    async fn partner_members(&self, partner: &str) -> Result<Vec<(Uuid, String, bool)>>;
    /// How many deliveries of a partner are in each state: (state, count).
    async fn partner_delivery_counts(&self, partner: &str) -> Result<Vec<(String, i64)>>;
    /// Records an ask with the job that mails it and `audit`, in one transaction.
    /// Writes an ask about the partner's facts that took effect at `facts_since` (RFC 3339;
    /// empty when unknown) with its jobs and `audit`, in one transaction, once per set of facts:
    /// `false` (nothing written) when such an ask exists.
    async fn insert_partner_ask(
        &self,
        ask: PartnerAskRow,
        facts_since: &str,
        jobs: Vec<NewJob>,
        audit: Vec<AuditEntry>,
    ) -> Result<bool>;
    /// A partner's asks, the latest first.
    async fn partner_asks(&self, partner: &str) -> Result<Vec<PartnerAskRow>>;
}

/// The columns of a [`PartnerDeliveryRow`].
macro_rules! delivery_columns {
    () => {
        "id, partner_id, kind, member_id, reference, items, consent_version, state, attempts, last_error, created_at, sent_at, acknowledged_at"
    };
}
pub(crate) use delivery_columns;

/// Expands `impl PartnerStore for $store`. Needs `BEGIN`, `Tx`, `append_audit_tx` and
/// `insert_jobs_tx`.
macro_rules! partner_sql {
    ($store:ident) => {
        #[async_trait::async_trait]
        impl $crate::PartnerStore for $store {
            async fn insert_partner_deliveries(
                &self,
                rows: Vec<$crate::PartnerDeliveryRow>,
                jobs: Vec<$crate::NewJob>,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<()> {
                let now = chrono::Utc::now();
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                for r in &rows {
                    sqlx::query(concat!(
                        "INSERT INTO partner_deliveries (",
                        $crate::sql::partners::delivery_columns!(),
                        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
                    ))
                    .bind(r.id)
                    .bind(&r.partner_id)
                    .bind(&r.kind)
                    .bind(r.member_id)
                    .bind(&r.reference)
                    .bind(&r.items)
                    .bind(&r.consent_version)
                    .bind(&r.state)
                    .bind(r.attempts)
                    .bind(&r.last_error)
                    .bind(r.created_at)
                    .bind(r.sent_at)
                    .bind(r.acknowledged_at)
                    .execute(&mut *tx)
                    .await?;
                }
                let at = rows.first().map_or(now, |r| r.created_at);
                insert_jobs_tx(&mut tx, &jobs, at).await?;
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn partner_delivery(
                &self,
                id: uuid::Uuid,
            ) -> $crate::Result<Option<$crate::PartnerDeliveryRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::sql::partners::delivery_columns!(),
                    " FROM partner_deliveries WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn update_partner_delivery(
                &self,
                r: &$crate::PartnerDeliveryRow,
                was: (&str, i32),
                jobs: Vec<$crate::NewJob>,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<bool> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let n = sqlx::query(
                    "UPDATE partner_deliveries SET items = $2, consent_version = $3, state = $4,
                     attempts = $5, last_error = $6, sent_at = $7, acknowledged_at = $8
                     WHERE id = $1 AND state = $9 AND attempts = $10",
                )
                .bind(r.id)
                .bind(&r.items)
                .bind(&r.consent_version)
                .bind(&r.state)
                .bind(r.attempts)
                .bind(&r.last_error)
                .bind(r.sent_at)
                .bind(r.acknowledged_at)
                .bind(was.0)
                .bind(was.1)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    return Ok(false);
                }
                let at = r.sent_at.unwrap_or(r.created_at);
                insert_jobs_tx(&mut tx, &jobs, at).await?;
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn member_partner_deliveries(
                &self,
                member: uuid::Uuid,
            ) -> $crate::Result<Vec<$crate::PartnerDeliveryRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::sql::partners::delivery_columns!(),
                    " FROM partner_deliveries WHERE member_id = $1
                     ORDER BY created_at DESC, id"
                ))
                .bind(member)
                .fetch_all(&self.read)
                .await?)
            }

            async fn partner_deliveries(
                &self,
                partner: &str,
                limit: i64,
            ) -> $crate::Result<Vec<$crate::PartnerDeliveryRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::sql::partners::delivery_columns!(),
                    " FROM partner_deliveries WHERE partner_id = $1
                     ORDER BY created_at DESC, id LIMIT $2"
                ))
                .bind(partner)
                .bind(limit)
                .fetch_all(&self.read)
                .await?)
            }

            async fn partner_members(
                &self,
                partner: &str,
            ) -> $crate::Result<Vec<(uuid::Uuid, String, bool)>> {
                let refs: Vec<(uuid::Uuid, String)> = sqlx::query_as(
                    "SELECT DISTINCT member_id, reference FROM partner_deliveries
                     WHERE partner_id = $1",
                )
                .bind(partner)
                .fetch_all(&self.read)
                .await?;
                let queued: Vec<(uuid::Uuid,)> = sqlx::query_as(
                    "SELECT DISTINCT member_id FROM partner_deliveries
                     WHERE partner_id = $1 AND kind = 'provision' AND state = 'queued'",
                )
                .bind(partner)
                .fetch_all(&self.read)
                .await?;
                let queued: std::collections::HashSet<uuid::Uuid> =
                    queued.into_iter().map(|(m,)| m).collect();
                Ok(refs
                    .into_iter()
                    .map(|(m, r)| (m, r, queued.contains(&m)))
                    .collect())
            }

            async fn partner_delivery_counts(
                &self,
                partner: &str,
            ) -> $crate::Result<Vec<(String, i64)>> {
                Ok(sqlx::query_as(
                    "SELECT state, COUNT(*) FROM partner_deliveries WHERE partner_id = $1
                     GROUP BY state ORDER BY state",
                )
                .bind(partner)
                .fetch_all(&self.read)
                .await?)
            }

            async fn insert_partner_ask(
                &self,
                ask: $crate::PartnerAskRow,
                facts_since: &str,
                jobs: Vec<$crate::NewJob>,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<bool> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let written = sqlx::query(
                    "INSERT INTO partner_asks (id, partner_id, asked_at, asked_by, facts_since)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (partner_id, facts_since) DO NOTHING",
                )
                .bind(ask.id)
                .bind(&ask.partner_id)
                .bind(ask.asked_at)
                .bind(&ask.asked_by)
                .bind(facts_since)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if written != 1 {
                    return Ok(false);
                }
                insert_jobs_tx(&mut tx, &jobs, ask.asked_at).await?;
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn partner_asks(
                &self,
                partner: &str,
            ) -> $crate::Result<Vec<$crate::PartnerAskRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, partner_id, asked_at, asked_by FROM partner_asks
                     WHERE partner_id = $1 ORDER BY asked_at DESC, id",
                )
                .bind(partner)
                .fetch_all(&self.read)
                .await?)
            }
        }
    };
}
pub(crate) use partner_sql;
