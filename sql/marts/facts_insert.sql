-- Facts of the subjects being rebuilt, from one dataset table.
INSERT INTO mart_subject_facts (
    subject_key, subject_kind, subject_name, subject_type, dataset, category, domain, department,
    delivery_id, received_at, source_row, record_key, fact_date, exit_date, list_name, authority,
    serious, uscc, regno, orgcode
)
SELECT subject_key, subject_kind, subject_name, subject_type, dataset, category, domain, department,
       delivery_id, received_at, source_row, record_key, fact_date, exit_date, list_name, authority,
       serious, uscc, regno, orgcode
FROM (
{facts}
) facts
WHERE {subject_filter}
