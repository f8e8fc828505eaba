"""``credit-etl freshness`` over a warehouse loaded through the pipeline, on DuckDB and PostgreSQL.

As of Friday 2026-10-16 (admin_penalty, two sources):

- scjg delivered on 10-13 (records 101-103): ok, next deadline 10-31;
- jt last delivered on 09-20 (record 201): nothing in 10-01..10-15, breached 1 working day.

双公示 (7 working days; Sunday 09-20 a make-up working day): 101 (decided 09-28) on time on 10-13;
102 (09-25, due 10-12) 1 day late; 103 (09-18, due 09-29) 6 days late; 201 (09-08, due 09-17)
published 09-20: 2 days late (09-18 and Sunday 09-20).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from penalty_deliveries import deliver, penalty, penalty_catalog_dir, stamp

from etl.catalog import load_catalog
from etl.cli import main as cli
from etl.freshness import at
from etl.warehouse import open_warehouse

SOURCES = ("admin_penalty__scjg__landing", "admin_penalty__jt__landing")


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return penalty_catalog_dir(tmp_path_factory.mktemp("catalog"), SOURCES)


@pytest.fixture
def loaded(warehouse_url: str, catalog_dir: Path, tmp_path: Path) -> list[str]:
    """The warehouse with the two deliveries; returns the CLI's common arguments."""
    catalog = load_catalog(catalog_dir)
    warehouse = open_warehouse(warehouse_url)
    warehouse.init(catalog)
    deliver(tmp_path, warehouse, catalog, "jt", "jt.csv", [penalty(201, "2026-09-08")], at(2026, 9, 20, 9))
    stamp(warehouse, [201], at(2026, 9, 20, 9, 5))
    rows = [penalty(101, "2026-09-28"), penalty(102, "2026-09-25"), penalty(103, "2026-09-18")]
    deliver(tmp_path, warehouse, catalog, "scjg", "scjg.csv", rows, at(2026, 10, 13, 9))
    stamp(warehouse, [101, 102, 103], at(2026, 10, 13, 9, 5))
    return ["--warehouse", warehouse_url, "--catalog", str(catalog_dir)]


def test_freshness_table(loaded: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["freshness", "--as-of", "2026-10-16", "--late-limit", "2", *loaded]) == 1  # a breach
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "freshness as of 2026-10-16 (Fri)"
    rows = {line.split()[0]: line.split()[1:7] for line in lines if line.startswith("admin_penalty__")}
    assert rows["admin_penalty__scjg__landing"] == ["scjg", "2026-10-13", "09:00", "2026-10-31", "ok", "-"]
    assert rows["admin_penalty__jt__landing"] == ["jt", "2026-09-20", "09:00", "2026-10-15", "breached", "1"]
    assert "2 source(s): 1 breached, 0 undecidable, 0 recovered, 0 due_soon, 1 ok" in lines
    rates = {tuple(line.split()[:2]): line.split()[2:] for line in lines if line.startswith(("scjg", "jt"))}
    assert rates[("scjg", "admin_penalty")] == ["3", "1", "2", "0", "33.3%"]
    assert rates[("jt", "(all)")] == ["1", "0", "1", "0", "0.0%"]
    assert "late records, most late first (2 of 3):" in lines
    late = [line.split() for line in lines if line.startswith("admin_penalty ")]
    assert [(row[1], row[2], row[3], row[5]) for row in late] == [
        ("scjg", "2026-09-18", "2026-09-29", "6"), ("jt", "2026-09-08", "2026-09-17", "2"),
    ]  # fmt: skip
    assert late[0][-2:] == ["柳市监罚〔2026〕103号", "柳州螺蛳粉有限公司"]


def test_freshness_json(loaded: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["freshness", "--as-of", "2026-10-13", "--json", *loaded]) == 0
    document = json.loads(capsys.readouterr().out)
    states = {s["source_id"]: (s["state"], s["next_deadline"]) for s in document["sources"]}
    # On 10-13 jt has two working days left in its half-month.
    assert states == {"admin_penalty__scjg__landing": ("ok", "2026-10-31"),
                      "admin_penalty__jt__landing": ("ok", "2026-10-15")}  # fmt: skip
    jt = next(s for s in document["sources"] if s["department"] == "jt")
    assert jt["checks"][0]["detail"] == "2026年10月上半月（10月1日至15日）待报送，2026年10月15日截止"
    publication = document["publication"]
    assert [(r["department"], r["on_time"], r["late"]) for r in publication["department_rates"]] == [
        ("jt", 0, 1), ("scjg", 1, 2),
    ]  # fmt: skip
    assert [(x["key"]["decision_no"], x["working_days_late"]) for x in publication["late"]] == [
        ("柳市监罚〔2026〕103号", 6), ("柳市监罚〔2026〕201号", 2), ("柳市监罚〔2026〕102号", 1),
    ]  # fmt: skip


def test_freshness_in_a_year_without_calendar_is_undecidable(
    loaded: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["freshness", "--as-of", "2027-01-05", "--json", *loaded]) == 1
    sources = json.loads(capsys.readouterr().out)["sources"]
    assert {s["state"] for s in sources} == {"undecidable"}
    assert all("no working-day calendar for 2027" in s["reason"] for s in sources)


def test_freshness_usage_errors(loaded: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["freshness", "--as-of", "2026-02-30", *loaded]) == 2
    assert "--as-of: '2026-02-30' is not a valid date" in capsys.readouterr().err
    assert cli(["freshness", "--late-limit", "-1", *loaded]) == 2
    assert "--late-limit must be 0 or more" in capsys.readouterr().err
