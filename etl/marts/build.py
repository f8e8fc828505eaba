"""Refreshing the marts: ``refresh_marts(warehouse, catalog)``.

A refresh takes in the ledger rows of loads the marts do not reflect yet (``loaded`` and
``loaded_with_rejections`` rows missing from ``mart_refreshed_deliveries``, the watermark), in one
transaction:

- **incremental** (the default once a full refresh has run): the subjects touched are those named
  by the records those deliveries wrote and by the versions they replaced (a correction may move a
  record to another subject), plus any subject still holding a fact of a record that now belongs
  to one of them (a correction committed meanwhile); only their facts, profiles and domain counts
  are deleted and rebuilt, from every dataset table, so a touched subject ends exactly as a full
  rebuild leaves it;
- **full** (the first refresh, or ``full=True``, e.g. after a catalog change of a source's domain):
  every mart table is rebuilt.

Key supervision targets depend on the date as much as on the data (a black-list entry lapses on
its exit date without any delivery), so they are recomputed for ``as_of`` on every refresh, from
the facts (a cheap aggregate).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from etl.catalog import Catalog
from etl.errors import WarehouseError
from etl.marts import rules
from etl.marts.facts import ALL, DELIVERED, SUPERSEDED, fact_tables, facts_params, facts_select
from etl.marts.templates import render
from etl.warehouse.base import Session, Warehouse, _columns, bind
from etl.warehouse.ledger import SHANGHAI
from etl.warehouse.schema import DatasetTable

log = logging.getLogger(__name__)

TOUCHED = "subject_key IN (SELECT subject_key FROM mart_refresh_subjects)"
SUBJECT_MARTS = ("mart_subject_facts", "mart_subject_profiles", "mart_subject_domains")
KEY_TARGET_COLUMNS = "subject_key, as_of, black_list_domains, serious_penalties, reasons"
LOADED = "status IN ('loaded', 'loaded_with_rejections')"
TAKE_IN_SQL = f"""INSERT INTO mart_refresh_ledger (ledger_id, delivery_id)
SELECT ledger_id, delivery_id FROM deliveries
WHERE {LOADED} AND ledger_id NOT IN (SELECT ledger_id FROM mart_refreshed_deliveries)"""


@dataclass(frozen=True)
class RefreshReport:
    mode: str  # full or incremental
    as_of: dt.date
    deliveries: int  # ledger rows taken in
    subjects: int  # subjects rebuilt
    profiles: int  # profiles in the mart afterwards
    key_targets: int


def today() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


def refresh_marts(
    warehouse: Warehouse,
    catalog: Catalog,
    *,
    full: bool = False,
    as_of: dt.date | None = None,
    serious_penalties: int | None = None,
) -> RefreshReport:
    """Brings the marts up to the ledger; see the module docstring."""
    as_of = as_of or today()
    max_serious = rules.key_target_penalties(serious_penalties)
    with warehouse._session("refreshing the marts") as session, session.transaction():
        session.lock("marts")
        if not _columns(session, "mart_subject_facts"):
            raise WarehouseError(f"no marts in {warehouse.url.display}; run `credit-etl warehouse init`")
        tables = [t for t in fact_tables(catalog) if _columns(session, t.name)]
        _write_sources(session, catalog)
        for work in ("mart_refresh_ledger", "mart_refresh_subjects"):
            session.execute(f"DELETE FROM {work}")
        deliveries = session.execute(TAKE_IN_SQL)
        full = full or not session.rows("SELECT count(*) FROM mart_refreshes")[0][0]
        if full:
            subject_filter = ALL
            subjects = None
        else:
            subject_filter = TOUCHED
            for table in tables:
                dataset = catalog.datasets[table.dataset_id]
                for name, records in ((table.name, DELIVERED), (table.history_name, SUPERSEDED)):
                    _run(session, render("touched_subjects.sql", facts=facts_select(dataset, name, records)),
                         facts_params(dataset))
            _add_former_owners(session, catalog, tables)
            subjects = session.rows("SELECT count(*) FROM mart_refresh_subjects")[0][0]
        for mart in SUBJECT_MARTS:
            session.execute(f"DELETE FROM {mart} WHERE {subject_filter}")
        for table in tables:
            dataset = catalog.datasets[table.dataset_id]
            facts = facts_select(dataset, table.name, ALL)
            _run(session, render("facts_insert.sql", facts=facts, subject_filter=subject_filter),
                 facts_params(dataset))
        for name in ("profiles.sql", "former_names.sql", "domains.sql"):
            session.execute(render(name, subject_filter=subject_filter))
        key_targets = _write_key_targets(session, as_of, max_serious)
        session.execute(
            "INSERT INTO mart_refreshed_deliveries (ledger_id, refreshed_at) "
            "SELECT ledger_id, now() FROM mart_refresh_ledger"
        )
        profiles = session.rows("SELECT count(*) FROM mart_subject_profiles")[0][0]
        rebuilt = profiles if subjects is None else subjects
        mode = "full" if full else "incremental"
        session.execute(
            "INSERT INTO mart_refreshes (refreshed_at, mode, as_of, deliveries, subjects) "
            "VALUES (now(), $mode, CAST($as_of AS DATE), $deliveries, $subjects)",
            {"mode": mode, "as_of": as_of, "deliveries": deliveries, "subjects": rebuilt},
        )
        for work in ("mart_refresh_ledger", "mart_refresh_subjects"):
            session.execute(f"DELETE FROM {work}")
    report = RefreshReport(mode, as_of, int(deliveries), int(rebuilt), int(profiles), key_targets)
    log.info("marts refreshed (%s as of %s): %d deliveries taken in, %d subjects rebuilt, %d profiles, "
             "%d key supervision targets", report.mode, as_of, report.deliveries, report.subjects,
             report.profiles, report.key_targets)  # fmt: skip
    return report


def key_targets_sql() -> str:
    """The key supervision targets as of ``$as_of`` (params ``key_target_params``)."""
    return render("key_targets.sql", on_list=render("on_list.sql"))


def key_target_params(as_of: dt.date, max_serious: int) -> dict[str, object]:
    return {"as_of": as_of, "since": rules.twelve_months_before(as_of), "max_serious": max_serious}


def _write_key_targets(session: Session, as_of: dt.date, max_serious: int) -> int:
    session.execute("DELETE FROM mart_key_targets")
    sql = f"INSERT INTO mart_key_targets ({KEY_TARGET_COLUMNS})\nSELECT {KEY_TARGET_COLUMNS} FROM (\n" \
          f"{key_targets_sql()}\n) targets"  # fmt: skip
    return session.execute(sql, bind(sql, key_target_params(as_of, max_serious)))


def _add_former_owners(session: Session, catalog: Catalog, tables: list[DatasetTable]) -> None:
    """Adds to the subjects being rebuilt those that hold a fact of a record now theirs, until none
    is left (``sql/marts/touched_owners.sql``)."""
    while True:
        added = 0
        for table in tables:
            dataset = catalog.datasets[table.dataset_id]
            sql = render("touched_owners.sql", facts=facts_select(dataset, table.name, ALL))
            added += _run(session, sql, facts_params(dataset))
        if not added:
            return


def _write_sources(session: Session, catalog: Catalog) -> None:
    """``mart_sources`` from the catalog: the key domain each source's records count for."""
    session.execute("DELETE FROM mart_sources")
    for ref in catalog.sources():
        session.execute(
            "INSERT INTO mart_sources (source, domain) VALUES ($source, $domain)",
            {"source": ref.id, "domain": catalog.domain_of(ref)},
        )


def _run(session: Session, sql: str, params: dict[str, object]) -> int:
    return session.execute(sql, bind(sql, params))
