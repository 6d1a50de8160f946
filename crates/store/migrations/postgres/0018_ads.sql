-- Issue 17: advertising campaigns (정보통신망법 Art. 50, R-MKT-01..03). Expand-only.
--
-- A campaign: the office's message (not personal) for one channel, and the first moment it may
-- go (never 21:00-08:00 KST). Each send is recorded per member without the content: the
-- campaign, the member, the channel, the outbox message and when it was queued.
CREATE TABLE ad_campaigns (
    id         UUID PRIMARY KEY,
    channel    TEXT NOT NULL,      -- email | sms
    subject    TEXT NOT NULL,      -- the e-mail subject (empty for a text message)
    body       TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    send_at    TIMESTAMPTZ NOT NULL
);
CREATE TABLE ad_sends (
    campaign_id UUID NOT NULL,
    member_id   UUID NOT NULL,
    channel     TEXT NOT NULL,
    message_id  UUID NOT NULL,
    queued_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (campaign_id, member_id)
);
CREATE INDEX ad_sends_member ON ad_sends (member_id);
