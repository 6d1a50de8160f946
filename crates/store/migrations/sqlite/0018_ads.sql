-- Issue 17: advertising campaigns (정보통신망법 Art. 50, R-MKT-01..03). Expand-only.
--
-- A campaign: the office's message (not personal) for one channel, and the first moment it may
-- go (never 21:00-08:00 KST). Each send is recorded per member without the content: the
-- campaign, the member, the channel, the outbox message and when it was queued.
CREATE TABLE ad_campaigns (
    id         BLOB PRIMARY KEY,
    channel    TEXT NOT NULL,      -- email | sms
    subject    TEXT NOT NULL,      -- the e-mail subject (empty for a text message)
    body       TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    send_at    TEXT NOT NULL
);
CREATE TABLE ad_sends (
    campaign_id BLOB NOT NULL,
    member_id   BLOB NOT NULL,
    channel     TEXT NOT NULL,
    message_id  BLOB NOT NULL,
    queued_at   TEXT NOT NULL,
    PRIMARY KEY (campaign_id, member_id)
);
CREATE INDEX ad_sends_member ON ad_sends (member_id);
