-- 曾用名: the other names the subject's records were delivered under, for the rebuilt subjects.
UPDATE mart_subject_profiles
SET former_names = (
    SELECT string_agg(DISTINCT f.subject_name, '；' ORDER BY f.subject_name)
    FROM mart_subject_facts f
    WHERE f.subject_key = mart_subject_profiles.subject_key
      AND f.subject_name IS NOT NULL AND f.subject_name <> ''
      AND (mart_subject_profiles.name IS NULL OR f.subject_name <> mart_subject_profiles.name)
)
WHERE {subject_filter}
