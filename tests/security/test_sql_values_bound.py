"""Values travel as bound parameters or through COPY, never inside SQL text.

Every SQL text the drivers receive is captured (DuckDB: the connection's ``execute``/``sql``;
PostgreSQL: psycopg's ``execute`` and ``copy``) while the platform works: two deliveries of the
market regulator, the second correcting some records (history, subjects), ledger look-ups with every
filter, the freshness monitor recording its alerts, the NDRC report and the marts. No captured text
may hold a value of the data: file names, hashes, delivery ids, decision numbers, credit codes,
subject names.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from etl.alerts.run import evaluate_sources, record_alerts
from etl.demo_data import generate
from etl.drop import receive_file
from etl.marts.build import refresh_marts
from etl.pipeline import process_drop
from etl.report.period import ReportPeriod
from etl.report.write import write_report
from etl.storage import Storage
from etl.warehouse import open_warehouse
from etl.warehouse.duckdb import DuckDBWarehouse

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
SOURCE = "admin_penalty__scjg__landing"


class Recording:
    """A DuckDB connection that notes the SQL it is given."""

    def __init__(self, connection, seen: list[str]) -> None:
        self._connection, self._seen = connection, seen

    def execute(self, sql, *args, **kwargs):
        self._seen.append(str(sql))
        return self._connection.execute(sql, *args, **kwargs)

    def sql(self, sql, *args, **kwargs):
        self._seen.append(str(sql))
        return self._connection.sql(sql, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._connection, name)


@pytest.fixture(params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def recorded(request, tmp_path, monkeypatch) -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    if request.param == "duckdb":
        open_file = DuckDBWarehouse._open
        monkeypatch.setattr(DuckDBWarehouse, "_open", lambda self: Recording(open_file(self), seen))
        yield f"duckdb:///{tmp_path}/warehouse.duckdb", seen
        return
    for cls, name in ((psycopg.Connection, "execute"), (psycopg.Cursor, "execute"), (psycopg.Cursor, "copy")):
        original = getattr(cls, name)

        def noting(self, query, *args, _original=original, **kwargs):
            seen.append(query if isinstance(query, str) else repr(query))
            return _original(self, query, *args, **kwargs)

        monkeypatch.setattr(cls, name, noting)
    schema = f"bound_{uuid.uuid4().hex[:12]}"
    yield f"{POSTGRES}?schema={schema}", seen
    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def corrected(path: Path, encoding: str, out: Path) -> Path:
    """The delivery again with the facts of ten records changed: a correcting re-delivery."""
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline="")))
    facts = next(
        i for i, title in enumerate(rows[0]) if title in ("违法事实", "主要违法事实", "处罚事由", "CF_SY")
    )
    for row in rows[1:11]:
        row[facts] += "（更正）"
    text = io.StringIO(newline="")
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    out.write_bytes(text.getvalue().encode(encoding))
    return out


def test_no_value_of_the_data_reaches_sql_text(recorded, catalog, tmp_path):
    url, seen = recorded
    out = tmp_path / "demo"
    manifest = generate(out, seed=31, rows=120, sources=[SOURCE], file_format="csv", catalog=catalog)
    (record,) = manifest["deliveries"]
    first = out / record["path"]
    second = corrected(first, record["encoding"], tmp_path / "行政处罚_更正.csv")
    warehouse = open_warehouse(url)
    warehouse.init(catalog)
    storage = Storage(tmp_path / "storage")
    drops = []
    for path in (first, second):
        drop = receive_file(storage, path, dataset="admin_penalty", department="scjg", source=SOURCE)
        drops.append(drop)
        assert process_drop(drop, catalog=catalog, warehouse=warehouse, storage=storage).ok
    assert warehouse.table_snapshot("admin_penalty_history").num_rows > 0  # the correction took effect

    received = drops[0].received_at
    a_day = dt.timedelta(days=1)
    warehouse.ledger(dataset="admin_penalty", department="scjg", status=["loaded", "loaded_with_rejections"],
                     received_from=received - a_day, received_before=received + a_day,
                     delivery_id=drops[1].delivery_id)  # fmt: skip
    warehouse.find_delivery(drops[0].sha256, "admin_penalty", "scjg")
    day = received.date() + dt.timedelta(days=20)
    record_alerts(catalog, warehouse, evaluate_sources(catalog, warehouse, day), day)
    write_report(warehouse, catalog, ReportPeriod(received.year, received.month), tmp_path / "report",
                 build_docs=False)  # fmt: skip
    refresh_marts(warehouse, catalog)

    rows = warehouse.table_snapshot("admin_penalty").to_pylist()
    values = {drop.file_name for drop in drops} | {drop.sha256 for drop in drops}
    values |= {drop.delivery_id for drop in drops} | {drop.sha256[:16] for drop in drops}
    for column in ("decision_no", "uscc", "subject_name"):
        values |= {str(row[column]) for row in rows if row[column] and len(str(row[column])) >= 6}
    assert len(seen) > 50 and len(values) > 200
    text = "\n".join(seen)
    assert sorted(v for v in values if v in text)[:5] == []
