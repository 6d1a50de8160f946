-- Issue 17: members are asked about a partner once per set of its facts (S15). Expand-only.
--
-- `facts_since` names the set: when the partner's present facts took effect (RFC 3339, empty
-- when unknown). A second ask about the same facts — two staff pressing at once included —
-- meets the unique index and writes nothing.
ALTER TABLE partner_asks ADD COLUMN facts_since TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX partner_asks_once ON partner_asks (partner_id, facts_since);
