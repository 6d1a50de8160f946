-- Legal holds on retained records and purge runs (issue 5). Expand-only: new nullable columns and
-- indexes, so instances of the previous release keep working.
ALTER TABLE retained_records ADD COLUMN held_at TEXT;      -- set while a legal hold is in force
ALTER TABLE retained_records ADD COLUMN held_by TEXT;      -- who placed it (staff:…, cli)
ALTER TABLE destruction_records ADD COLUMN run_id BLOB;    -- the purge run that wrote it
CREATE INDEX retained_records_bucket ON retained_records (bucket, expires_on);
CREATE INDEX destruction_records_run ON destruction_records (run_id);
