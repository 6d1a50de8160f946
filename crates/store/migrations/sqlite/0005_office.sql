-- Privacy-office API tokens (issue 5): only a SHA-256 of each token is stored. Expand-only.
CREATE TABLE office_tokens (
    name        TEXT PRIMARY KEY,               -- the staff account, e.g. privacy-officer
    token_hash  BLOB NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
