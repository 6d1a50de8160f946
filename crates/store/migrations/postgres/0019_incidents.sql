-- Issue 17: the breach register (유출 사고 대장, PIPA Art. 34, R-BRE-01..03). Expand-only.
--
-- An incident, confirmed or only suspected: what happened, when it was found (the 72-hour clock
-- of the notices and of the report runs from it), which items, how, the cause, the measures
-- taken and what members can do. The office's words about the incident, never a member's data.
-- Its members are fixed when it is recorded (every member, or those an account read in a time
-- window, from the audit chain); each member's notice is the outbox message it was sent as
-- (NULL message: no address to send to, the website notice stands in); a suspected breach
-- later confirmed is told again (the follow-up's own time and message).
CREATE TABLE incidents (
    id             UUID PRIMARY KEY,
    state          TEXT NOT NULL,     -- suspected | confirmed | closed
    title          TEXT NOT NULL,
    discovered_at  TIMESTAMPTZ NOT NULL,
    occurred       TEXT NOT NULL,     -- when and how it happened
    items          TEXT NOT NULL,     -- JSON: the items involved as the policy stated them then
    outside_attack BOOLEAN NOT NULL,  -- unauthorised access from outside (hacking)
    cause          TEXT NOT NULL,
    measures       TEXT NOT NULL,     -- what the operator did and does
    advice         TEXT NOT NULL,     -- what members can do to reduce the harm
    scope          TEXT NOT NULL,     -- JSON: how its members were chosen
    affected       BIGINT NOT NULL,
    notices_at     TIMESTAMPTZ,       -- when the notices were started
    notices_state  TEXT,              -- the state when they were started
    followup_at    TIMESTAMPTZ,       -- when the confirmation of a suspected breach was started
    reported_at    TIMESTAMPTZ,       -- when the office recorded the report as submitted
    posted_at      TIMESTAMPTZ,       -- when the notice was posted on the website (members without an address)
    recorded_by    TEXT NOT NULL,
    recorded_at    TIMESTAMPTZ NOT NULL
);
CREATE TABLE incident_members (
    incident_id  UUID NOT NULL,
    member_id    UUID NOT NULL,
    notified_at  TIMESTAMPTZ,
    message_id   UUID,
    followup_at  TIMESTAMPTZ,
    followup_message_id UUID,
    PRIMARY KEY (incident_id, member_id)
);
