-- Expand-only (issue 12, step 9). The housekeeping round ends expired sessions every few seconds
-- (`purge_expired`: `expires_at <= now OR last_seen_at <= now - idle`); without these indexes
-- each round reads the whole `sessions` table, a cost that grows with members. With one index
-- per column both sides of the OR are range scans (SQLite's OR optimisation, PostgreSQL's
-- BitmapOr). Numbered 0008: 0007 is left to a migration being written in parallel.
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);
