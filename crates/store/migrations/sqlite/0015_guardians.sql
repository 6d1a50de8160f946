-- Issue 16: children under 14 join with a verified guardian's consent (S13, PIPA Art. 22-2).
-- Expand-only.
--
-- A child's request for a guardian's consent. Before the guardian consents, only what is needed to
-- ask the guardian is kept (R-CHD-03): the child's name, the guardian's name and contact, sealed
-- under a key of the request's own (`guardian:<id>`). The guardian's consent adds how it was
-- verified (R-CHD-02) and the consent choices. A request not consented to within 5 days, or
-- refused, is destroyed (ciphertext NULL, its key destroyed) with a destruction record
-- (R-CHD-04). Once the child joins, the record of the consent stays with the member until the
-- member leaves; through it the guardian, verified again, acts for the child.
CREATE TABLE guardian_requests (
    id             BLOB PRIMARY KEY,   -- also names the request's key: guardian:<id>
    link_hash      BLOB NOT NULL UNIQUE, -- SHA-256 of the token in the link sent to the guardian
    child_hash     BLOB NOT NULL UNIQUE, -- SHA-256 of the token the child's browser keeps
    state          TEXT NOT NULL,      -- pending | consented | joined | refused | expired | withdrawn
    sealed         BLOB,               -- names, contact, relationship, evidence; NULL once destroyed
    method         TEXT,               -- how the consent was verified (R-CHD-02)
    consents       TEXT,               -- the guardian's choices, JSON {category: granted}
    policy_version TEXT NOT NULL,
    member_id      BLOB,               -- the child, once joined
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,      -- pending or consented and unused past this: destroyed
    consented_at   TEXT,
    joined_at      TEXT,
    destroyed_at   TEXT,
    -- The guardian's way back to the child's account (issue 16): SHA-256 of a one-time token
    -- mailed to the guardian, and until when it works.
    access_hash    BLOB UNIQUE,
    access_expires_at TEXT
);
CREATE INDEX guardian_requests_member ON guardian_requests (member_id);
CREATE INDEX guardian_requests_expiry ON guardian_requests (expires_at) WHERE sealed IS NOT NULL;
