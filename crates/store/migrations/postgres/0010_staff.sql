-- Issue 13: named staff accounts of the privacy office with roles, two-factor login and sessions
-- of their own, and the record of every grant, change and revocation of rights (R-ACC-01/02).
-- Expand-only.
CREATE TABLE staff (
    name              TEXT PRIMARY KEY,        -- the staff login name, e.g. kim.officer
    role              TEXT NOT NULL,           -- officer | manager | handler | auditor
    password_hash     TEXT,                    -- Argon2id; NULL until enrolled
    totp_sealed       BYTEA,                    -- the TOTP secret, sealed under system:staff
    totp_step         BIGINT  NOT NULL DEFAULT 0, -- the last time step accepted (no code twice)
    enrol_hash        BYTEA UNIQUE,             -- SHA-256 of the one-time enrolment token
    enrol_expires_at  TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL,
    enrolled_at       TIMESTAMPTZ,
    disabled_at       TIMESTAMPTZ
);
-- One-time recovery codes (SHA-256 each), shown once at enrolment.
CREATE TABLE staff_recovery_codes (
    name       TEXT NOT NULL REFERENCES staff (name),
    code_hash  BYTEA NOT NULL,
    used_at    TIMESTAMPTZ,
    PRIMARY KEY (name, code_hash)
);
-- Every grant, change and revocation of rights, with who and when (R-ACC-02: at least 3 years;
-- nothing deletes these rows).
CREATE TABLE staff_grants (
    seq     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      TIMESTAMPTZ NOT NULL,
    name    TEXT NOT NULL,
    change  TEXT NOT NULL,                     -- grant | role | reset | revoke
    role    TEXT NOT NULL,
    actor   TEXT NOT NULL
);
-- Staff sessions, apart from members' (only token hashes are stored).
CREATE TABLE staff_sessions (
    token_hash    BYTEA PRIMARY KEY,
    name          TEXT NOT NULL REFERENCES staff (name),
    created_at    TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX staff_sessions_name ON staff_sessions (name);
-- Office API tokens belong to a staff account, carry its role (read from the account on every
-- call) and expire; a token without an expiry (made before this migration) opens nothing.
ALTER TABLE office_tokens ADD COLUMN expires_at TIMESTAMPTZ;
