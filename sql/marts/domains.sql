-- The profile's counts and latest dates by key domain, for the rebuilt subjects.
INSERT INTO mart_subject_domains (subject_key, domain, category, records, latest)
SELECT subject_key, domain, category, count(*), max(fact_date)
FROM mart_subject_facts
WHERE category IN ('licensing', 'penalty', 'red_list', 'black_list') AND {subject_filter}
GROUP BY subject_key, domain, category
