-- Issue 13: named staff accounts of the privacy office with roles, two-factor login and sessions
-- of their own, and the record of every grant, change and revocation of rights (R-ACC-01/02).
-- Expand-only.
CREATE TABLE staff (
    name              TEXT PRIMARY KEY,        -- the staff login name, e.g. kim.officer
    role              TEXT NOT NULL,           -- officer | manager | handler | auditor
    password_hash     TEXT,                    -- Argon2id; NULL until enrolled
    totp_sealed       BLOB,                    -- the TOTP secret, sealed under system:staff
    totp_step         INTEGER NOT NULL DEFAULT 0, -- the last time step accepted (no code twice)
    enrol_hash        BLOB UNIQUE,             -- SHA-256 of the one-time enrolment token
    enrol_expires_at  TEXT,
    created_at        TEXT NOT NULL,
    enrolled_at       TEXT,
    disabled_at       TEXT
);
-- One-time recovery codes (SHA-256 each), shown once at enrolment.
CREATE TABLE staff_recovery_codes (
    name       TEXT NOT NULL REFERENCES staff (name),
    code_hash  BLOB NOT NULL,
    used_at    TEXT,
    PRIMARY KEY (name, code_hash)
);
-- Every grant, change and revocation of rights, with who and when (R-ACC-02: at least 3 years;
-- nothing deletes these rows).
CREATE TABLE staff_grants (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    name    TEXT NOT NULL,
    change  TEXT NOT NULL,                     -- grant | role | reset | revoke
    role    TEXT NOT NULL,
    actor   TEXT NOT NULL
);
-- Staff sessions, apart from members' (only token hashes are stored).
CREATE TABLE staff_sessions (
    token_hash    BLOB PRIMARY KEY,
    name          TEXT NOT NULL REFERENCES staff (name),
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    expires_at    TEXT NOT NULL
);
CREATE INDEX staff_sessions_name ON staff_sessions (name);
-- Office API tokens belong to a staff account, carry its role (read from the account on every
-- call) and expire; a token without an expiry (made before this migration) opens nothing.
ALTER TABLE office_tokens ADD COLUMN expires_at TEXT;
