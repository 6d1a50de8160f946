//! Members: the member row, its sealed items and blind indexes. Sign-up, a change and a withdrawal
//! are each one transaction that also writes to other aggregates, through their `*_tx` helpers
//! (consents, audit, jobs, retention) or, where only this transaction needs it, its own statement.

use async_trait::async_trait;
use uuid::Uuid;

use crate::{ItemRow, MemberChange, MemberRow, NewMember, Result, StoreError, Withdrawal};

/// Members, their sealed items and blind indexes (part of [`Store`](crate::Store)).
#[async_trait]
pub trait MemberStore: Send + Sync {
    /// Creates a member with items, indexes, consents, audit entries and jobs, or nothing.
    async fn insert_member(&self, m: NewMember) -> Result<()>;
    /// Creates many new members in one transaction, each stored as [`MemberStore::insert_member`]
    /// stores one, their audit entries appended to the chain in order (the bulk seeder of the
    /// benchmarks). All or nothing; a taken login ID or index is a `Duplicate`.
    async fn insert_members(&self, ms: Vec<NewMember>) -> Result<()>;
    /// Which of `ids` are members (one query; the orphan-key sweep checks a page of keys at once).
    async fn existing_members(&self, ids: &[Uuid]) -> Result<Vec<Uuid>>;
    async fn member(&self, id: Uuid) -> Result<Option<MemberRow>>;
    async fn member_by_login(&self, login_index: &[u8]) -> Result<Option<MemberRow>>;
    async fn member_by_index(&self, domain: &str, digest: &[u8]) -> Result<Option<Uuid>>;
    /// What a new member would take that another member holds, in one query, and who holds
    /// it: `("login_id", holder)` when the login ID is taken, else the first of `indexes` (in
    /// their order) that is taken; `None` when all are free.
    async fn taken(
        &self,
        login_index: &[u8],
        indexes: &[crate::IndexEntry],
    ) -> Result<Option<(String, Uuid)>>;
    async fn member_ids(&self) -> Result<Vec<Uuid>>;
    async fn count_members(&self) -> Result<i64>;
    /// Sealed items of a member; all of them when `only` is `None`.
    async fn items(&self, member: Uuid, only: Option<&[String]>) -> Result<Vec<ItemRow>>;
    /// [`items`](Self::items) and whether the member exists, in one query: `None` when there is
    /// no such member.
    async fn member_items(
        &self,
        member: Uuid,
        only: Option<&[String]>,
    ) -> Result<Option<Vec<ItemRow>>>;
    /// Applies a change to an active member in one transaction; `NotFound` if the member is gone.
    /// Returns how many sessions it ended.
    async fn apply(&self, change: MemberChange) -> Result<u64>;
    /// Withdraws a member: deletes every live row and writes the retained records, the
    /// destruction record, audit entries and jobs, in one transaction.
    async fn withdraw(&self, w: Withdrawal) -> Result<()>;
}

/// Expands `set_indexes_tx` and `impl MemberStore for $store`. Needs from the backend module:
/// `BEGIN`, `Tx`, `FOR_UPDATE` (a withdrawal locks the member's row) and
/// `$store::after_withdraw`; and the other aggregates' helpers (`insert_consents_tx`,
/// `append_audit_tx`, `insert_jobs_tx`, `insert_destruction_tx`).
macro_rules! member_sql {
    ($store:ident) => {
        /// Checks every index is free (or already this member's), then writes it. Checking first
        /// names the item that collided; the primary key still guards against any race (a
        /// concurrent insert of the same digest waits for the first and then fails as a duplicate).
        async fn set_indexes_tx(
            tx: &mut Tx<'_>,
            member: uuid::Uuid,
            indexes: &[$crate::IndexEntry],
        ) -> $crate::Result<()> {
            for ix in indexes {
                let owner: Option<uuid::Uuid> = sqlx::query_scalar(
                    "SELECT member_id FROM blind_indexes WHERE domain = $1 AND digest = $2",
                )
                .bind(&ix.domain)
                .bind(&ix.digest)
                .fetch_optional(&mut **tx)
                .await?;
                if owner.is_some_and(|o| o != member) {
                    return Err($crate::StoreError::Duplicate {
                        domain: ix.domain.clone(),
                    });
                }
            }
            for ix in indexes {
                sqlx::query("DELETE FROM blind_indexes WHERE member_id = $1 AND domain = $2")
                    .bind(member)
                    .bind(&ix.domain)
                    .execute(&mut **tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO blind_indexes (domain, digest, member_id) VALUES ($1, $2, $3)",
                )
                .bind(&ix.domain)
                .bind(&ix.digest)
                .bind(member)
                .execute(&mut **tx)
                .await
                .map_err(|e| $crate::sql::members::unique_to_duplicate(e, &ix.domain))?;
            }
            Ok(())
        }

        /// Pushes `sep` and the multi-row `INSERT` of `part` of new members `ms` onto `q`;
        /// `false`, and nothing pushed, when they have no such rows. Both ways of writing a
        /// sign-up use it: one statement at a time (`insert_members_tx`) or all of them in one
        /// command (SQLite's `insert_member_at_once`).
        fn push_member_part<'q>(
            q: &mut sqlx::QueryBuilder<'q, Db>,
            sep: &str,
            ms: &'q [$crate::NewMember],
            part: $crate::sql::members::MemberPart,
        ) -> bool {
            use $crate::sql::members::MemberPart;
            match part {
                MemberPart::Members => {
                    if ms.is_empty() {
                        return false;
                    }
                    q.push(sep).push(
                        "INSERT INTO members (id, login_index, login_sealed, password_hash, key_id, status, policy_version, created_at, updated_at) ",
                    );
                    q.push_values(ms, |mut b, m| {
                        b.push_bind(m.id)
                            .push_bind(m.login_index.as_slice())
                            .push_bind(m.login_sealed.as_slice())
                            .push_bind(m.password_hash.as_str())
                            .push_bind(m.key_id.as_str())
                            .push("'active'")
                            .push_bind(m.policy_version.as_str())
                            .push_bind(m.at)
                            .push_bind(m.at);
                    });
                }
                MemberPart::Items => {
                    let items: Vec<(&$crate::NewMember, &$crate::SealedItem)> = ms
                        .iter()
                        .flat_map(|m| m.items.iter().map(move |i| (m, i)))
                        .collect();
                    if items.is_empty() {
                        return false;
                    }
                    q.push(sep).push(
                        "INSERT INTO member_items (member_id, item_id, sealed, correction_pending, updated_at) ",
                    );
                    q.push_values(items, |mut b, (m, item)| {
                        b.push_bind(m.id)
                            .push_bind(item.item_id.as_str())
                            .push_bind(item.sealed.as_slice())
                            .push("FALSE")
                            .push_bind(m.at);
                    });
                }
                MemberPart::Indexes => {
                    let indexes: Vec<(uuid::Uuid, &$crate::IndexEntry)> = ms
                        .iter()
                        .flat_map(|m| m.indexes.iter().map(move |ix| (m.id, ix)))
                        .collect();
                    if indexes.is_empty() {
                        return false;
                    }
                    q.push(sep)
                        .push("INSERT INTO blind_indexes (domain, digest, member_id) ");
                    q.push_values(indexes, |mut b, (id, ix)| {
                        b.push_bind(ix.domain.as_str())
                            .push_bind(ix.digest.as_slice())
                            .push_bind(id);
                    });
                }
                MemberPart::Consents => {
                    let consents: Vec<(uuid::Uuid, &$crate::NewConsentEvent)> = ms
                        .iter()
                        .flat_map(|m| m.consents.iter().map(move |c| (m.id, c)))
                        .collect();
                    if consents.is_empty() {
                        return false;
                    }
                    q.push(sep).push(
                        "INSERT INTO consent_events (member_id, category, granted, policy_version, channel, at) ",
                    );
                    q.push_values(consents, |mut b, (id, c)| {
                        b.push_bind(id)
                            .push_bind(c.category.as_str())
                            .push_bind(c.granted)
                            .push_bind(c.policy_version.as_str())
                            .push_bind(c.channel.as_str())
                            .push_bind(c.at);
                    });
                }
                MemberPart::Jobs => {
                    let jobs: Vec<(&$crate::NewJob, chrono::DateTime<chrono::Utc>)> = ms
                        .iter()
                        .flat_map(|m| m.jobs.iter().map(move |j| (j, m.at)))
                        .collect();
                    if jobs.is_empty() {
                        return false;
                    }
                    q.push(sep);
                    push_jobs_insert(q, jobs);
                }
                MemberPart::Messages => {
                    let messages: Vec<(&$crate::NewMessage, chrono::DateTime<chrono::Utc>)> = ms
                        .iter()
                        .flat_map(|m| {
                            m.jobs
                                .iter()
                                .filter_map(move |j| j.message.as_ref().map(|msg| (msg, m.at)))
                        })
                        .collect();
                    if messages.is_empty() {
                        return false;
                    }
                    q.push(sep);
                    push_messages_insert(q, messages);
                }
            }
            true
        }

        /// Writes new members (`ms`, none of them stored yet) inside `tx`: one multi-row
        /// `INSERT` per table (and per `MEMBERS_PER_INSERT` members), then their audit entries,
        /// appended to the chain in order (one head read for all). A taken login ID is
        /// `Duplicate { domain: "login_id" }`; a taken index, `Duplicate { domain: "blind_index" }`
        /// (the statement does not say which one: `insert_member` names it beforehand). Returns
        /// the chain's head after them.
        async fn insert_members_tx(
            tx: &mut Tx<'_>,
            linker: &dyn $crate::ChainLinker,
            ms: &[$crate::NewMember],
        ) -> $crate::Result<Option<(i64, Vec<u8>)>> {
            for chunk in $crate::sql::members::insert_chunks(ms) {
                for part in $crate::sql::members::MemberPart::ALL {
                    let mut q = sqlx::QueryBuilder::new("");
                    if push_member_part(&mut q, "", chunk, part) {
                        q.build().execute(&mut **tx).await.map_err(|e| match part.taken() {
                            Some(domain) => $crate::sql::members::unique_to_duplicate(e, domain),
                            None => e.into(),
                        })?;
                    }
                }
            }
            // The chain: one head read for the whole batch, then each member's entries in
            // order, inside this transaction (I3).
            let audit: Vec<&$crate::AuditEntry> = ms.iter().flat_map(|m| m.audit.iter()).collect();
            let mut head = None;
            append_audit_refs(tx, linker, &mut head, &audit).await?;
            Ok(head)
        }

        /// What a new member would take that another holds, in one query, with the holder:
        /// `login_id` when the login ID is taken (asked first, as a sign-up answers), else the
        /// first of `indexes`, in their order, that another member holds.
        async fn taken_in<'e, E>(
            executor: E,
            login_index: &[u8],
            indexes: &[$crate::IndexEntry],
        ) -> $crate::Result<Option<(String, uuid::Uuid)>>
        where
            E: sqlx::Executor<'e, Database = Db>,
        {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT 0 AS login, 'login_id' AS domain, login_index AS digest, id AS member FROM members WHERE login_index = ",
            );
            q.push_bind(login_index);
            for (n, ix) in indexes.iter().enumerate() {
                q.push(if n == 0 {
                    " UNION ALL SELECT 1, domain, digest, member_id FROM blind_indexes WHERE (domain = "
                } else {
                    " OR (domain = "
                })
                .push_bind(ix.domain.as_str())
                .push(" AND digest = ")
                .push_bind(ix.digest.as_slice())
                .push(")");
            }
            let taken: Vec<(i32, String, Vec<u8>, uuid::Uuid)> =
                q.build_query_as().fetch_all(executor).await?;
            if let Some((_, _, _, holder)) = taken.iter().find(|(login, ..)| *login == 0) {
                return Ok(Some(("login_id".into(), *holder)));
            }
            Ok(indexes.iter().find_map(|ix| {
                taken
                    .iter()
                    .find(|(_, d, g, _)| *d == ix.domain && *g == ix.digest)
                    .map(|(_, _, _, holder)| (ix.domain.clone(), *holder))
            }))
        }

        /// The body of `apply`: a member change inside `tx`, in its own transaction (PostgreSQL:
        /// `Savepoint::None`) or in the savepoint `change` of the writer's batch (SQLite, whose
        /// changes join the batch: `GROUP_CHANGES`). The savepoint is opened by the change's first
        /// command — `SAVEPOINT change; UPDATE members …`, after `RELEASE change;` of the previous
        /// change's, as one multi-statement command on SQLite's connection: one hand-off to its
        /// worker thread instead of three. `*opened` says whether that command succeeded (only
        /// then is there a savepoint to roll back to). Returns how many sessions it ended.
        async fn apply_tx(
            tx: &mut Tx<'_>,
            linker: &dyn $crate::ChainLinker,
            head: &mut Option<(i64, Vec<u8>)>,
            c: &$crate::MemberChange,
            savepoint: $crate::sql::batch::Savepoint,
            opened: &mut bool,
        ) -> $crate::Result<u64> {
            use $crate::sql::batch::Savepoint;
            if !matches!(savepoint, Savepoint::None) && $crate::sql::members::at_once(c) {
                return apply_at_once(tx, linker, head, c, savepoint, opened).await;
            }
            macro_rules! touch {
                () => {
                    "UPDATE members SET updated_at = $1 WHERE id = $2 AND status = 'active' RETURNING id"
                };
            }
            // Only an active member's row is updated: `RETURNING` says whether it was (a row
            // count would be unreliable after `SAVEPOINT`, which leaves SQLite's count as it was).
            let touched: Vec<uuid::Uuid> = sqlx::query_scalar(match savepoint {
                Savepoint::None => touch!(),
                Savepoint::Open => concat!("SAVEPOINT change; ", touch!()),
                Savepoint::ReleaseAndOpen => {
                    concat!("RELEASE change; SAVEPOINT change; ", touch!())
                }
            })
            .bind(c.at)
            .bind(c.member_id)
            .fetch_all(&mut **tx)
            .await?;
            *opened = true;
            if touched.len() != 1 {
                return Err($crate::StoreError::NotFound("member"));
            }
            for item in &c.set_items {
                sqlx::query(
                    "INSERT INTO member_items (member_id, item_id, sealed, correction_pending, updated_at)
                     VALUES ($1, $2, $3, FALSE, $4)
                     ON CONFLICT (member_id, item_id) DO UPDATE SET sealed = excluded.sealed,
                         correction_pending = FALSE, updated_at = excluded.updated_at",
                )
                .bind(c.member_id)
                .bind(&item.item_id)
                .bind(&item.sealed)
                .bind(c.at)
                .execute(&mut **tx)
                .await?;
            }
            for item in &c.remove_items {
                sqlx::query("DELETE FROM member_items WHERE member_id = $1 AND item_id = $2")
                    .bind(c.member_id)
                    .bind(item)
                    .execute(&mut **tx)
                    .await?;
            }
            for (item, pending) in &c.correction_marks {
                sqlx::query(
                    "UPDATE member_items SET correction_pending = $1 WHERE member_id = $2 AND item_id = $3",
                )
                .bind(pending)
                .bind(c.member_id)
                .bind(item)
                .execute(&mut **tx)
                .await?;
            }
            for domain in &c.remove_indexes {
                sqlx::query("DELETE FROM blind_indexes WHERE member_id = $1 AND domain = $2")
                    .bind(c.member_id)
                    .bind(domain)
                    .execute(&mut **tx)
                    .await?;
            }
            set_indexes_tx(tx, c.member_id, &c.set_indexes).await?;
            if let Some(hash) = &c.password_hash {
                sqlx::query("UPDATE members SET password_hash = $1 WHERE id = $2")
                    .bind(hash)
                    .bind(c.member_id)
                    .execute(&mut **tx)
                    .await?;
            }
            if let Some(token) = &c.use_recovery {
                use_recovery_tx(tx, c.member_id, token, c.at).await?;
            }
            let mut ended = 0;
            if let Some(keep) = &c.end_sessions_except {
                ended = sqlx::query(
                    "DELETE FROM sessions WHERE member_id = $1 AND token_hash <> $2",
                )
                .bind(c.member_id)
                .bind(keep)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            }
            insert_consents_tx(tx, c.member_id, &c.consents).await?;
            append_audit_refs(tx, linker, head, &c.audit.iter().collect::<Vec<_>>()).await?;
            insert_jobs_tx(tx, &c.jobs, c.at).await?;
            for purpose in &c.suspend_purposes {
                sqlx::query(
                    "INSERT INTO processing_suspensions (member_id, purpose, since) VALUES ($1, $2, $3)
                     ON CONFLICT (member_id, purpose) DO NOTHING",
                )
                .bind(c.member_id)
                .bind(purpose)
                .bind(c.at)
                .execute(&mut **tx)
                .await?;
            }
            if let Some(r) = &c.request
                && !request_write_tx(tx, r).await?
            {
                return Err($crate::StoreError::Conflict("the request is closed".into()));
            }
            Ok(ended)
        }

        /// A change inside the writer's batch (SQLite) whose parts need no answer but the
        /// member's row (a correction; a password change ends sessions and is not one) is sent as
        /// **one** multi-statement command: its savepoint, the member's row, its items and its
        /// audit rows (linked here, after the head the batch knows). Each command is a hand-off to
        /// the connection's worker thread, and those hand-offs set the writer's pace
        /// (bench/README.md, "Issue 12, sixth session"). The items are written only for an active
        /// member (`SELECT … FROM members WHERE … status = 'active'`), so a member gone since the
        /// request was read fails no constraint: `RETURNING` finds no row, the change answers
        /// `NotFound` and the batch rolls its savepoint back. A command that fails all the same
        /// (the database itself) is not known to have opened its savepoint: it fails the whole
        /// batch, as a failure of the first command always did.
        async fn apply_at_once(
            tx: &mut Tx<'_>,
            linker: &dyn $crate::ChainLinker,
            head: &mut Option<(i64, Vec<u8>)>,
            c: &$crate::MemberChange,
            savepoint: $crate::sql::batch::Savepoint,
            opened: &mut bool,
        ) -> $crate::Result<u64> {
            use $crate::sql::batch::Savepoint;
            let (mut seq, mut prev) = if c.audit.is_empty() {
                (0, Vec::new())
            } else {
                audit_head_tx(tx, head).await?
            };
            let mut q = sqlx::QueryBuilder::<Db>::new(match savepoint {
                Savepoint::None => "",
                Savepoint::Open => "SAVEPOINT change; ",
                Savepoint::ReleaseAndOpen => "RELEASE change; SAVEPOINT change; ",
            });
            push_change_at_once(&mut q, linker, &mut seq, &mut prev, c);
            let touched: Vec<uuid::Uuid> = q.build_query_scalar().fetch_all(&mut **tx).await?;
            *opened = true;
            if !c.audit.is_empty() {
                *head = Some((seq, prev));
            }
            if touched.len() != 1 {
                return Err($crate::StoreError::NotFound("member"));
            }
            Ok(0)
        }

        /// Pushes the statements of change `c` (one that [`at_once`]($crate::sql::members::at_once)
        /// takes) onto `q`: the member's row (`… RETURNING id`: one row if the member is active),
        /// its items and its audit rows, linked after (`seq`, `prev`), which move to the last of
        /// them.
        fn push_change_at_once<'q>(
            q: &mut sqlx::QueryBuilder<'q, Db>,
            linker: &dyn $crate::ChainLinker,
            seq: &mut i64,
            prev: &mut Vec<u8>,
            c: &'q $crate::MemberChange,
        ) {
            q.push("UPDATE members SET updated_at = ")
                .push_bind(c.at)
                .push(" WHERE id = ")
                .push_bind(c.member_id)
                .push(" AND status = 'active' RETURNING id");
            for item in &c.set_items {
                q.push("; INSERT INTO member_items (member_id, item_id, sealed, correction_pending, updated_at) SELECT id, ")
                    .push_bind(item.item_id.as_str())
                    .push(", ")
                    .push_bind(item.sealed.as_slice())
                    .push(", FALSE, ")
                    .push_bind(c.at)
                    .push(" FROM members WHERE id = ")
                    .push_bind(c.member_id)
                    .push(
                        " AND status = 'active' ON CONFLICT (member_id, item_id) DO UPDATE SET sealed = excluded.sealed, correction_pending = FALSE, updated_at = excluded.updated_at",
                    );
            }
            for item in &c.remove_items {
                q.push("; DELETE FROM member_items WHERE member_id = ")
                    .push_bind(c.member_id)
                    .push(" AND item_id = ")
                    .push_bind(item.as_str());
            }
            for (item, pending) in &c.correction_marks {
                q.push("; UPDATE member_items SET correction_pending = ")
                    .push_bind(*pending)
                    .push(" WHERE member_id = ")
                    .push_bind(c.member_id)
                    .push(" AND item_id = ")
                    .push_bind(item.as_str());
            }
            for domain in &c.remove_indexes {
                q.push("; DELETE FROM blind_indexes WHERE member_id = ")
                    .push_bind(c.member_id)
                    .push(" AND domain = ")
                    .push_bind(domain.as_str());
            }
            if let Some(hash) = &c.password_hash {
                q.push("; UPDATE members SET password_hash = ")
                    .push_bind(hash.as_str())
                    .push(" WHERE id = ")
                    .push_bind(c.member_id);
            }
            let audit: Vec<&$crate::AuditEntry> = c.audit.iter().collect();
            for chunk in audit.chunks($crate::sql::audit::AUDIT_ROWS_PER_INSERT) {
                q.push("; ");
                push_audit_insert(q, link_audit_rows(linker, seq, prev, chunk), None);
            }
        }

        #[async_trait::async_trait]
        impl $crate::MemberStore for $store {
            async fn insert_member(&self, m: $crate::NewMember) -> $crate::Result<()> {
                if self.insert_member_at_once(&m).await? {
                    return Ok(());
                }
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                // The login ID or index another member holds is named before anything is
                // written; the unique keys still refuse a race (a concurrent sign-up committing
                // in between).
                if let Some((domain, _)) = taken_in(&mut *tx, &m.login_index, &m.indexes).await? {
                    return Err($crate::StoreError::Duplicate { domain });
                }
                if let Some(g) = m.guardian {
                    // A child joins only on a guardian's consent still in force (issue 16). The
                    // request's row is locked before the audit chain's lock (taken with the audit
                    // rows below), in the order a guardian's refusal takes them.
                    let joined = sqlx::query(
                        "UPDATE guardian_requests SET state = 'joined', member_id = $1, joined_at = $2
                         WHERE id = $3 AND state = 'consented' AND expires_at > $2",
                    )
                    .bind(m.id)
                    .bind(m.at)
                    .bind(g)
                    .execute(&mut *tx)
                    .await?;
                    if joined.rows_affected() != 1 {
                        return Err($crate::StoreError::Conflict(
                            "the guardian's consent is no longer in force".into(),
                        ));
                    }
                }
                let head =
                    insert_members_tx(&mut tx, self.linker.as_ref(), std::slice::from_ref(&m))
                        .await?;
                tx.commit().await?;
                self.member_inserted(head);
                Ok(())
            }

            async fn insert_members(&self, ms: Vec<$crate::NewMember>) -> $crate::Result<()> {
                if ms.is_empty() {
                    return Ok(());
                }
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                insert_members_tx(&mut tx, self.linker.as_ref(), &ms).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn existing_members(
                &self,
                ids: &[uuid::Uuid],
            ) -> $crate::Result<Vec<uuid::Uuid>> {
                let mut out = Vec::new();
                for chunk in ids.chunks(1000) {
                    let mut q = sqlx::QueryBuilder::new("SELECT id FROM members WHERE id IN (");
                    let mut list = q.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    q.push(")");
                    out.extend(
                        q.build_query_scalar::<uuid::Uuid>()
                            .fetch_all(&self.read)
                            .await?,
                    );
                }
                Ok(out)
            }

            async fn member(&self, id: uuid::Uuid) -> $crate::Result<Option<$crate::MemberRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {} FROM members WHERE id = $1",
                    $crate::sql::members::MEMBER_COLUMNS
                ))
                .bind(id)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn member_by_login(
                &self,
                login_index: &[u8],
            ) -> $crate::Result<Option<$crate::MemberRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {} FROM members WHERE login_index = $1",
                    $crate::sql::members::MEMBER_COLUMNS
                ))
                .bind(login_index)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn taken(
                &self,
                login_index: &[u8],
                indexes: &[$crate::IndexEntry],
            ) -> $crate::Result<Option<(String, uuid::Uuid)>> {
                taken_in(&self.read, login_index, indexes).await
            }

            async fn member_by_index(
                &self,
                domain: &str,
                digest: &[u8],
            ) -> $crate::Result<Option<uuid::Uuid>> {
                Ok(sqlx::query_scalar(
                    "SELECT member_id FROM blind_indexes WHERE domain = $1 AND digest = $2",
                )
                .bind(domain)
                .bind(digest)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn member_ids(&self) -> $crate::Result<Vec<uuid::Uuid>> {
                Ok(sqlx::query_scalar("SELECT id FROM members")
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn count_members(&self) -> $crate::Result<i64> {
                Ok(sqlx::query_scalar("SELECT count(*) FROM members")
                    .fetch_one(&self.read)
                    .await?)
            }

            async fn items(
                &self,
                member: uuid::Uuid,
                only: Option<&[String]>,
            ) -> $crate::Result<Vec<$crate::ItemRow>> {
                let rows: Vec<$crate::ItemRow> = sqlx::query_as(
                    "SELECT item_id, sealed, correction_pending, updated_at FROM member_items
                     WHERE member_id = $1 ORDER BY item_id",
                )
                .bind(member)
                .fetch_all(&self.read)
                .await?;
                Ok(rows
                    .into_iter()
                    .filter(|r| only.is_none_or(|o| o.contains(&r.item_id)))
                    .collect())
            }

            async fn member_items(
                &self,
                member: uuid::Uuid,
                only: Option<&[String]>,
            ) -> $crate::Result<Option<Vec<$crate::ItemRow>>> {
                let items: Option<String> = sqlx::query_scalar(concat!(
                    "SELECT ",
                    items_json!("m.id"),
                    " FROM members m WHERE m.id = $1"
                ))
                .bind(member)
                .fetch_optional(&self.read)
                .await?;
                let Some(items) = items else {
                    return Ok(None);
                };
                let mut items = $crate::sql::items_from_json(&items)?;
                if let Some(only) = only {
                    items.retain(|r| only.contains(&r.item_id));
                }
                Ok(Some(items))
            }

            async fn apply(&self, c: $crate::MemberChange) -> $crate::Result<u64> {
                if GROUP_CHANGES {
                    return self.writer.apply(c).await;
                }
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let none = $crate::sql::batch::Savepoint::None;
                let linker = self.linker.as_ref();
                let ended = apply_tx(&mut tx, linker, &mut None, &c, none, &mut false).await?;
                tx.commit().await?;
                Ok(ended)
            }

            async fn withdraw(&self, w: $crate::Withdrawal) -> $crate::Result<()> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                // The member's row is locked first, as a correction locks it first: a correction
                // and a withdrawal of one member run one after the other, never interleaved.
                let found: Option<uuid::Uuid> = sqlx::query_scalar(&format!(
                    "SELECT id FROM members WHERE id = $1{FOR_UPDATE}"
                ))
                .bind(w.member_id)
                .fetch_optional(&mut *tx)
                .await?;
                if found.is_none() {
                    return Err($crate::StoreError::NotFound("member"));
                }
                // Consent events are deleted explicitly: their triggers forbid updates, not deletes.
                sqlx::query("DELETE FROM consent_events WHERE member_id = $1")
                    .bind(w.member_id)
                    .execute(&mut *tx)
                    .await?;
                let gone = sqlx::query("DELETE FROM members WHERE id = $1")
                    .bind(w.member_id)
                    .execute(&mut *tx)
                    .await?;
                if gone.rows_affected() != 1 {
                    return Err($crate::StoreError::NotFound("member"));
                }
                insert_retained_tx(&mut tx, &w.retained).await?;
                // Payment records (kept for their own period) are found with the withdrawal
                // receipt from now on; the orders no longer name the member.
                sqlx::query(
                    "UPDATE retained_records SET receipt_index = $1 WHERE id IN (
                         SELECT x.record_id FROM order_records x
                         JOIN orders o ON o.id = x.order_id WHERE o.member_id = $2)",
                )
                .bind(&w.receipt_index)
                .bind(w.member_id)
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE orders SET member_id = NULL WHERE member_id = $1")
                    .bind(w.member_id)
                    .execute(&mut *tx)
                    .await?;
                // Prize delivery items go with the member (their own keys are destroyed after
                // the commit); the office sees that the winner left.
                sqlx::query(
                    "UPDATE prize_winners SET sealed = NULL, state = 'withdrawn', member_id = NULL,
                            destroyed_at = $1
                     WHERE member_id = $2",
                )
                .bind(w.at)
                .bind(w.member_id)
                .execute(&mut *tx)
                .await?;
                // So does the record of a guardian's consent (its own key likewise).
                sqlx::query(
                    "UPDATE guardian_requests SET sealed = NULL, state = 'withdrawn', member_id = NULL,
                            destroyed_at = $1
                     WHERE member_id = $2",
                )
                .bind(w.at)
                .bind(w.member_id)
                .execute(&mut *tx)
                .await?;
                for d in &w.destruction {
                    insert_destruction_tx(&mut tx, d, false).await?;
                }
                if let Some(r) = &w.request
                    && !request_write_tx(&mut tx, r).await?
                {
                    return Err($crate::StoreError::Conflict("the request is closed".into()));
                }
                append_audit_tx(&mut tx, self.linker.as_ref(), &w.audit).await?;
                insert_jobs_tx(&mut tx, &w.jobs, w.at).await?;
                tx.commit().await?;
                // The writing connection is let go first: the checkpoint writes on it too.
                drop(conn);
                self.after_withdraw().await;
                Ok(())
            }
        }
    };
}

pub(crate) use member_sql;

pub(crate) const MEMBER_COLUMNS: &str =
    "id, login_sealed, password_hash, key_id, status, policy_version, created_at, updated_at";

/// Rows of one table per multi-row `INSERT` of new members at most (`insert_chunks`): at most
/// 9 parameters a row, far inside both databases' limits (SQLite 32 766, PostgreSQL 65 535).
const ROWS_PER_INSERT: usize = 2000;

/// `ms` in runs whose rows of any one table (members, items, indexes, consents, jobs, messages)
/// stay within `ROWS_PER_INSERT`; a member with more rows than that alone is a run of its own.
pub(crate) fn insert_chunks(ms: &[crate::NewMember]) -> Vec<&[crate::NewMember]> {
    let rows = |m: &crate::NewMember| {
        1 + m
            .items
            .len()
            .max(m.indexes.len())
            .max(m.consents.len())
            .max(m.jobs.len())
    };
    let mut chunks = Vec::new();
    let (mut start, mut taken) = (0, 0);
    for (i, m) in ms.iter().enumerate() {
        let r = rows(m);
        if i > start && taken + r > ROWS_PER_INSERT {
            chunks.push(&ms[start..i]);
            (start, taken) = (i, 0);
        }
        taken += r;
    }
    if start < ms.len() {
        chunks.push(&ms[start..]);
    }
    chunks
}

/// Whether change `c` needs no answer but the member's row (a correction: items, marks, audit
/// rows; a password change ends sessions and is not one), so that it can be sent as one command
/// (`apply_at_once`, and SQLite's one-command batches).
pub(crate) fn at_once(c: &crate::MemberChange) -> bool {
    c.set_indexes.is_empty()
        && c.end_sessions_except.is_none()
        && c.consents.is_empty()
        && c.jobs.is_empty()
        && c.request.is_none()
        && c.suspend_purposes.is_empty()
        && c.use_recovery.is_none()
}

/// The tables a sign-up writes besides the audit log, in the order it writes them
/// (`push_member_part`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum MemberPart {
    Members,
    Items,
    Indexes,
    Consents,
    Jobs,
    Messages,
}

impl MemberPart {
    pub(crate) const ALL: [Self; 6] = [
        Self::Members,
        Self::Items,
        Self::Indexes,
        Self::Consents,
        Self::Jobs,
        Self::Messages,
    ];

    /// The taken domain a unique key's refusal of this part's rows is reported as.
    pub(crate) fn taken(self) -> Option<&'static str> {
        match self {
            Self::Members => Some("login_id"),
            Self::Indexes => Some("blind_index"),
            _ => None,
        }
    }
}

pub(crate) fn unique_to_duplicate(e: sqlx::Error, domain: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate {
            domain: domain.to_owned(),
        },
        _ => StoreError::Db(e),
    }
}

#[cfg(test)]
mod tests {
    use super::{ROWS_PER_INSERT, insert_chunks};
    use crate::{NewMember, SealedItem};

    fn member(items: usize) -> NewMember {
        NewMember {
            id: uuid::Uuid::new_v4(),
            login_index: vec![],
            login_sealed: vec![],
            password_hash: String::new(),
            key_id: String::new(),
            policy_version: String::new(),
            at: chrono::Utc::now(),
            items: (0..items)
                .map(|i| SealedItem {
                    item_id: format!("item{i}"),
                    sealed: vec![],
                })
                .collect(),
            indexes: vec![],
            consents: vec![],
            audit: vec![],
            jobs: vec![],
            guardian: None,
        }
    }

    /// Every member once, in order; no run over the rows a statement takes, unless one member
    /// alone is (then it runs alone).
    #[test]
    fn insert_chunks_cover_every_member_in_order_within_the_row_limit() {
        let ms: Vec<NewMember> = [10, 300, 5000, 1, 1999, 0, 40]
            .iter()
            .cycle()
            .take(700)
            .map(|&n| member(n))
            .collect();
        let chunks = insert_chunks(&ms);
        let ids: Vec<uuid::Uuid> = chunks.iter().flat_map(|c| c.iter().map(|m| m.id)).collect();
        assert_eq!(ids, ms.iter().map(|m| m.id).collect::<Vec<_>>());
        for c in &chunks {
            let rows: usize = c.iter().map(|m| m.items.len() + 1).sum();
            assert!(
                rows <= ROWS_PER_INSERT || c.len() == 1,
                "{} members, {rows} rows",
                c.len()
            );
        }
        assert!(chunks.len() > 1);
        assert_eq!(insert_chunks(&[]).len(), 0);
    }
}
