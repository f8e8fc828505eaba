-- Subjects holding a fact of a record that now belongs to a subject being rebuilt: a correction
-- moved the record (one the ledger rows taken in did not name, e.g. committed meanwhile on
-- PostgreSQL). Run until it adds none, so that every record has one fact after the rebuild.
INSERT INTO mart_refresh_subjects (subject_key)
SELECT DISTINCT held.subject_key
FROM mart_subject_facts held
JOIN (
{facts}
) facts ON facts.dataset = held.dataset AND facts.record_key = held.record_key
WHERE facts.subject_key IN (SELECT subject_key FROM mart_refresh_subjects)
  AND held.subject_key NOT IN (SELECT subject_key FROM mart_refresh_subjects)
