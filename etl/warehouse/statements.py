"""The SQL of a load, shared by both backends.

Statements use named parameters written ``$name`` (DuckDB's style; the PostgreSQL backend rewrites
them for psycopg) and read two scratch tables the backend fills from the staged Parquet files:

``_stage_keys``
    per accepted row: the dedup key fields, ``_record_hash``, ``_source_row`` and, where the
    dataset has them, the subject fields (``uscc``, ``subject_name``, ``subject_category``).
    Everything the merge decides is decided on this slim table; only the rows that are new or
    changed are then appended in full by the backend's bulk path.
``_stage_rejected``
    the rejected Parquet as it is.

A merge on the dedup key, in order: copy the current version of every changed record to the
history table; delete those current versions; append the staged rows whose key is not (or no
longer) in the table. Unchanged records (same ``_record_hash``) are never touched, which makes
loading the same staged delivery twice a no-op.

>>> from etl.catalog import load_catalog
>>> from etl.warehouse.schema import dataset_table
>>> table = dataset_table(load_catalog().datasets["tax_credit_grade_a"])
>>> print(delete_changed_sql(table))
DELETE FROM "tax_credit_grade_a" USING _stage_keys s
WHERE "tax_credit_grade_a"."tax_reg_no" = s."tax_reg_no" AND "tax_credit_grade_a"."list_year" = s."list_year"
  AND "tax_credit_grade_a"."_record_hash" <> s."_record_hash"
"""

from __future__ import annotations

from etl.warehouse.schema import HISTORY_COLUMNS, Column, DatasetTable, column_ident, ident

STAGE_KEYS = "_stage_keys"
STAGE_REJECTED = "_stage_rejected"

# Subject (主体) columns a dataset may carry; a dataset feeds ``subjects`` when it has the first two.
SUBJECT_CODE = "uscc"
SUBJECT_NAME = "subject_name"
SUBJECT_CATEGORY = "subject_category"


def stage_key_columns(table: DatasetTable) -> tuple[Column, ...]:
    """Columns of ``_stage_keys`` for ``table``: key, hash, source row, subject fields."""
    wanted = list(table.dedup_key)
    if feeds_subjects(table):
        wanted += [SUBJECT_CODE, SUBJECT_NAME]
        if table.has_fields(SUBJECT_CATEGORY):
            wanted.append(SUBJECT_CATEGORY)
    by_name = {c.name: c for c in table.columns}
    names = list(dict.fromkeys([*wanted, "_record_hash", "_source_row"]))
    return tuple(Column(name, by_name[name].logical_type) for name in names)


def feeds_subjects(table: DatasetTable) -> bool:
    return table.has_fields(SUBJECT_CODE, SUBJECT_NAME)


def _key_match(left: str, right: str, table: DatasetTable) -> str:
    return " AND ".join(f"{left}.{ident(k)} = {right}.{ident(k)}" for k in table.dedup_key)


def stage_problems_sql(table: DatasetTable) -> str:
    """Counts of staged rows with an empty dedup key field, and of keys staged more than once."""
    null_test = " OR ".join(f"{ident(k)} IS NULL" for k in table.dedup_key)
    keys = ", ".join(ident(k) for k in table.dedup_key)
    return (
        f"SELECT (SELECT count(*) FROM {STAGE_KEYS} WHERE {null_test}),\n"
        f"       (SELECT count(*) FROM (SELECT {keys} FROM {STAGE_KEYS} GROUP BY {keys}"
        f" HAVING count(*) > 1) repeated)"
    )


def copy_to_history_sql(table: DatasetTable) -> str:
    """Copies the current version of every record the staged rows change to the history table."""
    current = ident(table.name)
    columns = [c.quoted for c in table.columns]
    history_names = ", ".join([*columns, *(c.quoted for c in HISTORY_COLUMNS)])
    selected = ", ".join(f"t.{c}" for c in columns)
    return (
        f"INSERT INTO {ident(table.history_name)} ({history_names})\n"
        f"SELECT {selected}, now(), CAST($delivery_id AS VARCHAR)\n"
        f"FROM {current} t JOIN {STAGE_KEYS} s ON {_key_match('t', 's', table)}\n"
        f'WHERE t."_record_hash" <> s."_record_hash"'
    )


def delete_changed_sql(table: DatasetTable) -> str:
    """Deletes the current versions just copied to history; the new versions are appended next."""
    current = ident(table.name)
    return (
        f"DELETE FROM {current} USING {STAGE_KEYS} s\n"
        f"WHERE {_key_match(current, 's', table)}\n"
        f'  AND {current}."_record_hash" <> s."_record_hash"'
    )


def unchanged_rows_sql(table: DatasetTable) -> str:
    """Source rows of staged records already present (unchanged): the bulk append skips them."""
    return (
        f'SELECT s."_source_row" FROM {STAGE_KEYS} s\n'
        f"JOIN {ident(table.name)} t ON {_key_match('t', 's', table)}"
    )


def append_columns(table: DatasetTable) -> tuple[Column, ...]:
    """Columns the bulk append writes: all but ``_loaded_at``, which defaults to the load's time."""
    return tuple(c for c in table.columns if c.name != "_loaded_at")


def upsert_subjects_sql(table: DatasetTable) -> str:
    """Inserts the subjects seen in the staged rows; for known ones keeps the earliest first sighting
    and advances the latest (name and type follow the latest delivery)."""
    category = ident(SUBJECT_CATEGORY) if table.has_fields(SUBJECT_CATEGORY) else "NULL"
    code = ident(SUBJECT_CODE)
    # Individual businesses carry organisation type 2 under authority 9 (GB 32100).
    subject_type = (
        f"COALESCE({category}, CASE WHEN substr({code}, 1, 2) = '92' THEN '个体工商户' "
        f"ELSE '法人及非法人组织' END)"
    )
    later = "excluded.last_seen >= subjects.last_seen"
    earlier = "excluded.first_seen < subjects.first_seen"
    return f"""INSERT INTO subjects (uscc, name, subject_type, division, first_seen, last_seen,
                      first_delivery_id, last_delivery_id)
SELECT uscc, name, subject_type, substr(uscc, 3, 6),
       CAST($received_at AS TIMESTAMPTZ), CAST($received_at AS TIMESTAMPTZ),
       CAST($delivery_id AS VARCHAR), CAST($delivery_id AS VARCHAR)
FROM (
    SELECT {code} AS uscc, {ident(SUBJECT_NAME)} AS name, {subject_type} AS subject_type,
           row_number() OVER (PARTITION BY {code} ORDER BY "_source_row" DESC) AS latest
    FROM {STAGE_KEYS}
    WHERE {code} IS NOT NULL AND {code} <> $placeholder
) seen
WHERE latest = 1
ORDER BY uscc
ON CONFLICT (uscc) DO UPDATE SET
    name = CASE WHEN {later} THEN excluded.name ELSE subjects.name END,
    subject_type = CASE WHEN {later} THEN excluded.subject_type ELSE subjects.subject_type END,
    last_delivery_id = CASE WHEN {later} THEN excluded.last_delivery_id ELSE subjects.last_delivery_id END,
    last_seen = CASE WHEN {later} THEN excluded.last_seen ELSE subjects.last_seen END,
    first_delivery_id = CASE WHEN {earlier} THEN excluded.first_delivery_id
                             ELSE subjects.first_delivery_id END,
    first_seen = CASE WHEN {earlier} THEN excluded.first_seen ELSE subjects.first_seen END"""


# Quarantine rows of a delivery are replaced as a set: rows no longer rejected go, new ones come,
# unchanged ones keep their created_at (so a repeated load changes nothing).
DELETE_UNREJECTED_SQL = f"""DELETE FROM quarantine
WHERE delivery_id = $delivery_id
  AND NOT EXISTS (SELECT 1 FROM {STAGE_REJECTED} r WHERE r.source_row = quarantine.source_row)"""

DELETE_QUARANTINE_SQL = "DELETE FROM quarantine WHERE delivery_id = $delivery_id"

UPSERT_QUARANTINE_SQL = f"""INSERT INTO quarantine (delivery_id, dataset, department, source_row,
                        raw_json, reasons_json, created_at)
SELECT CAST($delivery_id AS VARCHAR), CAST($dataset AS VARCHAR), CAST($department AS VARCHAR),
       r.source_row, r.raw_json, r.reasons_json, now()
FROM {STAGE_REJECTED} r
ORDER BY r.source_row
ON CONFLICT (delivery_id, source_row) DO UPDATE SET
    raw_json = excluded.raw_json, reasons_json = excluded.reasons_json
WHERE CAST(quarantine.raw_json AS VARCHAR) <> CAST(excluded.raw_json AS VARCHAR)
   OR CAST(quarantine.reasons_json AS VARCHAR) <> CAST(excluded.reasons_json AS VARCHAR)"""

REJECTED_STAGE_COLUMNS = (
    Column("source_row", "integer", not_null=True),
    Column("raw_json", "json", not_null=True),
    Column("reasons_json", "json", not_null=True),
)


def select_list(columns: tuple[Column, ...]) -> str:
    return ", ".join(column_ident(c.name) for c in columns)
