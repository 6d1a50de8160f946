//! The `Store` implementation shared by both backends. The SQL is written once, with `$n`
//! parameters (which SQLite also accepts), and expanded for each backend by [`store_impl!`].
//! What differs between the backends is small and named in each backend's module:
//!
//! - `BEGIN`: how a writing transaction starts (`BEGIN IMMEDIATE` on SQLite, so that two
//!   processes sharing the file wait for each other instead of failing on a lock upgrade);
//! - `FOR_UPDATE`: the row-lock clause (empty on SQLite, where one connection writes);
//! - `CLAIM_JOB`: the query that picks a due job (`FOR UPDATE SKIP LOCKED` on PostgreSQL);
//! - `lock_audit(tx)`: serialises appends to the audit chain (an advisory lock on PostgreSQL);
//! - `Self::after_withdraw()`: what follows a withdrawal (a WAL checkpoint on SQLite).

/// Expands to the helper functions and `impl Store for $store`. The invoking module must define
/// `BEGIN`, `Tx`, `FOR_UPDATE`, `CLAIM_JOB`, `lock_audit` and `$store::after_withdraw`, and
/// `$store` must have `write` and `read` pools and a `linker`.
macro_rules! store_impl {
    ($store:ident) => {
        use $crate::types::canonical_body;

        async fn append_audit_tx(
            tx: &mut Tx<'_>,
            linker: &dyn $crate::ChainLinker,
            entries: &[$crate::AuditEntry],
        ) -> $crate::Result<()> {
            if entries.is_empty() {
                return Ok(());
            }
            lock_audit(tx).await?;
            let last: Option<(i64, Vec<u8>)> =
                sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&mut **tx)
                    .await?;
            let (mut seq, mut prev) = last.unwrap_or((0, vec![0u8; 32]));
            for e in entries {
                seq += 1;
                let at = e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
                let items = e.items.join(",");
                let detail = e.detail.to_string();
                let body = canonical_body(
                    seq,
                    &at,
                    &e.actor,
                    e.origin.as_deref(),
                    &e.action,
                    e.member_id,
                    &items,
                    e.purpose.as_deref(),
                    &e.outcome,
                    &detail,
                );
                let hash = linker.link(&prev, &body);
                sqlx::query(
                    "INSERT INTO audit_log (seq, at, actor, origin, action, member_id, items, purpose, outcome, detail, prev_hash, hash)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(seq)
                .bind(&at)
                .bind(&e.actor)
                .bind(&e.origin)
                .bind(&e.action)
                .bind(e.member_id)
                .bind(&items)
                .bind(&e.purpose)
                .bind(&e.outcome)
                .bind(&detail)
                .bind(&prev)
                .bind(&hash)
                .execute(&mut **tx)
                .await?;
                prev = hash;
            }
            Ok(())
        }

        async fn insert_jobs_tx(
            tx: &mut Tx<'_>,
            jobs: &[$crate::NewJob],
            now: chrono::DateTime<chrono::Utc>,
        ) -> $crate::Result<()> {
            for j in jobs {
                sqlx::query(
                    "INSERT INTO jobs (id, kind, payload, state, attempts, run_at, created_at)
                     VALUES ($1, $2, $3, 'queued', 0, $4, $5)",
                )
                .bind(j.id)
                .bind(&j.kind)
                .bind(j.payload.to_string())
                .bind(j.run_at)
                .bind(now)
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }

        /// Writes a destruction record; with `add`, a record of the same id gets the count added
        /// (a purge writes its record for a class batch by batch).
        async fn insert_destruction_tx(
            tx: &mut Tx<'_>,
            d: &$crate::DestructionRecord,
            add: bool,
        ) -> $crate::Result<()> {
            let on_conflict = if add {
                " ON CONFLICT (id) DO UPDATE SET count = destruction_records.count + excluded.count"
            } else {
                ""
            };
            sqlx::query(&format!(
                "INSERT INTO destruction_records (id, at, event, class, period, count, method, actor, run_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9){on_conflict}"
            ))
            .bind(d.id)
            .bind(d.at)
            .bind(&d.event)
            .bind(&d.class)
            .bind(&d.period)
            .bind(d.count)
            .bind(&d.method)
            .bind(&d.actor)
            .bind(d.run_id)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        async fn insert_consents_tx(
            tx: &mut Tx<'_>,
            member: uuid::Uuid,
            events: &[$crate::NewConsentEvent],
        ) -> $crate::Result<()> {
            for c in events {
                sqlx::query(
                    "INSERT INTO consent_events (member_id, category, granted, policy_version, channel, at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(member)
                .bind(&c.category)
                .bind(c.granted)
                .bind(&c.policy_version)
                .bind(&c.channel)
                .bind(c.at)
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }

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
                .map_err(|e| $crate::common::unique_to_duplicate(e, &ix.domain))?;
            }
            Ok(())
        }

        fn job_row<R: sqlx::Row>(row: &R) -> $crate::Result<$crate::JobRow>
        where
            for<'r> $crate::common::JobColumns: sqlx::FromRow<'r, R>,
        {
            <$crate::common::JobColumns as sqlx::FromRow<R>>::from_row(row)?.into_job()
        }

        #[async_trait::async_trait]
        impl $crate::Store for $store {
            async fn record_policy_version(&self, v: $crate::PolicyVersionRow) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO policy_versions (version, policy_id, effective_date, first_active_at, document, text_ko, text_en)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (version) DO NOTHING",
                )
                .bind(&v.version)
                .bind(&v.policy_id)
                .bind(v.effective_date)
                .bind(v.first_active_at)
                .bind(&v.document)
                .bind(&v.text_ko)
                .bind(&v.text_en)
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn policy_versions(&self) -> $crate::Result<Vec<$crate::PolicyVersionRow>> {
                Ok(sqlx::query_as(
                    "SELECT version, policy_id, effective_date, first_active_at, document, text_ko, text_en
                     FROM policy_versions ORDER BY first_active_at, version",
                )
                .fetch_all(&self.read)
                .await?)
            }

            async fn insert_member(&self, m: $crate::NewMember) -> $crate::Result<()> {
                let mut tx = self.write.begin_with(BEGIN).await?;
                let taken: Option<uuid::Uuid> =
                    sqlx::query_scalar("SELECT id FROM members WHERE login_index = $1")
                        .bind(&m.login_index)
                        .fetch_optional(&mut *tx)
                        .await?;
                if taken.is_some() {
                    return Err($crate::StoreError::Duplicate {
                        domain: "login_id".into(),
                    });
                }
                sqlx::query(
                    "INSERT INTO members (id, login_index, login_sealed, password_hash, key_id, status, policy_version, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $7)",
                )
                .bind(m.id)
                .bind(&m.login_index)
                .bind(&m.login_sealed)
                .bind(&m.password_hash)
                .bind(&m.key_id)
                .bind(&m.policy_version)
                .bind(m.at)
                .execute(&mut *tx)
                .await
                .map_err(|e| $crate::common::unique_to_duplicate(e, "login_id"))?;
                for item in &m.items {
                    sqlx::query(
                        "INSERT INTO member_items (member_id, item_id, sealed, correction_pending, updated_at)
                         VALUES ($1, $2, $3, FALSE, $4)",
                    )
                    .bind(m.id)
                    .bind(&item.item_id)
                    .bind(&item.sealed)
                    .bind(m.at)
                    .execute(&mut *tx)
                    .await?;
                }
                set_indexes_tx(&mut tx, m.id, &m.indexes).await?;
                insert_consents_tx(&mut tx, m.id, &m.consents).await?;
                append_audit_tx(&mut tx, self.linker.as_ref(), &m.audit).await?;
                insert_jobs_tx(&mut tx, &m.jobs, m.at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn member(&self, id: uuid::Uuid) -> $crate::Result<Option<$crate::MemberRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {} FROM members WHERE id = $1",
                    $crate::common::MEMBER_COLUMNS
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
                    $crate::common::MEMBER_COLUMNS
                ))
                .bind(login_index)
                .fetch_optional(&self.read)
                .await?)
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

            async fn apply(&self, c: $crate::MemberChange) -> $crate::Result<u64> {
                let mut tx = self.write.begin_with(BEGIN).await?;
                let touched = sqlx::query(
                    "UPDATE members SET updated_at = $1 WHERE id = $2 AND status = 'active'",
                )
                .bind(c.at)
                .bind(c.member_id)
                .execute(&mut *tx)
                .await?;
                if touched.rows_affected() != 1 {
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
                    .execute(&mut *tx)
                    .await?;
                }
                for item in &c.remove_items {
                    sqlx::query("DELETE FROM member_items WHERE member_id = $1 AND item_id = $2")
                        .bind(c.member_id)
                        .bind(item)
                        .execute(&mut *tx)
                        .await?;
                }
                for (item, pending) in &c.correction_marks {
                    sqlx::query(
                        "UPDATE member_items SET correction_pending = $1 WHERE member_id = $2 AND item_id = $3",
                    )
                    .bind(pending)
                    .bind(c.member_id)
                    .bind(item)
                    .execute(&mut *tx)
                    .await?;
                }
                for domain in &c.remove_indexes {
                    sqlx::query("DELETE FROM blind_indexes WHERE member_id = $1 AND domain = $2")
                        .bind(c.member_id)
                        .bind(domain)
                        .execute(&mut *tx)
                        .await?;
                }
                set_indexes_tx(&mut tx, c.member_id, &c.set_indexes).await?;
                if let Some(hash) = &c.password_hash {
                    sqlx::query("UPDATE members SET password_hash = $1 WHERE id = $2")
                        .bind(hash)
                        .bind(c.member_id)
                        .execute(&mut *tx)
                        .await?;
                }
                let mut ended = 0;
                if let Some(keep) = &c.end_sessions_except {
                    ended = sqlx::query(
                        "DELETE FROM sessions WHERE member_id = $1 AND token_hash <> $2",
                    )
                    .bind(c.member_id)
                    .bind(keep)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                }
                insert_consents_tx(&mut tx, c.member_id, &c.consents).await?;
                append_audit_tx(&mut tx, self.linker.as_ref(), &c.audit).await?;
                insert_jobs_tx(&mut tx, &c.jobs, c.at).await?;
                tx.commit().await?;
                Ok(ended)
            }

            async fn consent_events(
                &self,
                member: uuid::Uuid,
            ) -> $crate::Result<Vec<$crate::ConsentEventRow>> {
                Ok(sqlx::query_as(
                    "SELECT seq, member_id, category, granted, policy_version, channel, at
                     FROM consent_events WHERE member_id = $1 ORDER BY seq",
                )
                .bind(member)
                .fetch_all(&self.read)
                .await?)
            }

            async fn withdraw(&self, w: $crate::Withdrawal) -> $crate::Result<()> {
                let mut tx = self.write.begin_with(BEGIN).await?;
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
                for r in &w.retained {
                    sqlx::query(
                        "INSERT INTO retained_records (id, class, bucket, key_id, expires_on, receipt_index, sealed, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(r.id)
                    .bind(&r.class)
                    .bind(&r.bucket)
                    .bind(&r.key_id)
                    .bind(r.expires_on)
                    .bind(&r.receipt_index)
                    .bind(&r.sealed)
                    .bind(r.created_at)
                    .execute(&mut *tx)
                    .await?;
                }
                for d in &w.destruction {
                    insert_destruction_tx(&mut tx, d, false).await?;
                }
                append_audit_tx(&mut tx, self.linker.as_ref(), &w.audit).await?;
                insert_jobs_tx(&mut tx, &w.jobs, w.at).await?;
                tx.commit().await?;
                self.after_withdraw().await;
                Ok(())
            }

            async fn insert_session(&self, s: $crate::SessionRow) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO sessions (token_hash, member_id, created_at, last_seen_at, expires_at, auth_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&s.token_hash)
                .bind(s.member_id)
                .bind(s.created_at)
                .bind(s.last_seen_at)
                .bind(s.expires_at)
                .bind(s.auth_at)
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn session(&self, token_hash: &[u8]) -> $crate::Result<Option<$crate::SessionRow>> {
                Ok(sqlx::query_as(
                    "SELECT token_hash, member_id, created_at, last_seen_at, expires_at, auth_at
                     FROM sessions WHERE token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn touch_session(
                &self,
                token_hash: &[u8],
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<()> {
                sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                    .bind(at)
                    .bind(token_hash)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn set_session_auth(
                &self,
                token_hash: &[u8],
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<()> {
                sqlx::query(
                    "UPDATE sessions SET auth_at = $1, last_seen_at = $1 WHERE token_hash = $2",
                )
                .bind(at)
                .bind(token_hash)
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn delete_session(&self, token_hash: &[u8]) -> $crate::Result<bool> {
                let done = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(&self.write)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn delete_member_sessions(
                &self,
                member: uuid::Uuid,
                keep: Option<&[u8]>,
            ) -> $crate::Result<u64> {
                let done = sqlx::query(
                    "DELETE FROM sessions WHERE member_id = $1 AND ($2 IS NULL OR token_hash <> $2)",
                )
                .bind(member)
                .bind(keep)
                .execute(&self.write)
                .await?;
                Ok(done.rows_affected())
            }

            async fn purge_expired(
                &self,
                now: chrono::DateTime<chrono::Utc>,
                idle: chrono::Duration,
            ) -> $crate::Result<u64> {
                let mut tx = self.write.begin_with(BEGIN).await?;
                let sessions = sqlx::query(
                    "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2",
                )
                .bind(now)
                .bind(now - idle)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let identities =
                    sqlx::query("DELETE FROM identity_verifications WHERE expires_at <= $1")
                        .bind(now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                tx.commit().await?;
                Ok(sessions + identities)
            }

            async fn begin_login_attempt(
                &self,
                login_index: &[u8],
                at: chrono::DateTime<chrono::Utc>,
                window: chrono::Duration,
                max: i64,
                lock: chrono::Duration,
            ) -> $crate::Result<std::result::Result<i64, chrono::DateTime<chrono::Utc>>> {
                let mut tx = self.write.begin_with(BEGIN).await?;
                // One statement makes sure the row exists and locks it (a no-op update on conflict
                // takes the row lock, even when another attempt just deleted or inserted it), so
                // concurrent attempts for one ID, on any instance, count one after the other.
                let (n, first, locked): (i64, chrono::DateTime<chrono::Utc>, Option<chrono::DateTime<chrono::Utc>>) =
                    sqlx::query_as(
                        "INSERT INTO login_failures (login_index, failures, first_at, locked_until)
                         VALUES ($1, 0, $2, NULL)
                         ON CONFLICT (login_index) DO UPDATE SET failures = login_failures.failures
                         RETURNING failures, first_at, locked_until",
                    )
                    .bind(login_index)
                    .bind(at)
                    .fetch_one(&mut *tx)
                    .await?;
                if let Some(until) = locked.filter(|u| *u > at) {
                    return Ok(Err(until));
                }
                let (failures, first_at) = if at - first <= window && locked.is_none() {
                    (n + 1, first)
                } else {
                    (1, at)
                };
                let locked_until = (failures > max).then(|| at + lock);
                sqlx::query(
                    "UPDATE login_failures SET failures = $1, first_at = $2, locked_until = $3
                     WHERE login_index = $4",
                )
                .bind(failures)
                .bind(first_at)
                .bind(locked_until)
                .bind(login_index)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(match locked_until {
                    Some(until) => Err(until),
                    None => Ok(failures),
                })
            }

            async fn lock_login(
                &self,
                login_index: &[u8],
                until: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<()> {
                sqlx::query("UPDATE login_failures SET locked_until = $1 WHERE login_index = $2")
                    .bind(until)
                    .bind(login_index)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn clear_login_failures(&self, login_index: &[u8]) -> $crate::Result<()> {
                sqlx::query("DELETE FROM login_failures WHERE login_index = $1")
                    .bind(login_index)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn put_identity(
                &self,
                token_hash: &[u8],
                sealed: &[u8],
                expires_at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO identity_verifications (token_hash, sealed, expires_at) VALUES ($1, $2, $3)",
                )
                .bind(token_hash)
                .bind(sealed)
                .bind(expires_at)
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn identity(
                &self,
                token_hash: &[u8],
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<Option<Vec<u8>>> {
                Ok(sqlx::query_scalar(
                    "SELECT sealed FROM identity_verifications WHERE token_hash = $1 AND expires_at > $2",
                )
                .bind(token_hash)
                .bind(now)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn take_identity(
                &self,
                token_hash: &[u8],
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<Option<Vec<u8>>> {
                let mut tx = self.write.begin_with(BEGIN).await?;
                // Expired results go whenever any is taken.
                sqlx::query("DELETE FROM identity_verifications WHERE expires_at <= $1")
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                let sealed: Option<Vec<u8>> = sqlx::query_scalar(
                    "DELETE FROM identity_verifications WHERE token_hash = $1 RETURNING sealed",
                )
                .bind(token_hash)
                .fetch_optional(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(sealed)
            }

            async fn append_audit(&self, entries: Vec<$crate::AuditEntry>) -> $crate::Result<()> {
                let mut tx = self.write.begin_with(BEGIN).await?;
                append_audit_tx(&mut tx, self.linker.as_ref(), &entries).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn audit_rows(
                &self,
                after_seq: i64,
                limit: i64,
            ) -> $crate::Result<Vec<$crate::AuditRow>> {
                Ok(sqlx::query_as(
                    "SELECT seq, at, actor, origin, action, member_id, items, purpose, outcome, detail, prev_hash, hash
                     FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(after_seq)
                .bind(limit)
                .fetch_all(&self.read)
                .await?)
            }

            async fn audit_head(&self) -> $crate::Result<Option<$crate::AuditRow>> {
                Ok(sqlx::query_as(
                    "SELECT seq, at, actor, origin, action, member_id, items, purpose, outcome, detail, prev_hash, hash
                     FROM audit_log ORDER BY seq DESC LIMIT 1",
                )
                .fetch_optional(&self.read)
                .await?)
            }

            async fn retained_by_receipt(
                &self,
                receipt_index: &[u8],
            ) -> $crate::Result<Vec<$crate::RetainedRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, class, bucket, key_id, expires_on, receipt_index, sealed, created_at, hold_reason
                     FROM retained_records WHERE receipt_index = $1 ORDER BY class",
                )
                .bind(receipt_index)
                .fetch_all(&self.read)
                .await?)
            }

            async fn destruction_records(&self) -> $crate::Result<Vec<$crate::DestructionRecord>> {
                Ok(sqlx::query_as(
                    "SELECT id, at, event, class, period, count, method, actor, run_id
                     FROM destruction_records ORDER BY at, id",
                )
                .fetch_all(&self.read)
                .await?)
            }

            async fn retained_record(
                &self,
                id: uuid::Uuid,
            ) -> $crate::Result<Option<$crate::RetainedRecord>> {
                Ok(sqlx::query_as(
                    "SELECT id, class, bucket, key_id, expires_on, receipt_index, sealed, created_at, hold_reason
                     FROM retained_records WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn retained_meta(
                &self,
                after: Option<(chrono::NaiveDate, uuid::Uuid)>,
                limit: i64,
            ) -> $crate::Result<Vec<$crate::RetainedMeta>> {
                let (day, id) = after.unzip();
                Ok(sqlx::query_as(
                    "SELECT id, class, bucket, expires_on, created_at, hold_reason, held_at, held_by
                     FROM retained_records
                     WHERE $1 IS NULL OR expires_on > $1 OR (expires_on = $1 AND id > $2)
                     ORDER BY expires_on, id LIMIT $3",
                )
                .bind(day)
                .bind(id)
                .bind(limit)
                .fetch_all(&self.read)
                .await?)
            }

            async fn retained_meta_by_id(
                &self,
                id: uuid::Uuid,
            ) -> $crate::Result<Option<$crate::RetainedMeta>> {
                Ok(sqlx::query_as(
                    "SELECT id, class, bucket, expires_on, created_at, hold_reason, held_at, held_by
                     FROM retained_records WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn retention_buckets(&self) -> $crate::Result<Vec<$crate::RetentionBucket>> {
                Ok(sqlx::query_as(
                    "SELECT class, bucket, expires_on, count(*) AS records, count(hold_reason) AS held
                     FROM retained_records GROUP BY class, bucket, expires_on
                     ORDER BY expires_on, class, bucket",
                )
                .fetch_all(&self.read)
                .await?)
            }

            async fn purge_retained_batch(
                &self,
                bucket: &str,
                class: &str,
                today: chrono::NaiveDate,
                limit: i64,
                d: &$crate::DestructionRecord,
            ) -> $crate::Result<u64> {
                let mut tx = self.write.begin_with(BEGIN).await?;
                let done = sqlx::query(
                    "DELETE FROM retained_records WHERE id IN (
                         SELECT id FROM retained_records
                         WHERE bucket = $1 AND class = $2 AND expires_on < $3 AND hold_reason IS NULL
                         LIMIT $4)",
                )
                .bind(bucket)
                .bind(class)
                .bind(today)
                .bind(limit)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if done > 0 {
                    let batch = $crate::DestructionRecord {
                        count: done as i64,
                        ..d.clone()
                    };
                    insert_destruction_tx(&mut tx, &batch, true).await?;
                }
                tx.commit().await?;
                Ok(done)
            }

            async fn count_expired(
                &self,
                now: chrono::DateTime<chrono::Utc>,
                idle: chrono::Duration,
            ) -> $crate::Result<u64> {
                let sessions: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2",
                )
                .bind(now)
                .bind(now - idle)
                .fetch_one(&self.read)
                .await?;
                let identities: i64 =
                    sqlx::query_scalar("SELECT count(*) FROM identity_verifications WHERE expires_at <= $1")
                        .bind(now)
                        .fetch_one(&self.read)
                        .await?;
                Ok((sessions + identities).max(0) as u64)
            }

            async fn set_hold(&self, c: $crate::HoldChange) -> $crate::Result<()> {
                let mut tx = self.write.begin_with(BEGIN).await?;
                let (reason, by, at) = c.hold.clone().map_or((None, None, None), |(r, b, a)| {
                    (Some(r), Some(b), Some(a))
                });
                let done = sqlx::query(
                    "UPDATE retained_records SET hold_reason = $2, held_by = $3, held_at = $4
                     WHERE id = $1",
                )
                .bind(c.record_id)
                .bind(reason)
                .bind(by)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Err($crate::StoreError::NotFound("retained record"));
                }
                if let Some(r) = &c.resealed {
                    sqlx::query(
                        "UPDATE retained_records SET bucket = $2, key_id = $3, sealed = $4 WHERE id = $1",
                    )
                    .bind(c.record_id)
                    .bind(&r.bucket)
                    .bind(&r.key_id)
                    .bind(&r.sealed)
                    .execute(&mut *tx)
                    .await?;
                }
                append_audit_tx(&mut tx, self.linker.as_ref(), &c.audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn record_destruction(
                &self,
                records: Vec<$crate::DestructionRecord>,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<()> {
                let mut tx = self.write.begin_with(BEGIN).await?;
                for d in &records {
                    insert_destruction_tx(&mut tx, d, false).await?;
                }
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn set_office_token(
                &self,
                name: &str,
                token_hash: &[u8],
                at: chrono::DateTime<chrono::Utc>,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<()> {
                let mut tx = self.write.begin_with(BEGIN).await?;
                sqlx::query(
                    "INSERT INTO office_tokens (name, token_hash, created_at, revoked_at)
                     VALUES ($1, $2, $3, NULL)
                     ON CONFLICT (name) DO UPDATE SET token_hash = excluded.token_hash,
                         created_at = excluded.created_at, revoked_at = NULL",
                )
                .bind(name)
                .bind(token_hash)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn office_account(&self, token_hash: &[u8]) -> $crate::Result<Option<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT name FROM office_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
                )
                .bind(token_hash)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn revoke_office_token(
                &self,
                name: &str,
                at: chrono::DateTime<chrono::Utc>,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<bool> {
                let mut tx = self.write.begin_with(BEGIN).await?;
                let done = sqlx::query(
                    "UPDATE office_tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
                )
                .bind(name)
                .bind(at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if done == 1 {
                    append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                }
                tx.commit().await?;
                Ok(done == 1)
            }

            async fn schedule_job(
                &self,
                j: $crate::NewJob,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<bool> {
                let done = sqlx::query(
                    "INSERT INTO jobs (id, kind, payload, state, attempts, run_at, created_at)
                     VALUES ($1, $2, $3, 'queued', 0, $4, $5) ON CONFLICT (id) DO NOTHING",
                )
                .bind(j.id)
                .bind(&j.kind)
                .bind(j.payload.to_string())
                .bind(j.run_at)
                .bind(now)
                .execute(&self.write)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn jobs(&self, kind: Option<&str>) -> $crate::Result<Vec<$crate::JobRow>> {
                let rows = sqlx::query(&format!(
                    "SELECT {} FROM jobs WHERE $1 IS NULL OR kind = $1 ORDER BY created_at, id",
                    $crate::common::JOB_COLUMNS
                ))
                .bind(kind)
                .fetch_all(&self.read)
                .await?;
                rows.iter().map(job_row).collect()
            }

            async fn claim_job(
                &self,
                kinds: &[&str],
                now: chrono::DateTime<chrono::Utc>,
                lease_until: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<Option<$crate::JobRow>> {
                let mut tx = self.write.begin_with(BEGIN).await?;
                let kinds_json = serde_json::json!(kinds).to_string();
                let row = sqlx::query(CLAIM_JOB)
                    .bind(&kinds_json)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let mut job = job_row(&row)?;
                sqlx::query(
                    "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_until = $1 WHERE id = $2",
                )
                .bind(lease_until)
                .bind(job.id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                job.state = "running".into();
                job.attempts += 1;
                Ok(Some(job))
            }

            async fn finish_job(&self, id: uuid::Uuid, outcome: $crate::JobOutcome) -> $crate::Result<()> {
                let q = match &outcome {
                    $crate::JobOutcome::Done => sqlx::query(
                        "UPDATE jobs SET state = 'done', locked_until = NULL, last_error = NULL WHERE id = $1",
                    )
                    .bind(id),
                    $crate::JobOutcome::Retry { at, error } => sqlx::query(
                        "UPDATE jobs SET state = 'queued', locked_until = NULL, run_at = $2, last_error = $3 WHERE id = $1",
                    )
                    .bind(id)
                    .bind(*at)
                    .bind(error.clone()),
                    $crate::JobOutcome::Failed { error } => sqlx::query(
                        "UPDATE jobs SET state = 'failed', locked_until = NULL, last_error = $2 WHERE id = $1",
                    )
                    .bind(id)
                    .bind(error.clone()),
                };
                q.execute(&self.write).await?;
                Ok(())
            }
        }
    };
}

pub(crate) use store_impl;

use crate::{JobRow, Result, StoreError};

pub(crate) const MEMBER_COLUMNS: &str =
    "id, login_sealed, password_hash, key_id, status, policy_version, created_at, updated_at";

pub(crate) const JOB_COLUMNS: &str = "id, kind, payload, state, attempts, run_at, last_error";

/// A job as its columns come out of either database (the payload is JSON text).
#[derive(sqlx::FromRow)]
pub(crate) struct JobColumns {
    id: uuid::Uuid,
    kind: String,
    payload: String,
    state: String,
    attempts: i64,
    run_at: chrono::DateTime<chrono::Utc>,
    last_error: Option<String>,
}

impl JobColumns {
    pub(crate) fn into_job(self) -> Result<JobRow> {
        Ok(JobRow {
            id: self.id,
            kind: self.kind,
            payload: serde_json::from_str(&self.payload)
                .map_err(|e| StoreError::Malformed(format!("job payload: {e}")))?,
            state: self.state,
            attempts: self.attempts,
            run_at: self.run_at,
            last_error: self.last_error,
        })
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
