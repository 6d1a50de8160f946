-- Sessions: only a hash of the opaque token is stored. Deleting a member deletes their sessions.
-- Shared by every instance: a session made on one works on all, and ends on all.
CREATE TABLE sessions (
    token_hash      BYTEA PRIMARY KEY,
    member_id       UUID NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    created_at      TIMESTAMPTZ NOT NULL,
    last_seen_at    TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,       -- absolute expiry
    auth_at         TIMESTAMPTZ NOT NULL        -- last time the password was entered
);
CREATE INDEX sessions_member ON sessions (member_id);

-- Login failures per login ID (by its blind index, for known and unknown IDs alike). Each
-- attempt locks its row, so the limit holds across instances.
CREATE TABLE login_failures (
    login_index     BYTEA PRIMARY KEY,
    failures        BIGINT NOT NULL,
    first_at        TIMESTAMPTZ NOT NULL,
    locked_until    TIMESTAMPTZ
);

-- Results of identity verification (본인확인) waiting to be used by a sign-up: sealed, short-lived.
CREATE TABLE identity_verifications (
    token_hash      BYTEA PRIMARY KEY,
    sealed          BYTEA NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL
);
