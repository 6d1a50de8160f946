//! Orders and PortOne's webhooks (issue 15). An order holds nothing personal: the payment
//! record (what the gateway returned, masked) is written to the retention store in the same
//! transaction that settles the order.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{AuditEntry, OrderRow, Result, RetainedRecord};

/// Orders and webhook receipts (part of [`Store`](crate::Store)).
#[async_trait]
pub trait PaymentStore: Send + Sync {
    async fn insert_order(&self, order: OrderRow, audit: Vec<AuditEntry>) -> Result<()>;
    async fn order(&self, id: &str) -> Result<Option<OrderRow>>;
    /// A member's orders, the latest first.
    async fn member_orders(&self, member: Uuid) -> Result<Vec<OrderRow>>;
    /// Moves an order from `from` to `order.state` (with its amounts, times and record), writing
    /// `records` to the retention store and `audit`, in one transaction. `false` (nothing
    /// written) if the order is not in `from` any more (another request settled it first).
    async fn update_order(
        &self,
        order: &OrderRow,
        from: &str,
        records: Vec<RetainedRecord>,
        audit: Vec<AuditEntry>,
    ) -> Result<bool>;
    /// Records a webhook's id; `false` if it was already recorded (a delivery retried).
    async fn webhook_seen(&self, id: &str, at: DateTime<Utc>) -> Result<bool>;
    /// The payment records of a member's orders: (record id, expiry day).
    async fn member_payment_records(&self, member: Uuid) -> Result<Vec<(Uuid, chrono::NaiveDate)>>;
}

/// The columns of an [`OrderRow`].
macro_rules! order_columns {
    () => {
        "id, member_id, product, order_name, amount, currency, state, cancelled_amount, created_at, settled_at, updated_at, record_id"
    };
}
pub(crate) use order_columns;

/// Expands `impl PaymentStore for $store`. Needs `BEGIN`, `Tx`, `append_audit_tx` and
/// `insert_retained_tx`.
macro_rules! payment_sql {
    ($store:ident) => {
        #[async_trait::async_trait]
        impl $crate::PaymentStore for $store {
            async fn insert_order(
                &self,
                o: $crate::OrderRow,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<()> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                sqlx::query(concat!(
                    "INSERT INTO orders (",
                    $crate::sql::payments::order_columns!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                ))
                .bind(&o.id)
                .bind(o.member_id)
                .bind(&o.product)
                .bind(&o.order_name)
                .bind(o.amount)
                .bind(&o.currency)
                .bind(&o.state)
                .bind(o.cancelled_amount)
                .bind(o.created_at)
                .bind(o.settled_at)
                .bind(o.updated_at)
                .bind(o.record_id)
                .execute(&mut *tx)
                .await?;
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn order(&self, id: &str) -> $crate::Result<Option<$crate::OrderRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::sql::payments::order_columns!(),
                    " FROM orders WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn member_orders(
                &self,
                member: uuid::Uuid,
            ) -> $crate::Result<Vec<$crate::OrderRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::sql::payments::order_columns!(),
                    " FROM orders WHERE member_id = $1 ORDER BY created_at DESC, id"
                ))
                .bind(member)
                .fetch_all(&self.read)
                .await?)
            }

            async fn update_order(
                &self,
                o: &$crate::OrderRow,
                from: &str,
                records: Vec<$crate::RetainedRecord>,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<bool> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let changed = sqlx::query(
                    "UPDATE orders SET state = $1, cancelled_amount = $2, settled_at = $3,
                            updated_at = $4, record_id = $5
                     WHERE id = $6 AND state = $7",
                )
                .bind(&o.state)
                .bind(o.cancelled_amount)
                .bind(o.settled_at)
                .bind(o.updated_at)
                .bind(o.record_id)
                .bind(&o.id)
                .bind(from)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if changed == 0 {
                    return Ok(false);
                }
                insert_retained_tx(&mut tx, &records).await?;
                for r in &records {
                    sqlx::query("INSERT INTO order_records (order_id, record_id) VALUES ($1, $2)")
                        .bind(&o.id)
                        .bind(r.id)
                        .execute(&mut *tx)
                        .await?;
                }
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn webhook_seen(
                &self,
                id: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<bool> {
                let n = sqlx::query(
                    "INSERT INTO webhook_events (id, received_at) VALUES ($1, $2)
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(id)
                .bind(at)
                .execute(&self.write)
                .await?
                .rows_affected();
                Ok(n == 1)
            }

            async fn member_payment_records(
                &self,
                member: uuid::Uuid,
            ) -> $crate::Result<Vec<(uuid::Uuid, chrono::NaiveDate)>> {
                Ok(sqlx::query_as(
                    "SELECT r.id, r.expires_on FROM retained_records r
                     JOIN order_records x ON x.record_id = r.id
                     JOIN orders o ON o.id = x.order_id
                     WHERE o.member_id = $1 ORDER BY r.expires_on",
                )
                .bind(member)
                .fetch_all(&self.read)
                .await?)
            }
        }
    };
}

pub(crate) use payment_sql;
