-- Abuse limits (issue 11): one counter per (action, client address or target, window), shared by
-- every instance. `key` is an HMAC under the service's `system:rate-limits` key: no address,
-- mobile number, login ID or receipt code is stored. A row is over at `expires_at` (the end of
-- its window) and swept by the housekeeping. Expand-only.
CREATE TABLE rate_limits (
    key         BYTEA PRIMARY KEY,
    n           BIGINT NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX rate_limits_expires ON rate_limits (expires_at);
