-- Live member data. Every personal value is sealed with the member's own key (kept in the
-- separate key store); look-ups go through keyed blind indexes, never through plaintext.
-- The PostgreSQL twin of migrations/sqlite/0001_init.sql: same tables, columns and rules.

CREATE TABLE policy_versions (
    version         TEXT PRIMARY KEY,           -- SHA-256 of the policy's canonical form
    policy_id       TEXT NOT NULL,
    effective_date  DATE NOT NULL,
    first_active_at TIMESTAMPTZ NOT NULL,
    document        TEXT NOT NULL               -- the policy as canonical JSON (no personal data)
);

CREATE TABLE members (
    id              UUID PRIMARY KEY,           -- random UUID, meaningless outside this database
    login_index     BYTEA NOT NULL UNIQUE,      -- blind index of the login ID
    login_sealed    BYTEA NOT NULL,             -- the login ID, sealed
    password_hash   TEXT NOT NULL,              -- Argon2id PHC string
    key_id          TEXT NOT NULL,              -- the member key's id (the key lives in the key store)
    status          TEXT NOT NULL CHECK (status IN ('active')),
    policy_version  TEXT NOT NULL REFERENCES policy_versions (version),
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE member_items (
    member_id           UUID NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    item_id             TEXT NOT NULL,
    sealed              BYTEA NOT NULL,
    correction_pending  BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (member_id, item_id)
);

CREATE TABLE blind_indexes (
    domain      TEXT NOT NULL,                  -- item id (email, rrn, ci, di, ...)
    digest      BYTEA NOT NULL,
    member_id   UUID NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    PRIMARY KEY (domain, digest)
);
CREATE INDEX blind_indexes_member ON blind_indexes (member_id);

CREATE FUNCTION jikimi_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;

-- The consent ledger: appended, never updated; the current state is derived from it.
CREATE TABLE consent_events (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id       UUID NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    category        TEXT NOT NULL,
    granted         BOOLEAN NOT NULL,
    policy_version  TEXT NOT NULL REFERENCES policy_versions (version),
    channel         TEXT NOT NULL,
    at              TIMESTAMPTZ NOT NULL
);
CREATE INDEX consent_events_member ON consent_events (member_id, seq);
CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
    FOR EACH ROW EXECUTE FUNCTION jikimi_append_only();

-- Tamper-evident audit chain of every personal-data event: who, when, whose, which items, why.
-- Never values. hash = HMAC(chain key, prev_hash || canonical row). Appends are serialised by a
-- transaction-level advisory lock, so instances sharing the database extend one chain.
CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          TEXT NOT NULL,                  -- the exact text the chain link covers
    actor       TEXT NOT NULL,
    origin      TEXT,                           -- where the actor acted from (IP of staff/services)
    action      TEXT NOT NULL,
    member_id   UUID,
    items       TEXT NOT NULL,
    purpose     TEXT,
    outcome     TEXT NOT NULL,
    detail      TEXT NOT NULL,
    prev_hash   BYTEA NOT NULL,
    hash        BYTEA NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION jikimi_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION jikimi_append_only();

-- Durable jobs and outbox, written in the same transaction as the change that causes them.
-- Claimed with FOR UPDATE SKIP LOCKED, so each job runs on one instance.
CREATE TABLE jobs (
    id              UUID PRIMARY KEY,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    run_at          TIMESTAMPTZ NOT NULL,
    locked_until    TIMESTAMPTZ,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX jobs_due ON jobs (state, run_at);

-- The retention store: records the law requires after withdrawal, sealed under retention keys
-- bucketed by class and expiry month. Reached only through the retention functions.
CREATE TABLE retained_records (
    id              UUID PRIMARY KEY,
    class           TEXT NOT NULL,
    bucket          TEXT NOT NULL,
    key_id          TEXT NOT NULL,
    expires_on      DATE NOT NULL,
    receipt_index   BYTEA NOT NULL,             -- blind index of the withdrawal receipt code
    sealed          BYTEA NOT NULL,
    hold_reason     TEXT,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX retained_records_receipt ON retained_records (receipt_index);
CREATE INDEX retained_records_expiry ON retained_records (class, bucket);

-- What was destroyed, when, how and by what. Never personal data.
CREATE TABLE destruction_records (
    id          UUID PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    event       TEXT NOT NULL,
    class       TEXT NOT NULL,
    period      TEXT NOT NULL,
    count       BIGINT NOT NULL,
    method      TEXT NOT NULL,
    actor       TEXT NOT NULL
);
