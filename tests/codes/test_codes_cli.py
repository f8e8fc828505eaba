"""``credit-etl codes check``."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import etl.cli

LINES = [
    "91110000600037341L",
    "",
    "９１１１００００６０００３７３４１ｌ",
    "91110000600037341N",
    "60003734-1",
    "360426199101010071",
    "9.14502E+17",
]


@pytest.fixture(autouse=True)
def only_the_codes_command(monkeypatch: pytest.MonkeyPatch) -> None:
    # Other command groups are other people's; a broken import there must not fail these tests.
    monkeypatch.setattr(etl.cli, "COMMAND_MODULES", ["etl.cli.codes_cmd"])


@pytest.fixture
def codes_file(tmp_path: Path) -> Path:
    path = tmp_path / "codes.txt"
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    status = etl.cli.main(["codes", "check", *argv])
    return status, capsys.readouterr().out


def test_csv_output_one_verdict_per_value(codes_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run(capsys, str(codes_file))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 1
    assert list(rows[0]) == ["line", "input", "kind", "normalised", "valid", "reason", "message"]
    assert [r["line"] for r in rows] == ["1", "3", "4", "5", "6", "7"]
    assert [r["valid"] for r in rows] == ["true", "true", "false", "true", "true", "false"]
    assert rows[1]["normalised"] == "91110000600037341L"
    assert rows[2]["reason"] == "USCC_BAD_CHECK"
    assert rows[2]["message"].startswith("统一社会信用代码校验位错误，应为 L")
    assert rows[5]["reason"] == "SCIENTIFIC_NOTATION"
    assert (rows[4]["kind"], rows[4]["input"], rows[4]["normalised"]) == (
        "idcard",
        "3604**********0071",
        "3604**********0071",
    )


def test_show_personal(codes_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = run(capsys, str(codes_file), "--show-personal", "--format", "json")
    assert "360426199101010071" in out


def test_json_lines_and_a_fixed_kind(codes_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run(capsys, str(codes_file), "--kind", "orgcode", "--format", "json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert status == 1
    assert {r["kind"] for r in rows} == {"orgcode"}
    assert rows[3] == {
        "line": 5,
        "input": "60003734-1",
        "kind": "orgcode",
        "normalised": "600037341",
        "valid": True,
        "reason": None,
        "message": None,
    }


KIND_LINES = {
    "uscc": ("９１１１００００６０００３７３４１ｌ", "91110000600037341L", True, None),
    "orgcode": ("60003734-2", "600037342", False, "ORGCODE_BAD_CHECK"),
    "regno": ("450200000012340", "450200000012340", True, None),
    "idcard": ("360426910101007", "3604**********0071", True, None),
}


@pytest.mark.parametrize("output", ["csv", "json"])
@pytest.mark.parametrize("kind", sorted(KIND_LINES))
def test_every_kind_in_both_formats(
    kind: str, output: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    value, normalised, valid, reason = KIND_LINES[kind]
    path = tmp_path / "one.txt"
    path.write_text(value + "\n", encoding="utf-8")
    status, out = run(capsys, str(path), "--kind", kind, "--format", output)
    if output == "json":
        rows = [json.loads(line) for line in out.splitlines()]
    else:
        rows = list(csv.DictReader(io.StringIO(out)))
        rows = [r | {"valid": r["valid"] == "true", "reason": r["reason"] or None} for r in rows]
    assert status == (0 if valid else 1)
    assert [(r["kind"], r["normalised"], r["valid"], r["reason"]) for r in rows] == [
        (kind, normalised, valid, reason)
    ]


def test_identity_numbers_in_a_uscc_column_are_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ids.txt"
    path.write_text("360426199101010071\n360426910101007\n121200004013590816\n", encoding="utf-8")
    _, out = run(capsys, str(path), "--kind", "uscc", "--format", "json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["input"], r["normalised"]) for r in rows] == [
        ("3604**********0071", "3604**********0071"),
        ("3604*******1007", "3604*******1007"),
        ("121200004013590816", "121200004013590816"),  # a valid USCC made of digits stays readable
    ]
    assert "199101" not in out and "910101" not in out


def test_csv_output_neutralises_values_that_would_be_formulas(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CSV is opened in a spreadsheet: an input (and its normalised form) that starts like a
    formula comes out as text, behind an apostrophe; JSON carries the values as they were."""
    hostile = ['=HYPERLINK("http://evil.example/","x")', "+cmd|' /C calc'!A0", "-1+1", "@SUM(1)", "\tA1"]
    path = tmp_path / "hostile.txt"
    path.write_text("\n".join([*hostile, "91110000600037341L"]) + "\n", encoding="utf-8")
    status, out = run(capsys, str(path))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 1 and len(rows) == 6
    cells = [cell for row in csv.reader(io.StringIO(out)) for cell in row]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))], cells
    assert [r["input"] for r in rows[:4]] == [f"'{value}" for value in hostile[:4]]
    assert rows[5]["input"] == rows[5]["normalised"] == "91110000600037341L"  # clean values untouched
    _, out = run(capsys, str(path), "--format", "json")
    assert [json.loads(line)["input"] for line in out.splitlines()][:4] == hostile[:4]


def test_all_valid_exits_0_and_reads_gbk_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = "９１１１００００６０００３７３４１Ｌ\n91110000600037341L\n".encode("gb18030")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    status, out = run(capsys, "-", "--kind", "uscc")
    assert status == 0
    assert out.count("91110000600037341L") == 3


def test_missing_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = etl.cli.main(["codes", "check", str(tmp_path / "nope.txt")])
    assert status == 2
    assert "no such file" in capsys.readouterr().err


def test_bad_kind_is_refused_by_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        etl.cli.main(["codes", "check", "--kind", "vat"])
    assert caught.value.code == 2


def test_installed_console_script(codes_file: Path) -> None:
    script = Path(sys.executable).with_name("credit-etl")
    command = str(script) if script.exists() else shutil.which("credit-etl")
    assert command, "credit-etl is not installed in this environment"
    done = subprocess.run(
        [command, "codes", "check", "--kind", "uscc", str(codes_file)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines()[0] == '"line","input","kind","normalised","valid","reason","message"'
