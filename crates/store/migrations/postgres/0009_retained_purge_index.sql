-- Issue 12 (purge). The SQLite twin replaces `retained_records_expiry` and `retained_records_bucket`
-- with one covering index; PostgreSQL keeps them. Its DELETE removes no index entry (VACUUM does),
-- so a second index costs its purge nothing, and with the one wider index its planner, which has
-- no statistics on a freshly filled table, chose a plain index scan over a bitmap scan in heap
-- order: 1,000,000 records took 4.6 s instead of 2.9 s (bench/README.md, "Issue 12, sixth session").
COMMENT ON INDEX retained_records_expiry IS 'class and bucket: the purge''s deletes, bucket by bucket';
