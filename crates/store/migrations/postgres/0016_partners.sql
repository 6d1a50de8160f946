-- Issue 17: provision to partners (제3자 제공, S9, S14, S15). Expand-only.
--
-- Each delivery to a partner: a provision of a member's items, a correction of items already
-- provided, or the news that the member left or withdrew the consent. The row names the
-- partner, the member, the items (ids, not values) and the consent version the provision
-- stood on; the values are read, with a logged reason, only when the data leaves, and never
-- stored here. `reference` is the name the partner knows the member by (random, one per
-- partner and member), so a notice after the member's data is destroyed still reaches it.
CREATE TABLE partner_deliveries (
    id              UUID PRIMARY KEY,
    partner_id      TEXT NOT NULL,
    kind            TEXT NOT NULL,      -- provision | correction | withdrawal | consent_withdrawn
    member_id       UUID NOT NULL,
    reference       TEXT NOT NULL,
    items           TEXT NOT NULL,      -- JSON array of item ids
    consent_version TEXT,               -- the policy version of the consent in force when sent
    state           TEXT NOT NULL,      -- queued | acknowledged | skipped | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,               -- the partner's status or the reason, never a value
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ,
    acknowledged_at TIMESTAMPTZ
);
CREATE INDEX partner_deliveries_member ON partner_deliveries (member_id, partner_id);
CREATE INDEX partner_deliveries_partner ON partner_deliveries (partner_id, state);
CREATE INDEX partner_deliveries_recent ON partner_deliveries (partner_id, created_at);
-- One provision per partner and member waits to leave at a time (two presses of "provide" on
-- two instances cannot queue the same member twice).
CREATE UNIQUE INDEX partner_deliveries_one_queued ON partner_deliveries (partner_id, member_id)
    WHERE kind = 'provision' AND state = 'queued';

-- Each time the office told every member about a partner and asked for the consent (S15).
CREATE TABLE partner_asks (
    id         UUID PRIMARY KEY,
    partner_id TEXT NOT NULL,
    asked_at   TIMESTAMPTZ NOT NULL,
    asked_by   TEXT NOT NULL
);
CREATE INDEX partner_asks_partner ON partner_asks (partner_id);
