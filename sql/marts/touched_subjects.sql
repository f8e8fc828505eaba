-- Subjects named by the records a refresh takes in (facts of a current table, filtered on
-- _delivery_id) or by the versions those deliveries replaced (over a history table, on _superseded_by).
INSERT INTO mart_refresh_subjects (subject_key)
SELECT DISTINCT subject_key
FROM (
{facts}
) facts
WHERE subject_key NOT IN (SELECT subject_key FROM mart_refresh_subjects)
