-- Abuse limits (issue 11): one counter per (action, client address or target, window). `key` is
-- an HMAC under the service's `system:rate-limits` key: no address, mobile number, login ID or
-- receipt code is stored. A row is over at `expires_at` and swept by the housekeeping.
-- Expand-only.
CREATE TABLE rate_limits (
    key         BLOB PRIMARY KEY,
    n           INTEGER NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX rate_limits_expires ON rate_limits (expires_at);
