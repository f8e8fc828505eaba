-- 信用档案 of the subjects being rebuilt: every subject of the subjects table
-- (keyed by USCC; name, type and division from there) and every subject key of the facts.
INSERT INTO mart_subject_profiles (
    subject_key, subject_kind, name, subject_type, division, legacy_codes, former_names,
    licences, latest_licence, penalties, latest_penalty,
    red_list_entries, latest_red_list_entry, black_list_entries, latest_black_list_entry
)
SELECT keys.subject_key,
       keys.subject_kind,
       COALESCE(s.name, latest.subject_name),
       COALESCE(s.subject_type, latest.subject_type,
                CASE WHEN keys.subject_kind = 'idcard' THEN '自然人' END),
       COALESCE(s.division,
                CASE WHEN keys.subject_kind IN ('idcard', 'regno') THEN substr(keys.subject_key, 1, 6) END),
       legacy.codes,
       NULL,
       COALESCE(n.licences, 0), n.latest_licence,
       COALESCE(n.penalties, 0), n.latest_penalty,
       COALESCE(n.red_list_entries, 0), n.latest_red_list_entry,
       COALESCE(n.black_list_entries, 0), n.latest_black_list_entry
FROM (
    SELECT subject_key, min(subject_kind) AS subject_kind
    FROM (
        SELECT subject_key, subject_kind FROM mart_subject_facts
        UNION ALL
        SELECT uscc, 'uscc' FROM subjects
    ) named
    WHERE {subject_filter}
    GROUP BY subject_key
) keys
LEFT JOIN subjects s ON s.uscc = keys.subject_key
LEFT JOIN (
    -- the name and type on the most recently received record
    SELECT subject_key, subject_name, subject_type
    FROM (
        SELECT subject_key, subject_name, subject_type,
               row_number() OVER (
                   PARTITION BY subject_key
                   ORDER BY received_at DESC NULLS LAST, delivery_id DESC, source_row DESC,
                            dataset, record_key
               ) AS recency
        FROM mart_subject_facts
        WHERE {subject_filter}
    ) ranked
    WHERE recency = 1
) latest ON latest.subject_key = keys.subject_key
LEFT JOIN (
    SELECT subject_key, string_agg(DISTINCT code, ',' ORDER BY code) AS codes
    FROM (
        SELECT subject_key, regno AS code FROM mart_subject_facts WHERE {subject_filter}
        UNION ALL
        SELECT subject_key, orgcode AS code FROM mart_subject_facts WHERE {subject_filter}
    ) seen
    WHERE code IS NOT NULL AND code <> subject_key
    GROUP BY subject_key
) legacy ON legacy.subject_key = keys.subject_key
LEFT JOIN (
    SELECT subject_key,
           sum(CASE WHEN category = 'licensing' THEN 1 ELSE 0 END) AS licences,
           max(CASE WHEN category = 'licensing' THEN fact_date END) AS latest_licence,
           sum(CASE WHEN category = 'penalty' THEN 1 ELSE 0 END) AS penalties,
           max(CASE WHEN category = 'penalty' THEN fact_date END) AS latest_penalty,
           sum(CASE WHEN category = 'red_list' THEN 1 ELSE 0 END) AS red_list_entries,
           max(CASE WHEN category = 'red_list' THEN fact_date END) AS latest_red_list_entry,
           sum(CASE WHEN category = 'black_list' THEN 1 ELSE 0 END) AS black_list_entries,
           max(CASE WHEN category = 'black_list' THEN fact_date END) AS latest_black_list_entry
    FROM mart_subject_facts
    WHERE {subject_filter}
    GROUP BY subject_key
) n ON n.subject_key = keys.subject_key
