-- The list entries in force on $as_of: entered on or before it and not yet exited.
SELECT subject_key, subject_kind, subject_name, dataset, list_kind, list_name, domain, department,
       authority, entry_date, exit_date, delivery_id, source_row, record_key
FROM mart_list_entries
WHERE entry_date <= CAST($as_of AS DATE)
  AND (exit_date IS NULL OR exit_date > CAST($as_of AS DATE))
