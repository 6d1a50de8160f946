-- Sessions: only a hash of the opaque token is stored. Deleting a member deletes their sessions.
CREATE TABLE sessions (
    token_hash      BLOB PRIMARY KEY,
    member_id       BLOB NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    created_at      TEXT NOT NULL,
    last_seen_at    TEXT NOT NULL,
    expires_at      TEXT NOT NULL,              -- absolute expiry
    auth_at         TEXT NOT NULL               -- last time the password was entered
);
CREATE INDEX sessions_member ON sessions (member_id);

-- Login failures per login ID (by its blind index, for known and unknown IDs alike).
CREATE TABLE login_failures (
    login_index     BLOB PRIMARY KEY,
    failures        INTEGER NOT NULL,
    first_at        TEXT NOT NULL,
    locked_until    TEXT
);

-- Results of identity verification (본인확인) waiting to be used by a sign-up: sealed, short-lived.
CREATE TABLE identity_verifications (
    token_hash      BLOB PRIMARY KEY,
    sealed          BLOB NOT NULL,
    expires_at      TEXT NOT NULL
);
