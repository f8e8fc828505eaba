"""``credit-etl report``: the three files with the same tables, the Data Docs each dataset links to,
clear errors for a bad period; the workbook keeps hostile text as text."""

from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pytest
from report_fixture import build_warehouse

from etl.cli import main
from etl.report.tables import Column, Section, sections
from etl.report.workbook import workbook_bytes


@pytest.fixture(scope="module")
def report_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"duckdb:///{tmp_path_factory.mktemp('duckdb')}/warehouse.duckdb"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2026-13"], "--period '2026-13' is not a month"),
        (["--period", "October"], "write it as YYYY-MM"),
        (["--period", "2026-10", "--half", "3"], "--half must be 1 (1st-15th) or 2"),
    ],
)
def test_a_bad_period_is_a_usage_error(args, message, tmp_path, capsys):
    assert main(["report", *args, "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_command_writes_the_page_workbook_json_and_data_docs(tmp_path, report_url, capsys):
    catalog_dir = tmp_path / "built"
    catalog_dir.mkdir()
    build_warehouse(catalog_dir, report_url)
    out = tmp_path / "report"
    code = main(["report", "--period", "2026-10", "--warehouse", report_url, "--out", str(out),
                 "--catalog", str(catalog_dir / "catalog_yaml")])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "report for 2026-10 (2026-10-01 to 2026-10-31): 3 deliveries, 5 rows loaded, 4 rejected" in printed
    written = sorted(p.name for p in out.iterdir())
    assert written == ["data_docs", "metrics.json", "report.html", "report.xlsx"]

    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    link = metrics["datasets"][0]["data_docs"]
    assert link == "data_docs/expectations/admin_penalty.html"
    assert (out / link).is_file(), "the page each dataset links to exists"
    assert f'href="{link}"' in (out / "report.html").read_text(encoding="utf-8")

    workbook = openpyxl.load_workbook(out / "report.xlsx")
    tables = sections(metrics)
    assert workbook.sheetnames == [t.title for t in tables]
    for table in tables:
        sheet = workbook[table.title]
        assert [c.value for c in sheet[2]] == [c.title for c in table.columns]
        assert sheet.max_row == 2 + len(table.rows), table.title
    departments = workbook["部门评分与排名"]
    header = [c.value for c in departments[2]]
    first = {h: c.value for h, c in zip(header, departments[3], strict=True)}
    top = metrics["departments"][0]
    assert (first["部门"], first["入库行数"], first["纠正率"]) == (top["name"], top["rows_loaded"], 0.5)
    assert departments.cell(3, header.index("纠正率") + 1).number_format == "0.0%"


def test_workbook_text_never_becomes_a_formula(tmp_path):
    table = Section("t", "示例", (Column("value", "原值"),), ({"value": '=HYPERLINK("http://x","点我")'},
                                                           {"value": "@SUM(A1)"}, {"value": "正常"}))
    path = tmp_path / "w.xlsx"
    path.write_bytes(workbook_bytes([table], title="示例", created=dt.datetime(2026, 1, 1)))
    sheet = openpyxl.load_workbook(path)["示例"]
    cells = [sheet.cell(row, 1) for row in (3, 4, 5)]
    assert [c.value for c in cells] == ['\'=HYPERLINK("http://x","点我")', "'@SUM(A1)", "正常"]
    assert all(c.data_type == "s" for c in cells)


def test_help_lists_the_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "write the NDRC data-quality report" in capsys.readouterr().out
