//! The office's record of each processor (issue 17, R-CON-10): contracts with the statutory
//! terms they contain, and the checks of how the processor handles the data.

use async_trait::async_trait;

use crate::{AuditEntry, ProcessorRecordRow, Result};

/// Processor records (part of [`Store`](crate::Store)).
#[async_trait]
pub trait ProcessorStore: Send + Sync {
    /// Writes a record with `audit`, in one transaction.
    async fn insert_processor_record(
        &self,
        row: ProcessorRecordRow,
        audit: Vec<AuditEntry>,
    ) -> Result<()>;
    /// A processor's records, the latest day first.
    async fn processor_records(&self, processor: &str) -> Result<Vec<ProcessorRecordRow>>;
}

/// Expands `impl ProcessorStore for $store`. Needs `BEGIN`, `Tx` and `append_audit_tx`.
macro_rules! processor_sql {
    ($store:ident) => {
        #[async_trait::async_trait]
        impl $crate::ProcessorStore for $store {
            async fn insert_processor_record(
                &self,
                r: $crate::ProcessorRecordRow,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<()> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                sqlx::query(
                    "INSERT INTO processor_records
                     (id, processor_id, kind, on_day, duties, note, recorded_by, recorded_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(r.id)
                .bind(&r.processor_id)
                .bind(&r.kind)
                .bind(r.on_day)
                .bind(&r.duties)
                .bind(&r.note)
                .bind(&r.recorded_by)
                .bind(r.recorded_at)
                .execute(&mut *tx)
                .await?;
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn processor_records(
                &self,
                processor: &str,
            ) -> $crate::Result<Vec<$crate::ProcessorRecordRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, processor_id, kind, on_day, duties, note, recorded_by, recorded_at
                     FROM processor_records WHERE processor_id = $1
                     ORDER BY on_day DESC, recorded_at DESC",
                )
                .bind(processor)
                .fetch_all(&self.read)
                .await?)
            }
        }
    };
}
pub(crate) use processor_sql;
