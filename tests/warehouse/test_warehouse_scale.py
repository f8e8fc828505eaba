"""Loading a million 行政处罚 records, against the raw bulk tools measured in the same run.

Slow (``SLOW=1`` / ``-m slow``): builds a 1M-row accepted Parquet shaped like admin_penalty, and
prints seconds and rows/s for: the raw tool on the same rows as CSV (DuckDB ``read_csv`` into a
table; ``psql \\copy`` into a table of the same columns), the first load, the same delivery
again (all unchanged), and a delivery with 10 % of the records changed.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from backends import POSTGRES_URL

from etl.catalog import Catalog, Dataset
from etl.warehouse import open_warehouse
from etl.warehouse.base import LoadBatch
from etl.warehouse.ledger import SHANGHAI, LedgerRow
from etl.warehouse.staging import accepted_schema, accepted_table

ROWS = 1_000_000

pytestmark = pytest.mark.slow


LONG_TEXTS = {
    "violation_facts": [
        "当事人在经营场所销售超过保质期的食品，违反了《中华人民共和国食品安全法》第三十四条第（十）项的规定",
        "当事人未按规定建立并遵守进货查验记录制度，且无法提供所售食品的合格证明文件",
    ],
    "legal_basis": [
        "《中华人民共和国食品安全法》第一百二十四条第一款第（五）项",
        "《中华人民共和国行政处罚法》第二十八条",
    ],
    "penalty_content": ["没收违法所得人民币贰仟元，并处罚款人民币伍万元", "警告，责令改正"],
}
SHORT_TEXTS = ["柳州市市场监督管理局", "法人及非法人组织", "罚款", "身份证", "张三", "销售不合格食品"]


def typed_penalties(dataset: Dataset, n: int, seed: int = 1) -> pa.Table:
    """``n`` records with realistic widths: a few long texts, short required texts, sparse optional
    columns, 300,000 subjects, unique decision numbers."""
    rng = np.random.default_rng(seed)
    columns = {}
    for field in accepted_schema(dataset):
        name, kind = field.name, field.type
        if name.startswith("_"):
            continue
        required = dataset.field(name).required
        if name == "decision_no":
            values = pa.array([f"柳市监处罚〔2026〕{i}号" for i in range(n)])
        elif name == "subject_name":
            values = pa.array([f"柳州市第{i % 300_000}商贸有限公司" for i in range(n)])
        elif name == "uscc":
            values = pa.array([f"91450200MA{i % 300_000:07d}X" for i in range(n)])
        elif kind == pa.date32():
            days = np.datetime64("2020-01-01") + rng.integers(0, 2000, n)
            values = pa.array(days.astype("datetime64[D]"), pa.date32())
        elif pa.types.is_decimal(kind):
            values = pa.array(rng.integers(0, 10**4, n)).cast(pa.decimal128(38, 6)).cast(kind)
        elif kind == pa.int64():
            values = pa.array(rng.integers(0, 10**6, n))
        else:
            pool = np.array(LONG_TEXTS.get(name, SHORT_TEXTS), dtype=object)
            picked = pool[rng.integers(0, len(pool), n)]
            if not required:
                picked = np.where(rng.random(n) < 0.8, None, picked)
            values = pa.array(picked, pa.string())
        columns[name] = values
    return pa.table(columns)


def staged(root: Path, dataset: Dataset, typed: pa.Table, label: str) -> LoadBatch:
    sha = uuid.uuid5(uuid.NAMESPACE_URL, label).hex * 2
    delivery_id = f"{dataset.id}:scjg:{sha[:16]}"
    table = accepted_table(
        typed, dataset, delivery_id=delivery_id, sha256=sha, source_rows=np.arange(2, typed.num_rows + 2)
    )
    path = root / f"{label}.parquet"
    # As the pipeline writes it: one row group per read batch.
    pq.write_table(table, path, row_group_size=50_000)
    received = dt_now()
    ledger = LedgerRow(
        delivery_id=delivery_id, dataset=dataset.id, department="scjg", source="admin_penalty__scjg__landing",
        file_name=f"{label}.csv", sha256=sha, size_bytes=path.stat().st_size, received_at=received,
        status="loaded", rows_read=typed.num_rows, rows_loaded=typed.num_rows,
    )
    return LoadBatch(ledger, dataset, path)


def dt_now():
    import datetime as dt

    return dt.datetime.now(SHANGHAI)


def timed(action) -> float:
    started = time.perf_counter()
    action()
    elapsed = time.perf_counter() - started
    print(f"  {getattr(action, '__name__', 'step')}: {elapsed:.2f} s", flush=True)
    return elapsed


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> dict[str, object]:
    root = tmp_path_factory.mktemp("scale")
    dataset = catalog.datasets["admin_penalty"]
    typed = typed_penalties(dataset, ROWS)
    csv_path = root / "penalties.csv"
    pcsv.write_csv(typed, csv_path)
    remarks = typed.schema.get_field_index("remarks")
    every_tenth = pa.array(np.arange(ROWS) % 10 == 0)
    changed = typed.set_column(
        remarks, "remarks", pc.if_else(every_tenth, pa.scalar("已整改"), typed.column(remarks))
    )
    return {
        "dataset": dataset,
        "catalog": dataclasses.replace(catalog, datasets={dataset.id: dataset}),
        "csv": csv_path,
        "first": staged(root, dataset, typed, "first"),
        "changed": staged(root, dataset, changed, "changed"),
    }


def best_of(runs: int, action) -> float:
    return min(timed(action) for _ in range(runs))


def _first_load(warehouse, batch: LoadBatch) -> float:
    return timed(lambda: warehouse.load(batch))


def run_loads(open_fresh, deliveries) -> dict[str, float]:
    """The first load into two fresh warehouses (best of two), then the others on the second."""
    first, changed = deliveries["first"], deliveries["changed"]
    times = {"first load": min(_first_load(open_fresh(), first) for _ in range(2))}
    warehouse = open_fresh.last
    times["same delivery again"] = timed(lambda: warehouse.load(first))
    report = {}
    times["10% changed"] = timed(lambda: report.setdefault("r", warehouse.load(changed)))
    assert (report["r"].updated, report["r"].unchanged) == (ROWS // 10, ROWS - ROWS // 10)
    assert warehouse.table_snapshot("deliveries").num_rows == 3
    return times


class Fresh:
    """Opens a new, initialised warehouse at each call (remembering the last one)."""

    def __init__(self, make_url, catalog: Catalog) -> None:
        self.make_url, self.catalog, self.count, self.last = make_url, catalog, 0, None

    def __call__(self):
        self.count += 1
        self.last = open_warehouse(self.make_url(self.count))
        self.last.init(self.catalog)
        return self.last


def show(backend: str, raw_label: str, raw: float, times: dict[str, float]) -> None:
    print(f"\n{backend}: {raw_label} {raw:.2f} s ({ROWS / raw:,.0f} rows/s)")
    for label, seconds in times.items():
        print(f"{backend}: {label} {seconds:.2f} s ({ROWS / seconds:,.0f} rows/s, {seconds / raw:.2f}x raw)")


def test_duckdb_scale(tmp_path: Path, deliveries) -> None:
    import duckdb

    def read_csv() -> None:
        path = tmp_path / f"raw-{uuid.uuid4().hex}.duckdb"
        connection = duckdb.connect(str(path))
        connection.execute("CREATE TABLE raw AS SELECT * FROM read_csv(?)", [str(deliveries["csv"])])
        connection.close()

    raw = best_of(2, read_csv)
    times = run_loads(Fresh(lambda n: f"duckdb://{tmp_path}/w{n}.duckdb", deliveries["catalog"]), deliveries)
    show("duckdb", "read_csv into a table", raw, times)
    assert times["first load"] < 3 * raw


@pytest.mark.postgres
@pytest.mark.skipif(shutil.which("psql") is None, reason="needs psql for the \\copy baseline")
def test_postgresql_scale(deliveries, postgres_schema: str) -> None:
    import psycopg

    types = {"date": "DATE", "decimal": "NUMERIC(20,6)", "integer": "BIGINT"}
    columns = ", ".join(f'"{f.name}" {types.get(f.type, "TEXT")}' for f in deliveries["dataset"].fields)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{postgres_schema}"')

    def psql_copy() -> None:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f'DROP TABLE IF EXISTS "{postgres_schema}".raw')
            connection.execute(f'CREATE TABLE "{postgres_schema}".raw ({columns})')
        copy = f"\\copy \"{postgres_schema}\".raw FROM '{deliveries['csv']}' WITH (FORMAT csv, HEADER true)"
        psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q", "-c", copy]
        subprocess.run(psql, check=True)

    raw = best_of(2, psql_copy)
    schemas = [f"{postgres_schema}_w1", f"{postgres_schema}_w2"]
    try:
        fresh = Fresh(lambda n: f"{POSTGRES_URL}?schema={schemas[n - 1]}", deliveries["catalog"])
        times = run_loads(fresh, deliveries)
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            for schema in schemas:
                connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    show("postgresql", "psql \\copy into a table", raw, times)
    assert times["first load"] < 3 * raw
