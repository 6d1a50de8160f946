//! Event prizes (issue 15, S3): the office's events and their winners. A winner's delivery items
//! are sealed under the entry's own key (the key store's `prize:<id>`); this table holds only the
//! ciphertext, which is NULL before the winner enters it and after it is destroyed.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::{AuditEntry, DestructionRecord, PrizeEventRow, PrizeWinnerRow, Result};

/// Events and winners (part of [`Store`](crate::Store)).
#[async_trait]
pub trait PrizeStore: Send + Sync {
    async fn insert_prize_event(&self, event: PrizeEventRow, audit: Vec<AuditEntry>) -> Result<()>;
    /// Every event, the latest first.
    async fn prize_events(&self) -> Result<Vec<PrizeEventRow>>;
    async fn prize_event(&self, id: Uuid) -> Result<Option<PrizeEventRow>>;
    /// Records winners of one event, in one transaction; `false` (nothing written) when one of
    /// the members already won it.
    async fn insert_prize_winners(
        &self,
        winners: Vec<PrizeWinnerRow>,
        audit: Vec<AuditEntry>,
    ) -> Result<bool>;
    /// An event's winners, in the order they were recorded.
    async fn prize_winners(&self, event: Uuid) -> Result<Vec<PrizeWinnerRow>>;
    async fn prize_winner(&self, id: Uuid) -> Result<Option<PrizeWinnerRow>>;
    /// A member's prizes, the latest first.
    async fn member_prizes(&self, member: Uuid) -> Result<Vec<PrizeWinnerRow>>;
    /// Moves a winner from state `from` to `row.state` with its content and times, writing
    /// `destruction` (if any) and `audit`, in one transaction. `false` (nothing written) when
    /// the winner is no longer in `from`.
    async fn update_prize_winner(
        &self,
        row: &PrizeWinnerRow,
        from: &str,
        destruction: Option<DestructionRecord>,
        audit: Vec<AuditEntry>,
    ) -> Result<bool>;
    /// Delivered entries whose last day has passed on `today` and that still hold their items.
    async fn expired_prizes(&self, today: NaiveDate) -> Result<Vec<Uuid>>;
    /// Destroys the items of `ids` (still delivered and expired on `today`): their ciphertext goes,
    /// the state becomes `destroyed`, and `destruction` is written with their count added, with
    /// `audit`, in one transaction. Returns how many.
    async fn destroy_prizes(
        &self,
        ids: &[Uuid],
        today: NaiveDate,
        at: DateTime<Utc>,
        destruction: &DestructionRecord,
        audit: Vec<AuditEntry>,
    ) -> Result<u64>;
}

/// The columns of a [`PrizeWinnerRow`].
macro_rules! winner_columns {
    () => {
        "id, event_id, member_id, state, sealed, created_at, entered_at, delivered_at, expires_on, destroyed_at"
    };
}
pub(crate) use winner_columns;

/// Expands `impl PrizeStore for $store`. Needs `BEGIN`, `Tx`, `append_audit_tx` and
/// `insert_destruction_tx`.
macro_rules! prize_sql {
    ($store:ident) => {
        #[async_trait::async_trait]
        impl $crate::PrizeStore for $store {
            async fn insert_prize_event(
                &self,
                e: $crate::PrizeEventRow,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<()> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                sqlx::query(
                    "INSERT INTO prize_events (id, title, prize, created_at, created_by)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(e.id)
                .bind(&e.title)
                .bind(&e.prize)
                .bind(e.created_at)
                .bind(&e.created_by)
                .execute(&mut *tx)
                .await?;
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn prize_events(&self) -> $crate::Result<Vec<$crate::PrizeEventRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, title, prize, created_at, created_by FROM prize_events
                     ORDER BY created_at DESC, id",
                )
                .fetch_all(&self.read)
                .await?)
            }

            async fn prize_event(
                &self,
                id: uuid::Uuid,
            ) -> $crate::Result<Option<$crate::PrizeEventRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, title, prize, created_at, created_by FROM prize_events WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn insert_prize_winners(
                &self,
                winners: Vec<$crate::PrizeWinnerRow>,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<bool> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                for w in &winners {
                    let n = sqlx::query(concat!(
                        "INSERT INTO prize_winners (",
                        $crate::sql::prizes::winner_columns!(),
                        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                         ON CONFLICT (event_id, member_id) DO NOTHING"
                    ))
                    .bind(w.id)
                    .bind(w.event_id)
                    .bind(w.member_id)
                    .bind(&w.state)
                    .bind(&w.sealed)
                    .bind(w.created_at)
                    .bind(w.entered_at)
                    .bind(w.delivered_at)
                    .bind(w.expires_on)
                    .bind(w.destroyed_at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 0 {
                        return Ok(false);
                    }
                }
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn prize_winners(
                &self,
                event: uuid::Uuid,
            ) -> $crate::Result<Vec<$crate::PrizeWinnerRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::sql::prizes::winner_columns!(),
                    " FROM prize_winners WHERE event_id = $1 ORDER BY created_at, id"
                ))
                .bind(event)
                .fetch_all(&self.read)
                .await?)
            }

            async fn prize_winner(
                &self,
                id: uuid::Uuid,
            ) -> $crate::Result<Option<$crate::PrizeWinnerRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::sql::prizes::winner_columns!(),
                    " FROM prize_winners WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn member_prizes(
                &self,
                member: uuid::Uuid,
            ) -> $crate::Result<Vec<$crate::PrizeWinnerRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::sql::prizes::winner_columns!(),
                    " FROM prize_winners WHERE member_id = $1 ORDER BY created_at DESC, id"
                ))
                .bind(member)
                .fetch_all(&self.read)
                .await?)
            }

            async fn update_prize_winner(
                &self,
                w: &$crate::PrizeWinnerRow,
                from: &str,
                destruction: Option<$crate::DestructionRecord>,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<bool> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let changed = sqlx::query(
                    "UPDATE prize_winners SET state = $1, sealed = $2, entered_at = $3,
                            delivered_at = $4, expires_on = $5, destroyed_at = $6
                     WHERE id = $7 AND state = $8",
                )
                .bind(&w.state)
                .bind(&w.sealed)
                .bind(w.entered_at)
                .bind(w.delivered_at)
                .bind(w.expires_on)
                .bind(w.destroyed_at)
                .bind(w.id)
                .bind(from)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if changed == 0 {
                    return Ok(false);
                }
                if let Some(d) = &destruction {
                    insert_destruction_tx(&mut tx, d, false).await?;
                }
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn expired_prizes(
                &self,
                today: chrono::NaiveDate,
            ) -> $crate::Result<Vec<uuid::Uuid>> {
                Ok(sqlx::query_scalar(
                    "SELECT id FROM prize_winners
                     WHERE sealed IS NOT NULL AND state = 'delivered' AND expires_on < $1
                     ORDER BY expires_on, id",
                )
                .bind(today)
                .fetch_all(&self.read)
                .await?)
            }

            async fn destroy_prizes(
                &self,
                ids: &[uuid::Uuid],
                today: chrono::NaiveDate,
                at: chrono::DateTime<chrono::Utc>,
                destruction: &$crate::DestructionRecord,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<u64> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let mut n = 0;
                for id in ids {
                    n += sqlx::query(
                        "UPDATE prize_winners SET state = 'destroyed', sealed = NULL, destroyed_at = $1
                         WHERE id = $2 AND state = 'delivered' AND sealed IS NOT NULL
                           AND expires_on < $3",
                    )
                    .bind(at)
                    .bind(id)
                    .bind(today)
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

pub(crate) use prize_sql;
