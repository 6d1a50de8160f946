-- Each policy version keeps its published text (both languages), so earlier versions stay
-- viewable exactly as they were published (PIPA Art. 30(2), R-POL-02).
-- Expand-only: old instances that do not know these columns keep working.
ALTER TABLE policy_versions ADD COLUMN text_ko TEXT NOT NULL DEFAULT '';
ALTER TABLE policy_versions ADD COLUMN text_en TEXT NOT NULL DEFAULT '';
