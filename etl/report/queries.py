"""What the NDRC report reads from the warehouse (DuckDB or PostgreSQL, through ``etl.warehouse``).

Everything is read once into a ``ReportInputs``; ``etl.report.metrics`` computes every figure from
it without touching the warehouse again.

- the ledger, every row received up to the end of the period (freshness needs the history, the
  trend the last six periods);
- the quarantined rows of the deliveries received in the period, with their reasons;
- for each dataset with rejections, the latest successful delivery (received up to the end of the
  period) that loaded each dedup key, over current and replaced versions: the correction rate
  matches rejected rows to it;
- the 双公示 records with their decision and first-load dates (``etl.freshness_queries``);
- the subject identifiers of the current records (``etl.warehouse.identifiers``) for 一码多名 /
  一名多码.

Table and column names come from the catalog through ``etl.warehouse.schema.ident``; values are
bound parameters.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from etl.errors import WarehouseError
from etl.report.period import ReportPeriod

if TYPE_CHECKING:
    import pyarrow as pa

    from etl.calendar import WorkCalendar
    from etl.catalog import Catalog, Dataset
    from etl.freshness import PublicationRecord
    from etl.warehouse.base import Session, Warehouse
    from etl.warehouse.ledger import LedgerRow

SUCCESSFUL = ("loaded", "loaded_with_rejections")


@dataclass(frozen=True)
class Reason:
    """One reason a row was rejected, as the quarantine stores it."""

    field: str | None
    rule: str
    value: str | None
    message: str


@dataclass(frozen=True)
class Rejection:
    """One quarantined row of a delivery received in the period; ``key`` holds its dedup-key values
    as delivered (None when one of them is empty: such a row cannot be matched to a later load)."""

    delivery_id: str
    dataset: str
    department: str
    source_row: int
    key: tuple[str, ...] | None
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report's figures are computed from."""

    catalog: Catalog
    calendar: WorkCalendar
    period: ReportPeriod
    ledger: tuple[LedgerRow, ...]
    rejections: tuple[Rejection, ...]
    # dataset -> dedup key (normalised text) -> received_at of the latest delivery that loaded it
    later_loads: dict[str, dict[tuple[str, ...], dt.datetime]]
    publication: tuple[PublicationRecord, ...]
    identifiers: pa.Table
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


def key_text(value: Any) -> str:
    """A dedup-key value as compared between quarantine (as delivered) and warehouse (as loaded):
    text, blanks trimmed, letters upper-case (codes are normalised to upper case on load).

    >>> key_text(" 91450200mA5k "), key_text(dt.date(2026, 10, 8)), key_text(None)
    ('91450200MA5K', '2026-10-08', '')
    """
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return text.strip().upper()


def read_inputs(warehouse: Warehouse, catalog: Catalog, period: ReportPeriod) -> ReportInputs:
    """Reads what the report for ``period`` needs."""
    from etl.calendar import WorkCalendar
    from etl.freshness_queries import publication_tables, read_publication_records
    from etl.warehouse.identifiers import identifier_tables, read_identifiers

    ledger = tuple(warehouse.ledger(received_before=period.ends_before))
    rejections = tuple(read_rejections(warehouse, catalog, period))
    datasets = sorted({r.dataset for r in rejections if r.dataset in catalog.datasets})
    later = read_later_loads(warehouse, [catalog.datasets[d] for d in datasets], period)
    publication = read_publication_records(warehouse, publication_tables(catalog), loaded_until=period.end)
    identifiers = read_identifiers(warehouse, identifier_tables(catalog))
    return ReportInputs(
        catalog=catalog,
        calendar=WorkCalendar.from_catalog(catalog),
        period=period,
        ledger=ledger,
        rejections=rejections,
        later_loads=later,
        publication=tuple(publication),
        identifiers=identifiers,
    )


REJECTIONS_SQL = (
    "SELECT q.delivery_id, q.dataset, q.department, q.source_row, CAST(q.raw_json AS VARCHAR), "
    "CAST(q.reasons_json AS VARCHAR)\n"
    "FROM quarantine AS q\n"
    "WHERE q.delivery_id IN (SELECT delivery_id FROM deliveries WHERE status <> 'duplicate'\n"
    "  AND received_at >= CAST($starts_at AS TIMESTAMPTZ)\n"
    "  AND received_at < CAST($ends_before AS TIMESTAMPTZ))\n"
    "ORDER BY q.delivery_id, q.source_row"
)


def read_rejections(warehouse: Warehouse, catalog: Catalog, period: ReportPeriod) -> list[Rejection]:
    """The quarantined rows of the deliveries received in ``period``."""
    params = {"starts_at": period.starts_at, "ends_before": period.ends_before}
    with warehouse._session("reading the quarantine") as session:
        _require_ledger(warehouse, session)
        rows = session.rows(REJECTIONS_SQL, params)
    return [_rejection(catalog, row) for row in rows]


def _rejection(catalog: Catalog, row: tuple[Any, ...]) -> Rejection:
    delivery_id, dataset, department, source_row, raw_json, reasons_json = row
    raw = json.loads(raw_json or "{}")
    key = None
    if dataset in catalog.datasets:
        values = tuple(key_text(raw.get(name)) for name in catalog.datasets[dataset].dedup_key)
        key = values if all(values) else None
    reasons = tuple(
        Reason(r.get("field"), str(r.get("rule") or "?"), r.get("value"), str(r.get("message") or ""))
        for r in json.loads(reasons_json or "[]")
    )
    return Rejection(str(delivery_id), str(dataset), str(department), int(source_row), key, reasons)


def later_loads_sql(dataset: Dataset) -> str:
    """Per dedup key of ``dataset``, the receipt of the latest successful delivery (up to a cut-off)
    that loaded a version of it, current or replaced.

    >>> from etl.catalog import load_catalog
    >>> print(later_loads_sql(load_catalog().datasets["tax_credit_grade_a"]))  # doctest: +ELLIPSIS
    SELECT v."tax_reg_no", v."list_year", max(d.received_at)
    FROM (SELECT "tax_reg_no", "list_year", "_delivery_id" FROM "tax_credit_grade_a"
          UNION ALL SELECT "tax_reg_no", "list_year", "_delivery_id" FROM "tax_credit_grade_a_history") AS v
    JOIN deliveries AS d ON d.delivery_id = v."_delivery_id"
    WHERE d.status IN ('loaded', 'loaded_with_rejections')
      AND d.received_at < CAST($ends_before AS TIMESTAMPTZ)
    GROUP BY v."tax_reg_no", v."list_year"
    """
    from etl.warehouse.schema import dataset_table, ident, internal_ident

    table = dataset_table(dataset)
    keys = [ident(k) for k in table.dedup_key]
    listed, qualified = ", ".join(keys), ", ".join(f"v.{k}" for k in keys)
    delivery = internal_ident("_delivery_id")
    return (
        f"SELECT {qualified}, max(d.received_at)\n"
        f"FROM (SELECT {listed}, {delivery} FROM {ident(table.name)}\n"
        f"      UNION ALL SELECT {listed}, {delivery} FROM {ident(table.history_name)}) AS v\n"
        f"JOIN deliveries AS d ON d.delivery_id = v.{delivery}\n"
        f"WHERE d.status IN ('loaded', 'loaded_with_rejections')\n"
        f"  AND d.received_at < CAST($ends_before AS TIMESTAMPTZ)\n"
        f"GROUP BY {qualified}"
    )


def read_later_loads(
    warehouse: Warehouse, datasets: Iterable[Dataset], period: ReportPeriod
) -> dict[str, dict[tuple[str, ...], dt.datetime]]:
    """``later_loads_sql`` for each dataset whose tables exist; keys as ``key_text``."""
    from etl.warehouse.base import _columns
    from etl.warehouse.schema import dataset_table

    found: dict[str, dict[tuple[str, ...], dt.datetime]] = {}
    with warehouse._session("reading loaded keys") as session:
        for dataset in datasets:
            table = dataset_table(dataset)
            if not _columns(session, table.name) or not _columns(session, table.history_name):
                continue
            loads: dict[tuple[str, ...], dt.datetime] = {}
            for *key, received in session.rows(later_loads_sql(dataset), {"ends_before": period.ends_before}):
                loads[tuple(key_text(v) for v in key)] = received
            found[dataset.id] = loads
    return found


def _require_ledger(warehouse: Warehouse, session: Session) -> None:
    from etl.warehouse.base import _columns

    if not _columns(session, "deliveries"):
        raise WarehouseError(f"no ledger in {warehouse.url.display}; run `credit-etl warehouse init`")
