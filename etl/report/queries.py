"""What the NDRC report reads from the warehouse (DuckDB or PostgreSQL, through ``etl.warehouse``).

Everything is read once into a ``ReportInputs``; ``etl.report.metrics`` computes every figure from
it without touching the warehouse again.

- the ledger, every row received up to the end of the period (freshness needs the history, the
  trend the last six periods);
- the quarantined rows of the deliveries received in the period, with their reasons;
- for each of those rows, the latest successful delivery (received before the period ends) that
  loaded a version, current or replaced, of its dedup key (matched in SQL on the key as delivered,
  trimmed and upper-cased): the correction rate compares it with the rejecting delivery;
- the 双公示 records with their decision and first-load dates (``etl.freshness_queries``);
- the subject identifiers of the current records (``etl.warehouse.identifiers``) for 一码多名 /
  一名多码;
- the freshness monitor's alert rows (``etl.alerts.store``), for when a breach was first seen and
  how far it has been escalated.

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

    from etl.alerts.plan import AlertRow
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
    """One quarantined row of a delivery received in the period."""

    delivery_id: str
    dataset: str
    department: str
    source_row: int
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report's figures are computed from."""

    catalog: Catalog
    calendar: WorkCalendar
    period: ReportPeriod
    ledger: tuple[LedgerRow, ...]
    rejections: tuple[Rejection, ...]
    # (delivery id, source row) of a rejected row -> receipt of the latest delivery that loaded its key
    later_loads: dict[tuple[str, int], dt.datetime]
    publication: tuple[PublicationRecord, ...]
    identifiers: pa.Table
    # The freshness monitor's alert rows (etl.alerts): when a breach was first seen and escalated.
    alerts: tuple[AlertRow, ...] = ()
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


def read_inputs(warehouse: Warehouse, catalog: Catalog, period: ReportPeriod) -> ReportInputs:
    """Reads what the report for ``period`` needs."""
    from etl.alerts.store import read_alerts
    from etl.calendar import WorkCalendar
    from etl.freshness_queries import publication_tables, read_publication_records
    from etl.warehouse.identifiers import identifier_tables, read_identifiers

    ledger = tuple(warehouse.ledger(received_before=period.ends_before))
    rejections = tuple(read_rejections(warehouse, period))
    datasets = sorted({r.dataset for r in rejections if r.dataset in catalog.datasets})
    later = read_later_loads(warehouse, [catalog.datasets[d] for d in datasets], period)
    publication = read_publication_records(warehouse, publication_tables(catalog), loaded_until=period.end)
    identifiers = read_identifiers(warehouse, identifier_tables(catalog))
    alerts = tuple(read_alerts(warehouse))
    return ReportInputs(
        catalog=catalog,
        calendar=WorkCalendar.from_catalog(catalog),
        period=period,
        ledger=ledger,
        rejections=rejections,
        later_loads=later,
        publication=tuple(publication),
        identifiers=identifiers,
        alerts=alerts,
    )


REJECTIONS_SQL = (
    "SELECT q.delivery_id, q.dataset, q.department, q.source_row, CAST(q.reasons_json AS VARCHAR)\n"
    "FROM quarantine AS q\n"
    "WHERE q.delivery_id IN (SELECT delivery_id FROM deliveries WHERE status <> 'duplicate'\n"
    "  AND received_at >= CAST($starts_at AS TIMESTAMPTZ)\n"
    "  AND received_at < CAST($ends_before AS TIMESTAMPTZ))\n"
    "ORDER BY q.delivery_id, q.source_row"
)


def read_rejections(warehouse: Warehouse, period: ReportPeriod) -> list[Rejection]:
    """The quarantined rows of the deliveries received in ``period``."""
    params = {"starts_at": period.starts_at, "ends_before": period.ends_before}
    with warehouse._session("reading the quarantine") as session:
        _require_ledger(warehouse, session)
        rows = session.rows(REJECTIONS_SQL, params)
    return [_rejection(row) for row in rows]


def _rejection(row: tuple[Any, ...]) -> Rejection:
    delivery_id, dataset, department, source_row, reasons_json = row
    reasons = tuple(
        Reason(r.get("field"), str(r.get("rule") or "?"), r.get("value"), str(r.get("message") or ""))
        for r in json.loads(reasons_json or "[]")
    )
    return Rejection(str(delivery_id), str(dataset), str(department), int(source_row), reasons)


def _key_sql(expression: str) -> str:
    """A dedup-key part as compared: text, blanks trimmed, upper case (codes load upper case)."""
    return f"upper(trim(CAST({expression} AS VARCHAR)))"


def later_loads_sql(dataset: Dataset) -> str:
    """Per quarantined row of ``dataset`` in the period's deliveries, the receipt of the latest
    successful delivery (received before the period ends) that loaded a version, current or
    replaced, of the row's dedup key (read from the row as delivered). Rows no version matches are
    left out.

    >>> from etl.catalog import load_catalog
    >>> print(later_loads_sql(load_catalog().datasets["tax_credit_grade_a"]))
    WITH rejected AS (
      SELECT q.delivery_id, q.source_row, upper(trim(CAST(q.raw_json->>'tax_reg_no' AS VARCHAR))) AS k0,
             upper(trim(CAST(q.raw_json->>'list_year' AS VARCHAR))) AS k1
      FROM quarantine AS q
      WHERE q.dataset = $dataset AND q.delivery_id IN (SELECT delivery_id FROM deliveries
        WHERE status <> 'duplicate' AND received_at >= CAST($starts_at AS TIMESTAMPTZ)
          AND received_at < CAST($ends_before AS TIMESTAMPTZ))
    ), versions AS (
      SELECT upper(trim(CAST(v."tax_reg_no" AS VARCHAR))) AS k0,
             upper(trim(CAST(v."list_year" AS VARCHAR))) AS k1,
             d.received_at
      FROM (SELECT "tax_reg_no", "list_year", "_delivery_id" FROM "tax_credit_grade_a"
            UNION ALL SELECT "tax_reg_no", "list_year", "_delivery_id" FROM "tax_credit_grade_a_history") AS v
      JOIN deliveries AS d ON d.delivery_id = v."_delivery_id"
      WHERE d.status IN ('loaded', 'loaded_with_rejections')
        AND d.received_at < CAST($ends_before AS TIMESTAMPTZ)
    )
    SELECT r.delivery_id, r.source_row, max(v.received_at)
    FROM rejected AS r JOIN versions AS v ON v.k0 = r.k0 AND v.k1 = r.k1
    GROUP BY r.delivery_id, r.source_row
    """
    from etl.warehouse.schema import dataset_table, ident, internal_ident

    table = dataset_table(dataset)
    keys = [ident(k) for k in table.dedup_key]
    # Names are checked identifiers (``ident``), so quoting them as JSON keys is safe.
    delivered = ",\n         ".join(
        _key_sql("q.raw_json->>'" + name + "'") + f" AS k{i}" for i, name in enumerate(table.dedup_key)
    )
    stored = ",\n         ".join(f"{_key_sql(f'v.{k}')} AS k{i}" for i, k in enumerate(keys))
    listed = ", ".join(keys)
    delivery = internal_ident("_delivery_id")
    join = " AND ".join(f"v.k{i} = r.k{i}" for i in range(len(keys)))
    return (
        f"WITH rejected AS (\n"
        f"  SELECT q.delivery_id, q.source_row, {delivered}\n"
        f"  FROM quarantine AS q\n"
        f"  WHERE q.dataset = $dataset AND q.delivery_id IN (SELECT delivery_id FROM deliveries\n"
        f"    WHERE status <> 'duplicate' AND received_at >= CAST($starts_at AS TIMESTAMPTZ)\n"
        f"      AND received_at < CAST($ends_before AS TIMESTAMPTZ))\n"
        f"), versions AS (\n"
        f"  SELECT {stored},\n"
        f"         d.received_at\n"
        f"  FROM (SELECT {listed}, {delivery} FROM {ident(table.name)}\n"
        f"        UNION ALL SELECT {listed}, {delivery} FROM {ident(table.history_name)}) AS v\n"
        f"  JOIN deliveries AS d ON d.delivery_id = v.{delivery}\n"
        f"  WHERE d.status IN ('loaded', 'loaded_with_rejections')\n"
        f"    AND d.received_at < CAST($ends_before AS TIMESTAMPTZ)\n"
        f")\n"
        f"SELECT r.delivery_id, r.source_row, max(v.received_at)\n"
        f"FROM rejected AS r JOIN versions AS v ON {join}\n"
        f"GROUP BY r.delivery_id, r.source_row"
    )


def read_later_loads(
    warehouse: Warehouse, datasets: Iterable[Dataset], period: ReportPeriod
) -> dict[tuple[str, int], dt.datetime]:
    """``later_loads_sql`` for each dataset whose tables exist: (delivery id, source row) -> receipt."""
    from etl.warehouse.base import _columns
    from etl.warehouse.schema import dataset_table

    found: dict[tuple[str, int], dt.datetime] = {}
    params: dict[str, Any] = {"starts_at": period.starts_at, "ends_before": period.ends_before}
    with warehouse._session("reading loaded keys") as session:
        for dataset in datasets:
            table = dataset_table(dataset)
            if not _columns(session, table.name) or not _columns(session, table.history_name):
                continue
            for delivery_id, source_row, received in session.rows(
                later_loads_sql(dataset), {**params, "dataset": dataset.id}
            ):
                found[(str(delivery_id), int(source_row))] = received
    return found


def _require_ledger(warehouse: Warehouse, session: Session) -> None:
    from etl.warehouse.base import _columns

    if not _columns(session, "deliveries"):
        raise WarehouseError(f"no ledger in {warehouse.url.display}; run `credit-etl warehouse init`")
