-- Privacy-office API tokens (issue 5): only a SHA-256 of each token is stored. Expand-only.
CREATE TABLE office_tokens (
    name        TEXT PRIMARY KEY,               -- the staff account, e.g. privacy-officer
    token_hash  BYTEA NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ
);
