"""Each dataset table's records as subject facts (``sql/marts/facts_select.sql``).

Every catalog dataset whose table names a subject (a name field or a subject identifier, see
``etl.marts.subjects``) contributes one fact per current record: the subject, the dataset and its
category, the key domain of the source that delivered it (``mart_sources``, else the dataset's),
the department and delivery (ledger), the record's dedup key, and by category

- licensing, penalty: the date the 双公示 deadline counts from (``sla.publication.from_field``,
  the decision date), and for penalties whether it is serious (``etl.marts.rules``);
- red_list, black_list: the list's name and the entry and exit dates its ``list`` names.

>>> from etl.catalog import load_catalog
>>> catalog = load_catalog()
>>> [t.dataset_id for t in fact_tables(catalog)][:3]
['admin_licensing', 'admin_penalty', 'basic_deposit_account']
>>> sql = facts_select(catalog.datasets["safety_production_dishonest"], "safety_production_dishonest", ALL)
>>> [line.strip() for line in sql.splitlines() if "AS fact_date" in line or "AS exit_date" in line]
['t."entry_date" AS fact_date,', 't."exit_date" AS exit_date,']
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from etl.catalog import Catalog, Dataset
from etl.marts import rules
from etl.marts.subjects import (
    CATEGORY_FIELD,
    NATURAL_PERSON,
    branches,
    column,
    name_field,
    subject_key_sql,
    subject_kind_sql,
)
from etl.marts.templates import render
from etl.warehouse.schema import DatasetTable, dataset_table, ident, internal_ident

ALL = "TRUE"
# The records of the deliveries a refresh takes in, and the versions those deliveries replaced.
DELIVERED = f"t.{internal_ident('_delivery_id')} IN (SELECT delivery_id FROM mart_refresh_ledger)"
SUPERSEDED = f"t.{internal_ident('_superseded_by')} IN (SELECT delivery_id FROM mart_refresh_ledger)"
AUTHORITY_FIELDS = ("authority", "court")
DATED_CATEGORIES = ("licensing", "penalty")
LIST_CATEGORIES = ("red_list", "black_list")
NULL_TEXT = "CAST(NULL AS VARCHAR)"
NULL_DATE = "CAST(NULL AS DATE)"


def names_subject(table: DatasetTable) -> bool:
    return name_field(table) is not None or bool(branches(table))


def fact_tables(catalog: Catalog) -> list[DatasetTable]:
    """The tables of the datasets that name subjects, in catalog order."""
    tables = (dataset_table(d) for d in catalog.datasets.values())
    return [t for t in tables if names_subject(t)]


def facts_select(dataset: Dataset, table_name: str, record_filter: str) -> str:
    """The facts of the records of ``table_name`` (the dataset's table or its history) that pass
    ``record_filter`` (``ALL``, ``DELIVERED`` or ``SUPERSEDED``)."""
    table = dataset_table(dataset)
    if table_name not in (table.name, table.history_name):
        raise ValueError(f"{table_name} is not a table of dataset {dataset.id}")
    name = name_field(table)
    entry, exit_ = _dates(dataset, table)
    authority = next((f for f in AUTHORITY_FIELDS if table.has_fields(f)), None)
    return render(
        "facts_select.sql",
        subject_key=subject_key_sql(table),
        subject_kind=subject_kind_sql(table),
        subject_name=column(name) if name else NULL_TEXT,
        subject_type=column(CATEGORY_FIELD) if table.has_fields(CATEGORY_FIELD) else NULL_TEXT,
        record_key=" || '|' || ".join(_key_part(k) for k in table.dedup_key),
        fact_date=entry,
        exit_date=exit_,
        authority=column(authority) if authority else NULL_TEXT,
        serious=_serious_sql(dataset, table),
        uscc=_code("uscc", table),
        regno=_code("regno", table),
        orgcode=_code("orgcode", table),
        table=ident(table_name),
        record_filter=record_filter,
    )


def facts_params(dataset: Dataset) -> dict[str, Any]:
    """The values ``facts_select`` binds for ``dataset``."""
    params: dict[str, Any] = {
        "dataset": dataset.id,
        "category": dataset.category,
        "domain": dataset.domain,
        "list_name": dataset.list_spec.name if dataset.list_spec else None,
        "placeholder": _uscc_placeholder(),
        "natural_person": NATURAL_PERSON,
        "serious_amount": Decimal(rules.SERIOUS_AMOUNT),
        "separator": _separator(dataset),
    }
    params.update({f"serious_type_{i}": kind for i, kind in enumerate(rules.SERIOUS_PENALTY_TYPES)})
    return params


def _dates(dataset: Dataset, table: DatasetTable) -> tuple[str, str]:
    def date_column(name: str | None) -> str:
        if name is None or not table.has_fields(name) or dataset.field(name).type != "date":
            return NULL_DATE
        return column(name)

    if dataset.category in LIST_CATEGORIES and dataset.list_spec is not None:
        spec = dataset.list_spec
        return date_column(spec.entry_date_field), date_column(spec.exit_date_field)
    if dataset.category in DATED_CATEGORIES and dataset.sla.publication is not None:
        return date_column(dataset.sla.publication.from_field), NULL_DATE
    return NULL_DATE, NULL_DATE


def _serious_sql(dataset: Dataset, table: DatasetTable) -> str:
    if dataset.category != "penalty":
        return "FALSE"
    tests = []
    amounts = [f"COALESCE({column(f)}, 0)" for f in rules.AMOUNT_FIELDS if table.has_fields(f)]
    if amounts:
        tests.append(f"{' + '.join(amounts)} >= CAST($serious_amount AS DECIMAL(20,6))")
    if table.has_fields(rules.PENALTY_TYPES_FIELD):
        # Whole items of the multi-valued field: ';a;b;' contains ';b;'.
        separator = "CAST($separator AS VARCHAR)"
        items = f"{separator} || COALESCE({column(rules.PENALTY_TYPES_FIELD)}, '') || {separator}"
        for i in range(len(rules.SERIOUS_PENALTY_TYPES)):
            item = f"{separator} || CAST($serious_type_{i} AS VARCHAR) || {separator}"
            tests.append(f"strpos({items}, {item}) > 0")
    if not tests:
        return "FALSE"
    return "COALESCE(" + "\n        OR ".join(tests) + ", FALSE)"


def _separator(dataset: Dataset) -> str:
    fields = {f.name: f for f in dataset.fields}
    spec = fields.get(rules.PENALTY_TYPES_FIELD)
    return (spec.separator if spec is not None and spec.separator else None) or ";"


def _key_part(name: str) -> str:
    """One dedup-key value as text, with '\\' and '|' escaped so that joined keys never collide."""
    return f"replace(replace(CAST({column(name)} AS VARCHAR), '\\', '\\\\'), '|', '\\|')"


def _code(name: str, table: DatasetTable) -> str:
    return f"NULLIF({column(name)}, '')" if table.has_fields(name) else NULL_TEXT


def _uscc_placeholder() -> str:
    from etl.codes.uscc import PLACEHOLDER

    return PLACEHOLDER

