-- Issue 14: mail and text messages. Expand-only.
--
-- The outbox: a message waits here until it is sent. Its recipient, subject and bodies are
-- personal data, so they are sealed under a key of the message's own (`message:<id>`, in the key
-- store); once the message is sent or given up, `sealed` is set to NULL and the key destroyed, so
-- only a record without content stays (kind, member, channel, times, attempts, result). The
-- delivery job (`outbox.deliver`) is written in the same transaction as the message.
CREATE TABLE outbox (
    id          BLOB PRIMARY KEY,           -- UUIDv4; also the delivery job's payload
    kind        TEXT NOT NULL,              -- welcome | password_changed | withdrawal | password_reset | login_id | …
    channel     TEXT NOT NULL,              -- email | sms
    member_id   BLOB,                       -- the member it concerns, if any (no foreign key: the record outlives a withdrawal)
    created_at  TEXT NOT NULL,
    state       TEXT NOT NULL,              -- queued | sent | failed
    attempts    INTEGER NOT NULL DEFAULT 0,
    sealed      BLOB,                       -- the message, sealed (NULL once sent or given up)
    last_error  TEXT,                       -- an SMTP status class and code, never the server's text
    done_at     TEXT
);
CREATE INDEX outbox_state ON outbox (state, created_at);
CREATE INDEX outbox_member ON outbox (member_id, created_at);

-- Account recovery (아이디 찾기 / 비밀번호 재설정): a random token, mailed, stored only as its
-- SHA-256; single-use, short-lived. Used up in the transaction that sets the new password.
CREATE TABLE recovery_tokens (
    token_hash  BLOB PRIMARY KEY,
    member_id   BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);
CREATE INDEX recovery_tokens_member ON recovery_tokens (member_id);

-- Advertising consent reconfirmed every two years (정보통신망법 Art. 50(8), R-MKT-04): one row per
-- member, ad category and due day when the notice was queued, so each cycle is sent once.
CREATE TABLE ad_reconfirmations (
    member_id   BLOB NOT NULL,
    category    TEXT NOT NULL,
    due_on      TEXT NOT NULL,   -- KST day: the consent day + 2, 4, … years
    consent_at  TEXT NOT NULL,   -- the grant the notice is about
    sent_at     TEXT NOT NULL,   -- when the notice was queued
    message_id  BLOB,            -- its outbox message (none without an address)
    PRIMARY KEY (member_id, category, due_on)
);
