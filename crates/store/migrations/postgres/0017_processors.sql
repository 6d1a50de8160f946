-- Issue 17: the office's record of each processor (수탁자, PIPA Art. 26, R-CON-10). Expand-only.
--
-- A contract: the day it was signed and the statutory terms it was checked to contain (the
-- policy's duties: follow instructions, confidentiality, no onward sharing, liability). A
-- check: the day the office checked how the processor handles the data (Art. 26(4)) and what
-- it found. Notes are the office's words about the company, never a member's data.
CREATE TABLE processor_records (
    id           UUID PRIMARY KEY,
    processor_id TEXT NOT NULL,
    kind         TEXT NOT NULL,      -- contract | check
    on_day       DATE NOT NULL,
    duties       TEXT NOT NULL,      -- JSON array of duties the contract contains (contract)
    note         TEXT NOT NULL,
    recorded_by  TEXT NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX processor_records_processor ON processor_records (processor_id, on_day);
