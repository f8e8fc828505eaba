"""What freshness reads from the warehouse: ledger rows, and the 双公示 records with their dates.

A 双公示 record is published when it is first loaded. A later delivery that corrects it moves the
current version to ``<table>_history`` and stamps a new ``_loaded_at``, so the first publication is
the earliest ``_loaded_at`` over the current and the replaced versions of its dedup key; the
decision date is the current version's (a correction may fix it). The department and source of a
record are those of the delivery its current version came from (from the ledger).

Table and column names come from the catalog through ``etl.warehouse.schema.ident``; the queries
carry no values.

>>> from etl.catalog import load_catalog
>>> print(publication_sql(publication_tables(load_catalog())[0]))   # doctest: +NORMALIZE_WHITESPACE
WITH first_loads AS (
  SELECT "decision_no", "subject_name", min("_loaded_at") AS first_loaded_at
  FROM (SELECT "decision_no", "subject_name", "_loaded_at" FROM "admin_licensing"
        UNION ALL
        SELECT "decision_no", "subject_name", "_loaded_at" FROM "admin_licensing_history") AS versions
  GROUP BY "decision_no", "subject_name"
), lineage AS (
  SELECT delivery_id, min(department) AS department, min(source) AS source
  FROM deliveries WHERE status <> 'duplicate' GROUP BY delivery_id
)
SELECT c."decision_date", f.first_loaded_at, l.department, l.source, c."_delivery_id", c."_source_row",
       c."decision_no", c."subject_name"
FROM "admin_licensing" AS c
JOIN first_loads AS f ON f."decision_no" = c."decision_no" AND f."subject_name" = c."subject_name"
LEFT JOIN lineage AS l ON l.delivery_id = c."_delivery_id"
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from etl.errors import WarehouseError
from etl.freshness import SHANGHAI, Delivery, PublicationRecord, shanghai_date

if TYPE_CHECKING:
    from etl.catalog import Catalog, Dataset
    from etl.warehouse.base import Warehouse


@dataclass(frozen=True)
class PublicationTable:
    """A 双公示 dataset's table: its decision-date field and the key fields that name a record."""

    dataset_id: str
    table: str
    history: str
    date_field: str
    key_fields: tuple[str, ...]
    # Key fields holding identity numbers, masked before they leave the warehouse module.
    personal_fields: frozenset[str] = frozenset()


def publication_table(dataset: Dataset) -> PublicationTable:
    """The table of a dataset with ``sla.publication``; raises for one without."""
    from etl.warehouse.schema import dataset_table

    if dataset.sla.publication is None:
        raise WarehouseError(f"dataset {dataset.id} has no sla.publication")
    table = dataset_table(dataset)  # checks every name
    personal = frozenset(k for k in table.dedup_key if dataset.field(k).is_personal)
    return PublicationTable(
        dataset.id, table.name, table.history_name, dataset.sla.publication.from_field, table.dedup_key,
        personal,
    )  # fmt: skip


def publication_tables(catalog: Catalog, dataset_ids: Iterable[str] | None = None) -> list[PublicationTable]:
    """The tables of the datasets (all, or ``dataset_ids``) that have a publication SLA."""
    wanted = list(catalog.datasets) if dataset_ids is None else [catalog.dataset(d).id for d in dataset_ids]
    return [
        publication_table(catalog.datasets[d])
        for d in dict.fromkeys(wanted)
        if catalog.datasets[d].sla.publication is not None
    ]


def publication_sql(table: PublicationTable) -> str:
    """One row per current record: decision date, first load, department, source, lineage, key."""
    from etl.warehouse.schema import ident, internal_ident

    keys = [ident(k) for k in table.key_fields]
    key_list = ", ".join(keys)
    loaded, delivery = internal_ident("_loaded_at"), internal_ident("_delivery_id")
    row = internal_ident("_source_row")
    join = " AND ".join(f"f.{k} = c.{k}" for k in keys)
    current = ", ".join(f"c.{k}" for k in keys)
    return (
        f"WITH first_loads AS (\n"
        f"  SELECT {key_list}, min({loaded}) AS first_loaded_at\n"
        f"  FROM (SELECT {key_list}, {loaded} FROM {ident(table.table)}\n"
        f"        UNION ALL\n"
        f"        SELECT {key_list}, {loaded} FROM {ident(table.history)}) AS versions\n"
        f"  GROUP BY {key_list}\n"
        f"), lineage AS (\n"
        f"  SELECT delivery_id, min(department) AS department, min(source) AS source\n"
        f"  FROM deliveries WHERE status <> 'duplicate' GROUP BY delivery_id\n"
        f")\n"
        f"SELECT c.{ident(table.date_field)}, f.first_loaded_at, l.department, l.source, c.{delivery}, "
        f"c.{row},\n       {current}\n"
        f"FROM {ident(table.table)} AS c\n"
        f"JOIN first_loads AS f ON {join}\n"
        f"LEFT JOIN lineage AS l ON l.delivery_id = c.{delivery}"
    )


def read_deliveries(warehouse: Warehouse, *, until: dt.date | None = None) -> list[Delivery]:
    """Every ledger row received on or before ``until`` (Shanghai; default: all), oldest first."""
    before = None
    if until is not None:
        before = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=SHANGHAI)
    return [Delivery.from_ledger(row) for row in warehouse.ledger(received_before=before)]


def read_publication_records(
    warehouse: Warehouse, tables: Iterable[PublicationTable], *, loaded_until: dt.date | None = None
) -> list[PublicationRecord]:
    """The current records of ``tables`` first loaded on or before ``loaded_until`` (default: all).

    A table the warehouse does not have yet (its dataset was added after the last init) has none.
    """
    from etl.warehouse.base import _columns

    records: list[PublicationRecord] = []
    with warehouse._session("reading 双公示 records") as session:
        if not _columns(session, "deliveries"):
            raise WarehouseError(f"no ledger in {warehouse.url.display}; run `credit-etl warehouse init`")
        for table in tables:
            if not _columns(session, table.table) or not _columns(session, table.history):
                continue
            for row in session.rows(publication_sql(table)):
                record = _record(table, row)
                if loaded_until is None or record.first_loaded_on <= loaded_until:
                    records.append(record)
    records.sort(key=lambda r: (r.dataset, r.delivery_id, r.source_row))
    return records


def _record(table: PublicationTable, row: tuple) -> PublicationRecord:
    decision, first_loaded, department, source, delivery_id, source_row, *key = row
    if isinstance(decision, dt.datetime):
        decision = decision.date()
    values = []
    for name, value in zip(table.key_fields, key, strict=True):
        text = "" if value is None else str(value)
        values.append((name, _mask(text) if name in table.personal_fields else text))
    return PublicationRecord(
        dataset=table.dataset_id,
        # The ledger row may be gone (a warehouse restored without its ledger): the id still says.
        department=department or _department_of(delivery_id),
        source=source or "",
        decision_date=decision,
        first_loaded_on=shanghai_date(first_loaded),
        delivery_id=str(delivery_id),
        source_row=int(source_row),
        key=tuple(values),
    )


def _department_of(delivery_id: str) -> str:
    """``<dataset>:<department>:<sha256[:16]>`` -> department."""
    parts = str(delivery_id).split(":")
    return parts[1] if len(parts) == 3 else "?"


def _mask(value: str) -> str:
    from etl.codes import idcard

    return idcard.mask(value)
