-- Issue 13: rights requests and complaints as tickets of the privacy office, with a deadline
-- (PIPA Art. 35-38: 10 days), a state, an assignee and a history (R-DSR-02). Expand-only.
--
-- What the requester wrote, the values asked for, the identity check, the agent and the answer
-- are sealed: under the member's key when the request is a member's (so leaving destroys them
-- with the rest), else under a key of the request's own (`request:<id>`), destroyed when a
-- complaint's record moves to the retention store. No foreign key to members: a ticket outlives
-- its member's withdrawal (only its sealed parts become unreadable).
CREATE TABLE office_requests (
    id             BLOB PRIMARY KEY,            -- UUIDv7
    kind           TEXT NOT NULL,               -- access | correction | suspension | consent_withdrawal | withdrawal | complaint
    channel        TEXT NOT NULL,               -- mypage | web | letter | phone | email | fax
    member_id      BLOB,                        -- the member it concerns, if known
    receipt_index  BLOB UNIQUE,                 -- keyed digest of the receipt code a public complaint is given
    items          TEXT NOT NULL DEFAULT '[]',  -- JSON array of the item ids it names (held while a correction is pending)
    purpose        TEXT,                        -- the purpose processing is to stop for (suspension)
    sealed         BLOB,                        -- the request's content (NULL once destroyed)
    answer_sealed  BLOB,                        -- the answer (or the refusal's reasons)
    received_at    TEXT NOT NULL,
    due_on         TEXT NOT NULL,               -- KST day: the receipt day + 10 (the first day not counted)
    state          TEXT NOT NULL,               -- received | in_progress | extended | answered | refused
    assignee       TEXT,                        -- a staff account's name
    updated_at     TEXT NOT NULL,
    closed_at      TEXT
);
CREATE INDEX office_requests_open ON office_requests (closed_at, due_on);
CREATE INDEX office_requests_member ON office_requests (member_id);
-- The history of a request: every filing, assignment, extension, answer and refusal, with who and
-- when. A note's text is sealed as the request's content is.
CREATE TABLE office_request_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id  BLOB NOT NULL REFERENCES office_requests (id),
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    event       TEXT NOT NULL,                  -- filed | assigned | extended | corrected | answered | refused | note
    state       TEXT NOT NULL,                  -- the request's state after the event
    sealed      BLOB                            -- the event's text, if any
);
CREATE INDEX office_request_events_request ON office_request_events (request_id, seq);
-- Processing stopped for a purpose at the member's request (PIPA Art. 37): the member's items are
-- then refused to that purpose by every reveal. Gone with the member.
CREATE TABLE processing_suspensions (
    member_id   BLOB NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL,
    since       TEXT NOT NULL,
    PRIMARY KEY (member_id, purpose)
);
-- The monthly review of the access log (R-LOG-03): who reviewed which month (KST), when, what it
-- covered, and the reviewer's notes (sealed under system:access_review).
CREATE TABLE access_reviews (
    month         TEXT PRIMARY KEY,           -- YYYY-MM
    reviewer      TEXT NOT NULL,              -- a staff account's name
    reviewed_at   TEXT NOT NULL,
    entries       INTEGER NOT NULL,                -- staff entries about members in the month
    flagged       INTEGER NOT NULL,                -- how many of them were flagged for a look
    notes_sealed  BLOB
);
-- Staff entries of the audit chain by time, for the review (members' own entries, by far the
-- most, stay out of this index).
CREATE INDEX audit_log_staff ON audit_log (at) WHERE actor LIKE 'staff:%';
