"""The SQL of a load, shared by both backends.

Statements use named parameters written ``$name`` (DuckDB's style; the PostgreSQL backend rewrites
them for psycopg) and read scratch tables that live until the load's transaction ends:

``_stage_rows``
    the accepted rows of the delivery, typed, with their lineage, streamed in while the delivery is
    read (``etl.warehouse.loading``). Into an empty table (a first load or a backfill) they go
    straight into the dataset table instead, and the statements below read that.
``_stage_changes``
    the accepted rows that must be written, with their key, ``_source_row`` and ``_change``:
    ``new`` (key not in the table) or ``changed`` (key there with another ``_record_hash``).
    It comes from one join of the staged rows with the table (skipped when the table is empty:
    then every row is new); unchanged records are not in it, so loading the same staged delivery
    again writes nothing.
``_stage_rejected``
    the rejected Parquet as it is.

The merge, in order: copy the current version of every changed record to the history table;
replace it (DuckDB updates in place; PostgreSQL deletes and lets the append bring the new
version); append the new and changed rows from ``_stage_rows``.

>>> from etl.catalog import load_catalog
>>> from etl.warehouse.schema import dataset_table
>>> table = dataset_table(load_catalog().datasets["tax_credit_grade_a"])
>>> print(delete_changed_sql(table))
DELETE FROM "tax_credit_grade_a" USING _stage_changes c
WHERE "tax_credit_grade_a"."tax_reg_no" = c."tax_reg_no" AND "tax_credit_grade_a"."list_year" = c."list_year"
  AND c."_change" = 'changed'
"""

from __future__ import annotations

from etl.warehouse.schema import HISTORY_COLUMNS, Column, DatasetTable, column_ident, ident

STAGE_ROWS = "_stage_rows"
STAGE_CHANGES = "_stage_changes"
STAGE_REJECTED = "_stage_rejected"

# Subject (主体) columns a dataset may carry; a dataset feeds ``subjects`` when it has the first two.
SUBJECT_CODE = "uscc"
SUBJECT_NAME = "subject_name"
SUBJECT_CATEGORY = "subject_category"


def feeds_subjects(table: DatasetTable) -> bool:
    return table.has_fields(SUBJECT_CODE, SUBJECT_NAME)


def _key_match(left: str, right: str, table: DatasetTable) -> str:
    return " AND ".join(f"{left}.{ident(k)} = {right}.{ident(k)}" for k in table.dedup_key)


def stage_problems_sql(table: DatasetTable, source: str = STAGE_ROWS) -> str:
    """Counts of staged rows (in ``source``) with an empty dedup key field, and of keys staged more
    than once."""
    null_test = " OR ".join(f"{ident(k)} IS NULL" for k in table.dedup_key)
    keys = ", ".join(ident(k) for k in table.dedup_key)
    return (
        f"SELECT (SELECT count(*) FROM {source} WHERE {null_test}),\n"
        f"       (SELECT count(*) FROM (SELECT {keys} FROM {source} GROUP BY {keys}"
        f" HAVING count(*) > 1) repeated)"
    )


def changes_sql(table: DatasetTable) -> str:
    """The query that fills ``_stage_changes``: staged rows that are new or change their record."""
    current = ident(table.name)
    keys = ", ".join(f"s.{ident(k)}" for k in table.dedup_key)
    return (
        f'SELECT {keys}, s."_source_row",\n'
        f"       CASE WHEN t.\"_record_hash\" IS NULL THEN 'new' ELSE 'changed' END AS \"_change\"\n"
        f"FROM {STAGE_ROWS} s LEFT JOIN {current} t ON {_key_match('t', 's', table)}\n"
        f'WHERE t."_record_hash" IS NULL OR t."_record_hash" <> s."_record_hash"'
    )


def mark_older_sql(table: DatasetTable) -> str:
    """Re-marks as ``older`` the changed rows whose current version came from a delivery received
    after this one (``$received_at``): a reprocessed old delivery must not bring back its versions over
    newer ones. Older rows are not written; the newer version stays current."""
    current = ident(table.name)
    return (
        f"UPDATE {STAGE_CHANGES} SET \"_change\" = 'older'\n"
        f"WHERE \"_change\" = 'changed' AND EXISTS (\n"
        f'  SELECT 1 FROM {current} t JOIN deliveries d ON d.delivery_id = t."_delivery_id"\n'
        f"  WHERE {_key_match('t', STAGE_CHANGES, table)}\n"
        f"    AND d.received_at > CAST($received_at AS TIMESTAMPTZ))"
    )


def any_row_sql(table: DatasetTable) -> str:
    return f"SELECT 1 FROM {ident(table.name)} LIMIT 1"


COUNT_CHANGES_SQL = f'SELECT "_change", count(*) FROM {STAGE_CHANGES} GROUP BY "_change"'


def rows_to_write_sql(change: str | None = None) -> str:
    """Source rows of ``_stage_changes`` to write: of one kind of change, or new and changed."""
    kinds = "'new', 'changed'" if change not in ("new", "changed") else f"'{change}'"
    return f'SELECT "_source_row" FROM {STAGE_CHANGES} WHERE "_change" IN ({kinds})'


def copy_to_history_sql(table: DatasetTable) -> str:
    """Copies the current version of every record the staged rows change to the history table."""
    current = ident(table.name)
    columns = [c.quoted for c in table.columns]
    history_names = ", ".join([*columns, *(c.quoted for c in HISTORY_COLUMNS)])
    selected = ", ".join(f"t.{c}" for c in columns)
    return (
        f"INSERT INTO {ident(table.history_name)} ({history_names})\n"
        f"SELECT {selected}, now(), CAST($delivery_id AS VARCHAR)\n"
        f"FROM {current} t JOIN {STAGE_CHANGES} c ON {_key_match('t', 'c', table)}\n"
        f"WHERE c.\"_change\" = 'changed'"
    )


def update_changed_sql(table: DatasetTable, source: str) -> str:
    """Overwrites the current version of every changed record with the staged one read from ``source``
    (SQL of a relation with the append columns, already limited to changed rows). Key columns are
    not written: they are equal, and an index update costs far more than a column update."""
    current = ident(table.name)
    written = [c for c in append_columns(table) if c.name not in table.dedup_key]
    assignments = ",\n    ".join(f"{c.quoted} = s.{c.quoted}" for c in written)
    return (
        f'UPDATE {current} SET\n    {assignments},\n    "_loaded_at" = now()\n'
        f"FROM {source} s\n"
        f"WHERE {_key_match(current, 's', table)}"
    )


def delete_changed_sql(table: DatasetTable) -> str:
    """Deletes the current versions just copied to history; the new versions are appended next."""
    current = ident(table.name)
    return (
        f"DELETE FROM {current} USING {STAGE_CHANGES} c\n"
        f"WHERE {_key_match(current, 'c', table)}\n"
        f"  AND c.\"_change\" = 'changed'"
    )


def append_columns(table: DatasetTable) -> tuple[Column, ...]:
    """Columns the bulk append writes: all but ``_loaded_at``, which defaults to the load's time."""
    return tuple(c for c in table.columns if c.name != "_loaded_at")


def staged_rows_sql(table: DatasetTable, change: str | None = None) -> str:
    """A relation of the staged rows (append columns) marked ``change`` in ``_stage_changes`` (``new``,
    ``changed``, or both when None)."""
    return (
        f"(SELECT {select_list(append_columns(table))} FROM {STAGE_ROWS}\n"
        f' WHERE "_source_row" IN ({rows_to_write_sql(change)}))'
    )


def append_staged_sql(table: DatasetTable, change: str | None = None) -> str:
    """Appends the staged rows marked ``change`` (new and changed when None) to the dataset table."""
    names = select_list(append_columns(table))
    rows = staged_rows_sql(table, change)
    return f"INSERT INTO {ident(table.name)} ({names})\nSELECT {names} FROM {rows} s"


def upsert_subjects_sql(table: DatasetTable, source: str = STAGE_ROWS) -> str:
    """Inserts the subjects seen in the staged rows (in ``source``); for known ones keeps the earliest
    first sighting and advances the latest (name and type follow the latest delivery). Rows it would
    not change are not written, so the count is of subjects new or changed."""
    category = ident(SUBJECT_CATEGORY) if table.has_fields(SUBJECT_CATEGORY) else "NULL"
    code = ident(SUBJECT_CODE)
    # Individual businesses carry organisation type 2 under authority 9 (GB 32100).
    subject_type = (
        f"COALESCE({category}, CASE WHEN substr({code}, 1, 2) = '92' THEN '个体工商户' "
        f"ELSE '法人及非法人组织' END)"
    )
    later = "excluded.last_seen >= subjects.last_seen"
    earlier = "excluded.first_seen < subjects.first_seen"
    # The latest row of each subject by a grouped max and a join back: a window over every row
    # sorted a million rows for a few thousand subjects (PostgreSQL: 2.4 s instead of 0.9).
    return f"""INSERT INTO subjects (uscc, name, subject_type, division, first_seen, last_seen,
                      first_delivery_id, last_delivery_id)
SELECT s.uscc, s.name, s.subject_type, substr(s.uscc, 3, 6),
       CAST($received_at AS TIMESTAMPTZ), CAST($received_at AS TIMESTAMPTZ),
       CAST($delivery_id AS VARCHAR), CAST($delivery_id AS VARCHAR)
FROM (
    SELECT {code} AS uscc, {ident(SUBJECT_NAME)} AS name, {subject_type} AS subject_type, "_source_row"
    FROM {source}
) s
JOIN (
    SELECT {code} AS uscc, max("_source_row") AS latest_row
    FROM {source}
    WHERE {code} IS NOT NULL AND {code} <> $placeholder
    GROUP BY {code}
) latest ON s.uscc = latest.uscc AND s."_source_row" = latest.latest_row
ORDER BY s.uscc
ON CONFLICT (uscc) DO UPDATE SET
    name = CASE WHEN {later} THEN excluded.name ELSE subjects.name END,
    subject_type = CASE WHEN {later} THEN excluded.subject_type ELSE subjects.subject_type END,
    last_delivery_id = CASE WHEN {later} THEN excluded.last_delivery_id ELSE subjects.last_delivery_id END,
    last_seen = CASE WHEN {later} THEN excluded.last_seen ELSE subjects.last_seen END,
    first_delivery_id = CASE WHEN {earlier} THEN excluded.first_delivery_id
                             ELSE subjects.first_delivery_id END,
    first_seen = CASE WHEN {earlier} THEN excluded.first_seen ELSE subjects.first_seen END
WHERE {earlier} OR excluded.last_seen > subjects.last_seen
   OR (excluded.last_seen = subjects.last_seen
       AND (excluded.last_delivery_id <> subjects.last_delivery_id
            OR excluded.name IS DISTINCT FROM subjects.name
            OR excluded.subject_type IS DISTINCT FROM subjects.subject_type))"""


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
