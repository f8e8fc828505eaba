-- One dataset table's records as subject facts. Rendered per table by etl/marts/facts.py: the slots
-- are expressions built from checked catalog identifiers; values are bound ($name).
SELECT {subject_key} AS subject_key,
       {subject_kind} AS subject_kind,
       {subject_name} AS subject_name,
       {subject_type} AS subject_type,
       CAST($dataset AS VARCHAR) AS dataset,
       CAST($category AS VARCHAR) AS category,
       COALESCE(sources.domain, CAST($domain AS VARCHAR)) AS domain,
       ledger.department AS department,
       t."_delivery_id" AS delivery_id,
       ledger.received_at AS received_at,
       t."_source_row" AS source_row,
       {record_key} AS record_key,
       {fact_date} AS fact_date,
       {exit_date} AS exit_date,
       CAST($list_name AS VARCHAR) AS list_name,
       {authority} AS authority,
       {serious} AS serious,
       {uscc} AS uscc,
       {regno} AS regno,
       {orgcode} AS orgcode
FROM {table} t
LEFT JOIN (
    SELECT delivery_id, min(department) AS department, min(source) AS source,
           min(received_at) AS received_at
    FROM deliveries
    WHERE status <> 'duplicate'
    GROUP BY delivery_id
) ledger ON ledger.delivery_id = t."_delivery_id"
LEFT JOIN mart_sources sources ON sources.source = ledger.source
WHERE {record_filter}
