-- Issue 12 (purge). One index serves every way retained records are found by expiry: the purge's
-- deletes (`class = ? AND bucket IN (…) AND expires_on < ? AND hold_reason IS NULL`), its per-bucket
-- batches, and `retention_buckets`' count per bucket, which it answers from this index alone
-- (covering) instead of reading every row. The two indexes it replaces each cost the purge one more
-- B-tree delete per record (bench/README.md, "Issue 12, sixth session").
-- Dropping an index is not a contraction: no query names an index (`store/tests/migrations.rs`),
-- so an older binary's queries give the same answers, through this index or a scan.
CREATE INDEX retained_records_purge ON retained_records (class, bucket, expires_on, hold_reason);
DROP INDEX retained_records_expiry;
DROP INDEX retained_records_bucket;
