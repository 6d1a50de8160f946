-- Live member data. Every personal value is sealed with the member's own key (kept in the
-- separate key store); look-ups go through keyed blind indexes, never through plaintext.

CREATE TABLE policy_versions (
    version         TEXT PRIMARY KEY,           -- SHA-256 of the policy's canonical form
    policy_id       TEXT NOT NULL,
    effective_date  TEXT NOT NULL,
    first_active_at TEXT NOT NULL,
    document        TEXT NOT NULL               -- the policy as canonical JSON (no personal data)
);

CREATE TABLE members (
    id              BLOB PRIMARY KEY,           -- random UUID, meaningless outside this database
    login_index     BLOB NOT NULL UNIQUE,       -- blind index of the login ID
    login_sealed    BLOB NOT NULL,              -- the login ID, sealed
    password_hash   TEXT NOT NULL,              -- Argon2id PHC string
    key_id          TEXT NOT NULL,              -- the member key's id (the key lives in the key store)
    status          TEXT NOT NULL CHECK (status IN ('active')),
    policy_version  TEXT NOT NULL REFERENCES policy_versions (version),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE member_items (
    member_id           BLOB NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    item_id             TEXT NOT NULL,
    sealed              BLOB NOT NULL,
    correction_pending  INTEGER NOT NULL DEFAULT 0,
    updated_at          TEXT NOT NULL,
    PRIMARY KEY (member_id, item_id)
);

CREATE TABLE blind_indexes (
    domain      TEXT NOT NULL,                  -- item id (email, rrn, ci, di, ...)
    digest      BLOB NOT NULL,
    member_id   BLOB NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    PRIMARY KEY (domain, digest)
);
CREATE INDEX blind_indexes_member ON blind_indexes (member_id);

-- The consent ledger: appended, never updated; the current state is derived from it.
CREATE TABLE consent_events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id       BLOB NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    category        TEXT NOT NULL,
    granted         INTEGER NOT NULL CHECK (granted IN (0, 1)),
    policy_version  TEXT NOT NULL REFERENCES policy_versions (version),
    channel         TEXT NOT NULL,
    at              TEXT NOT NULL
);
CREATE INDEX consent_events_member ON consent_events (member_id, seq);
CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
BEGIN SELECT RAISE(ABORT, 'consent_events is append-only'); END;

-- Tamper-evident audit chain of every personal-data event: who, when, whose, which items, why.
-- Never values. hash = HMAC(chain key, prev_hash || canonical row).
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    origin      TEXT,                           -- where the actor acted from (IP of staff/services)
    action      TEXT NOT NULL,
    member_id   BLOB,
    items       TEXT NOT NULL,
    purpose     TEXT,
    outcome     TEXT NOT NULL,
    detail      TEXT NOT NULL,
    prev_hash   BLOB NOT NULL,
    hash        BLOB NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- Durable jobs and outbox, written in the same transaction as the change that causes them.
CREATE TABLE jobs (
    id              BLOB PRIMARY KEY,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    run_at          TEXT NOT NULL,
    locked_until    TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX jobs_due ON jobs (state, run_at);

-- The retention store: records the law requires after withdrawal, sealed under retention keys
-- bucketed by class and expiry month. Reached only through the retention functions.
CREATE TABLE retained_records (
    id              BLOB PRIMARY KEY,
    class           TEXT NOT NULL,
    bucket          TEXT NOT NULL,
    key_id          TEXT NOT NULL,
    expires_on      TEXT NOT NULL,
    receipt_index   BLOB NOT NULL,              -- blind index of the withdrawal receipt code
    sealed          BLOB NOT NULL,
    hold_reason     TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX retained_records_receipt ON retained_records (receipt_index);
CREATE INDEX retained_records_expiry ON retained_records (class, bucket);

-- What was destroyed, when, how and by what. Never personal data.
CREATE TABLE destruction_records (
    id          BLOB PRIMARY KEY,
    at          TEXT NOT NULL,
    event       TEXT NOT NULL,
    class       TEXT NOT NULL,
    period      TEXT NOT NULL,
    count       INTEGER NOT NULL,
    method      TEXT NOT NULL,
    actor       TEXT NOT NULL
);
