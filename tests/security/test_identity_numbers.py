"""Identity numbers are masked wherever they go beyond the delivering department: logs, console
output, alert messages (which quote the ledger's reasons, and are copied to the 发改委) and the NDRC
report. The department's own feedback file may show its own rows as delivered (ARCHITECTURE.md:
feedback is for the clerk who must correct them); it is written only under that department.

Two deliveries of the market regulator carry the numbers: one with personal subjects among its rows,
some numbers with a wrong check digit (rejected rows whose reasons quote the cell), and the same rows
without their header line, a row with an identity number first (rejected whole: no header found).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path

import pytest
from alert_ledger import write_catalog

from etl.alerts.run import evaluate_sources, record_alerts
from etl.alerts.store import read_messages
from etl.catalog import load_catalog
from etl.cli import main as cli
from etl.demo_data import generate
from etl.report.period import ReportPeriod
from etl.report.write import write_report
from etl.warehouse import open_warehouse

ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
MASKED = re.compile(r"\d{4}\*{10}[0-9Xx]{4}")
SOURCE = "admin_penalty__scjg__landing"


def identity_numbers(text: str) -> set[str]:
    return set(ID_NUMBER.findall(text))


def text_of(path: Path) -> str:
    if path.suffix == ".xlsx":
        import zipfile

        with zipfile.ZipFile(path) as book:
            return "\n".join(book.read(n).decode("utf-8", "replace") for n in book.namelist())
    return path.read_bytes().decode("utf-8", "replace")


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    """The project's catalog with admin_penalty alone (and three of its sources): alerts for one."""
    return write_catalog(tmp_path / "catalog")


@pytest.fixture
def deliveries(tmp_path: Path, catalog_dir: Path) -> tuple[Path, Path, set[str]]:
    catalog = load_catalog(catalog_dir)
    out = tmp_path / "demo"
    manifest = generate(out, seed=21, rows=300, sources=[SOURCE], file_format="csv", catalog=catalog,
                        defect_rate=0.05)  # fmt: skip
    (record,) = manifest["deliveries"]
    path = out / record["path"]
    text = path.read_bytes().decode(record["encoding"])
    _header, first, *rest = text.splitlines(keepends=True)
    # The headerless file starts with a row that carries an identity number.
    personal = next(line for line in [first, *rest] if identity_numbers(line))
    headerless = tmp_path / "行政处罚_无表头.csv"
    headerless.write_bytes("".join([personal, first, *rest]).encode(record["encoding"]))
    numbers = identity_numbers(text)
    assert len(numbers) >= 5
    return path, headerless, numbers


def test_identity_numbers_stay_masked_outside_the_delivering_department(
    deliveries, catalog_dir, tmp_path, caplog, capfd
):
    caplog.set_level(logging.DEBUG)
    path, headerless, numbers = deliveries
    url = f"duckdb:///{tmp_path}/warehouse.duckdb"
    common = ["--dataset", "admin_penalty", "--department", "scjg", "--warehouse", url,
              "--storage", str(tmp_path / "storage"), "--catalog", str(catalog_dir)]  # fmt: skip
    assert cli(["ingest", str(path), *common]) == 0
    assert cli(["ingest", str(headerless), *common]) == 1  # rejected whole

    catalog = load_catalog(catalog_dir)
    warehouse = open_warehouse(url)
    ledger = warehouse.ledger()
    assert [row.status for row in ledger] == ["loaded_with_rejections", "rejected"]
    assert "表头" in (ledger[1].error_message or "")
    quarantine = "\n".join(warehouse.table_snapshot("quarantine").column("reasons_json").to_pylist())
    assert "IDCARD" in quarantine.upper() or "身份证" in quarantine

    # Alerts, from a warehouse where the rejected file is the department's only attempt: each day
    # until the obligation is breached and the notice quotes the rejection.
    alerts_url = f"duckdb:///{tmp_path}/alerts.duckdb"
    elsewhere = ["--warehouse", alerts_url, "--storage", str(tmp_path / "alerts-storage"),
                 "--catalog", str(catalog_dir)]  # fmt: skip
    assert cli(["ingest", str(headerless), *common[:4], *elsewhere]) == 1
    alerts = open_warehouse(alerts_url)
    messages: list = []
    for days in range(1, 25):
        day = ledger[1].received_at.date() + dt.timedelta(days=days)
        record_alerts(catalog, alerts, evaluate_sources(catalog, alerts, day), day)
        messages += read_messages(alerts, day)
        if any("整体退回" in m["message"].body for m in messages):
            break
    assert any("整体退回" in m["message"].body for m in messages)
    alert_text = "\n".join(f"{m['message'].subject}\n{m['message'].body}" for m in messages)

    # The NDRC report of the month the deliveries came in.
    received = ledger[0].received_at
    files, _ = write_report(warehouse, catalog, ReportPeriod(received.year, received.month),
                            tmp_path / "report", build_docs=False)  # fmt: skip
    report_text = "\n".join(text_of(p) for p in (files.html, files.workbook, files.metrics))
    assert MASKED.search(report_text)  # the report quotes rejected rows: their numbers masked

    printed = capfd.readouterr()
    feedback = sorted((tmp_path / "storage" / "feedback").rglob("*.*"))
    assert feedback and all(
        p.relative_to(tmp_path / "storage" / "feedback").parts[0] == "scjg" for p in feedback
    )
    found = {
        "log": identity_numbers(caplog.text) & numbers,
        "stdout": identity_numbers(printed.out) & numbers,
        "stderr": identity_numbers(printed.err) & numbers,
        "alerts": identity_numbers(alert_text) & numbers,
        "report": identity_numbers(report_text) & numbers,
    }
    assert {where: sorted(hits)[:3] for where, hits in found.items() if hits} == {}
