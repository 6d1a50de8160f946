-- Issue 15: event prizes (S3). Expand-only.
--
-- An event the privacy office runs, and its winners. A winner's delivery items (recipient's
-- name, postal code, address, phone) are sealed under a key of the entry's own
-- (`prize:<winner id>`), so that they can be destroyed alone — when the prize_delivery period
-- after delivery ends, or when the member leaves — in every copy, by destroying that key.
CREATE TABLE prize_events (
    id          BLOB PRIMARY KEY,
    title       TEXT NOT NULL,         -- the event's name as members read it (nothing personal)
    prize       TEXT NOT NULL,         -- what is won
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL          -- the staff account
);

CREATE TABLE prize_winners (
    id            BLOB PRIMARY KEY,    -- also names the entry's key: prize:<id>
    event_id      BLOB NOT NULL REFERENCES prize_events (id),
    member_id     BLOB,                -- NULL once the member has left
    state         TEXT NOT NULL,       -- awaiting | entered | delivered | destroyed | withdrawn
    sealed        BLOB,                -- the delivery items; NULL before entry and after destruction
    created_at    TEXT NOT NULL,
    entered_at    TEXT,
    delivered_at  TEXT,
    expires_on    TEXT,                -- the last KST day the items are kept (set on delivery)
    destroyed_at  TEXT,
    UNIQUE (event_id, member_id)
);
CREATE INDEX prize_winners_member ON prize_winners (member_id);
CREATE INDEX prize_winners_expiry ON prize_winners (expires_on) WHERE sealed IS NOT NULL;
