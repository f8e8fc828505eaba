"""Every hostile delivery of the corpus through the real path: dropped into a landing zone, picked up
by ``run_source`` and processed by ``process_drop``, on DuckDB (every case) and PostgreSQL (the
cases whose rows reach the load); a few of them through the tasks the landing DAG runs.

For each delivery: the outcome and reason of the manifest (``corpus_cases``) in the ledger and in the
feedback files, the raw bytes kept by sha256, nothing partially loaded (a delivery rejected whole adds
no row anywhere; otherwise rows read = loaded + rejected and the tables hold exactly those), no
formula in any feedback cell, the original archived by outcome, and no exception. A regular file
whose name is unsafe or too long is such a delivery too (rejected whole unread, the name escaped in
the ledger, the feedback, the logs and every file name written). So is an entry the zone refuses to
read (symbolic and hard links, directories, FIFOs): a ledger row, what was found kept under its sha256
(a link's own text, or a description), feedback files and the outbox note; a link's target and a hard
link's other name are never read, and a second poll records nothing more.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import logging
import os
import re
import stat
import unicodedata
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import psycopg
import pytest
from backends import POSTGRES_URL, initialised_warehouse
from build_corpus import builders
from corpus_cases import BY_NAME, CASES, LOADED, PARTLY, REJECTED, Case, readme_table
from openpyxl import load_workbook

from etl.catalog import Catalog
from etl.drop import receive_file
from etl.pipeline import process_drop
from etl.sources import FetchOptions, FetchReport, run_source
from etl.sources.landing import Zone
from etl.sources.names import (
    HIDDEN_CATEGORIES,
    MAX_ZONE_NAME_BYTES,
    printable,
    unsafe_reason,
)
from etl.storage import Storage
from etl.warehouse.base import Warehouse
from etl.warehouse.ledger import ENTRY_REJECTIONS, LINK_REFUSED, UNREAD_REJECTIONS

SOURCE = "admin_penalty__scjg__landing"
DATASET = "admin_penalty"
# The corpus is written before the poll: a file is complete once it is seen unchanged a moment later.
QUICK = FetchOptions(stable_seconds=0.0, wait_seconds=0.5)
FORMULA_STARTS = ("=", "+", "-", "@")
EXCEL_CELL_CHARS = 32_767
README = Path(__file__).parents[2] / "README.md"
# The code each refused entry is listed under in the fetch report (and the clerk's outbox note).
REPORTED_AS = {"LINK_REFUSED": "SYMLINK", "HARD_LINK_REFUSED": "HARDLINK", "DIRECTORY_REFUSED": "NOT_A_FILE",
               "SPECIAL_FILE_REFUSED": "NOT_A_FILE"}  # fmt: skip
# Files the corpus builders put beside the zone, that a link or hard link in incoming/ shares.
OUTSIDE = {"symlink_outside": ("outside_secret.csv", "机密,不应被读取\n".encode()),
           "hardlink": ("hardlinked_elsewhere.csv", None)}  # fmt: skip


def _params() -> Iterator[object]:
    for case in CASES:
        marks = [pytest.mark.slow] if case.slow else []
        yield pytest.param(case, "duckdb", marks=marks, id=f"{case.name}-duckdb")
    for case in CASES:
        if case.reaches_load:
            marks = [pytest.mark.postgres, *([pytest.mark.slow] if case.slow else [])]
            yield pytest.param(case, "postgresql", marks=marks, id=f"{case.name}-postgresql")


@pytest.fixture
def make_warehouse(tmp_path: Path, catalog: Catalog) -> Iterator:
    """Opens a fresh warehouse with the dataset's tables on a backend; ``make.urls`` lists them."""
    with ExitStack() as stack:

        def make(backend: str) -> Warehouse:
            one_dataset = dataclasses.replace(catalog, datasets={DATASET: catalog.datasets[DATASET]})
            url, warehouse = stack.enter_context(initialised_warehouse(backend, tmp_path, one_dataset))
            make.urls.append(url)  # type: ignore[attr-defined]
            return warehouse

        make.urls = []  # type: ignore[attr-defined]
        yield make


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def deliver(case: Case, zone: Zone, catalog: Catalog, storage: Storage, warehouse: Warehouse, tmp_path: Path):
    """Builds the case's entry and runs it through the landing source (or, for a name no directory can
    hold, straight through process_drop); returns the results, the fetch report, the bytes and the
    entry's name."""
    build = builders()[case.name]
    if case.file_name is not None:
        folder = tmp_path / "department_system"
        folder.mkdir()
        path = folder / build(folder)
        drop = receive_file(storage, path, dataset=DATASET, department="scjg", source=SOURCE,
                            file_name=case.file_name)
        return [process_drop(drop, catalog=catalog, warehouse=warehouse, storage=storage)], FetchReport(), \
            path.read_bytes(), case.file_name
    name = build(zone.incoming)
    entry = zone.incoming / name
    info = entry.lstat()
    if stat.S_ISLNK(info.st_mode):
        original = os.readlink(os.fsencode(entry))  # what is kept of a link: its own text
    else:  # a hard link's bytes are another file's: only a description of it is kept
        original = entry.read_bytes() if stat.S_ISREG(info.st_mode) and info.st_nlink == 1 else None
    run = run_source(catalog.source(SOURCE), catalog=catalog, storage=storage, warehouse=warehouse,
                     options=QUICK, landing_root=zone.root.parent.parent)
    return run.results, run.report, original, name


@dataclasses.dataclass
class Run:
    """One case delivered into a fresh landing zone, storage root and warehouse."""

    zone: Zone
    storage: Storage
    warehouse: Warehouse
    results: list
    report: FetchReport
    original: bytes | None
    name: str


def run_case(case: Case, backend: str, catalog: Catalog, make_warehouse, tmp_path: Path) -> Run:
    zone = Zone.for_source(tmp_path / "landing", catalog.source(SOURCE))
    zone.ensure()
    storage = Storage(tmp_path / "storage")
    warehouse = make_warehouse(backend)
    return Run(zone, storage, warehouse, *deliver(case, zone, catalog, storage, warehouse, tmp_path))


def feedback_cells(storage: Storage, key: str) -> list[str]:
    """Every cell of a feedback file; fails on a formula cell in the workbook."""
    with storage.open_read(key) as handle:
        data = handle.read()
    if key.endswith(".csv"):
        return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]
    cells = []
    workbook = load_workbook(io.BytesIO(data))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"formula in {key} {cell.coordinate}: {cell.value!r}"
                if cell.value is not None:
                    cells.append(str(cell.value))
    return cells


def check_delivery(case: Case, run: Run) -> None:
    zone, storage, warehouse, original = run.zone, run.storage, run.warehouse, run.original
    assert run.report.refused == [] and original is not None
    (result,) = run.results
    ledger = result.ledger
    assert ledger.status == case.outcome, (ledger.error_reason, ledger.error_message)
    (recorded,) = [r for r in warehouse.ledger(dataset=DATASET) if r.delivery_id == ledger.delivery_id]
    assert (recorded.status, recorded.error_reason) == (ledger.status, ledger.error_reason)

    # The raw delivery is kept, byte for byte, under its sha256.
    assert ledger.sha256 == sha256(original)
    with storage.open_read(Storage.raw_key(ledger.sha256)) as handle:
        assert sha256(handle.read()) == ledger.sha256

    # Nothing half loaded: the tables hold exactly what the ledger says.
    assert ledger.rows_read == ledger.rows_loaded + ledger.rows_rejected
    assert (ledger.rows_loaded, ledger.rows_rejected) == (case.loaded, case.rejected)
    assert warehouse.table_snapshot(DATASET).num_rows == case.loaded
    quarantined = [r for r in warehouse.table_snapshot("quarantine").to_pylist()
                   if r["delivery_id"] == ledger.delivery_id]  # fmt: skip
    assert len(quarantined) == case.rejected

    # The reason, in the ledger (rejected whole) or on the rejected rows.
    if case.outcome == REJECTED and not case.rejected:
        assert ledger.error_reason == case.reason
        assert case.phrase in ledger.error_message
    else:
        if case.outcome == REJECTED:  # no row passed: the ledger says so, each row says why
            assert ledger.error_reason == "ALL_ROWS_REJECTED" and "均未通过校验" in ledger.error_message
        else:
            assert ledger.error_reason is None
        reasons = [reason for r in quarantined for reason in json.loads(r["reasons_json"])]
        if case.reason is not None:
            assert any(r["rule"] == case.reason and case.phrase in r["message"] for r in reasons), reasons

    # The feedback files say it too, and no cell of theirs can start a formula.
    assert result.feedback is not None
    for key in (result.feedback.xlsx_key, result.feedback.csv_key):
        cells = feedback_cells(storage, key)
        assert any(case.phrase in cell for cell in cells), key
        assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)], key
        assert max(map(len, cells)) <= EXCEL_CELL_CHARS, key
    if case.file_name is not None:
        return
    for key in (result.feedback.xlsx_key, result.feedback.csv_key):
        with storage.open_read(key) as handle:
            assert (zone.outbox / key.rsplit("/", 1)[1]).read_bytes() == handle.read()

    # The original is archived by outcome; nothing is left to take again.
    folder = zone.rejected if case.outcome == REJECTED else zone.archive
    (archived,) = entries(folder)
    assert archived.read_bytes() == original
    assert entries(zone.incoming) == [] and entries(zone.processing) == []
    if case.reason in UNREAD_REJECTIONS:
        check_refused_name(case, run, archived)
    else:
        assert archived.name == f"{ledger.sha256}__{ledger.file_name}" and ledger.file_name == run.name
        assert not list(zone.outbox.glob("*.txt"))


def check_refused_name(case: Case, run: Run, archived: Path) -> None:
    """The name is shown escaped everywhere, and every file written for it has a safe name."""
    (result,) = run.results
    shown = printable(run.name)
    assert result.ledger.file_name == shown and not hidden_characters(shown)
    assert shown in result.ledger.error_message
    assert archived.name.startswith(f"{result.ledger.sha256}__")
    assert unsafe_reason(archived.name) is None and len(archived.name.encode()) <= 255
    assert len(archived.name.encode()) - 66 <= MAX_ZONE_NAME_BYTES
    outbox = sorted(p.name for p in run.zone.outbox.iterdir())
    assert [Path(n).suffix for n in outbox] == [".csv", ".xlsx"], outbox  # feedback, no refusal note
    assert all(unsafe_reason(n) is None and not n.startswith(".") for n in outbox), outbox
    for key in (result.feedback.xlsx_key, result.feedback.csv_key):
        cells = feedback_cells(run.storage, key)
        assert shown in cells and not [c for c in cells if hidden_characters(c)], key


def hidden_characters(text: str) -> list[str]:
    """Control, format and other invisible characters, line breaks aside."""
    return [ch for ch in text if ch not in "\r\n" and unicodedata.category(ch) in (*HIDDEN_CATEGORIES, "Cs")]


def check_refused_entry(case: Case, run: Run, catalog: Catalog) -> None:
    """A link, hard link, directory or FIFO: moved aside unread, what was found kept under its sha256
    (a link's own text, or a description), a ledger row, feedback files, and nothing outside read."""
    zone, storage, warehouse = run.zone, run.storage, run.warehouse
    (refusal,) = run.report.refused  # still listed, and noted for the clerk, as before
    assert refusal.reason == REPORTED_AS[case.reason]
    moved = Path(str(refusal.moved_to))
    assert os.path.lexists(moved) and moved.parent.parent == zone.rejected
    assert not list(zone.incoming.iterdir()) and not list(zone.processing.iterdir())

    (result,) = run.results
    ledger = result.ledger
    assert (ledger.status, ledger.error_reason) == (REJECTED, case.reason), ledger.error_message
    assert case.phrase in ledger.error_message and ledger.file_name == run.name
    (recorded,) = warehouse.ledger(dataset=DATASET)
    assert (recorded.status, recorded.error_reason, recorded.sha256) == (REJECTED, case.reason, ledger.sha256)
    assert ledger.rows_read == ledger.rows_loaded == ledger.rows_rejected == 0
    assert warehouse.table_snapshot(DATASET).num_rows == 0

    # What was found is kept under its sha256, and archived in rejected/ beside the entry itself.
    with storage.open_read(Storage.raw_key(ledger.sha256)) as handle:
        kept = handle.read()
    assert sha256(kept) == ledger.sha256
    (archived,) = zone.rejected.glob(f"*/{ledger.sha256}__*")
    assert archived.read_bytes() == kept
    if case.reason == LINK_REFUSED:
        assert moved.is_symlink()  # the link itself was moved, its target left alone
        assert kept == os.readlink(os.fsencode(moved)) == run.original
        assert f"指向“{os.readlink(moved)}”" in ledger.error_message
    else:
        described = json.loads(kept)
        assert described["description_of"] == run.name and "不是该项的内容" in described["note"]

    # Feedback files, in the storage root and the outbox, beside the clerk's note.
    assert result.feedback is not None
    cells = []
    for key in (result.feedback.xlsx_key, result.feedback.csv_key):
        cells += feedback_cells(storage, key)
        assert any(case.phrase in cell for cell in cells), key
        with storage.open_read(key) as handle:
            assert (zone.outbox / key.rsplit("/", 1)[1]).read_bytes() == handle.read()
    assert sorted(Path(n).suffix for n in os.listdir(zone.outbox)) == [".csv", ".txt", ".xlsx"]

    # Nothing of another file was read: not in the raw, not in the feedback.
    if case.name in OUTSIDE:
        name, content = OUTSIDE[case.name]
        outside = (zone.root.parent / name).read_bytes()
        assert content is None or outside == content
        assert outside not in kept and not [c for c in cells if outside.decode() in c]

    # Moved out of incoming/: a second poll records nothing more.
    again = run_source(catalog.source(SOURCE), catalog=catalog, storage=storage, warehouse=warehouse,
                       options=QUICK, landing_root=zone.root.parent.parent)  # fmt: skip
    assert again.results == [] and len(warehouse.ledger(dataset=DATASET)) == 1


@pytest.mark.parametrize(("case", "backend"), list(_params()))
def test_hostile_delivery(case: Case, backend: str, catalog: Catalog, make_warehouse, tmp_path: Path, caplog):
    caplog.set_level(logging.INFO)
    run = run_case(case, backend, catalog, make_warehouse, tmp_path)
    # Handled, not crashed: nothing logged as an error, no traceback.
    assert not [(r.name, r.getMessage()) for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    if case.outcome == REJECTED and not case.rejected:  # the log is watched: the rejection shows in it
        assert any("rejected whole" in r.getMessage() for r in caplog.records)
    if hidden_characters(run.name or ""):  # an unsafe name never reaches the log as it is
        assert not [r.getMessage() for r in caplog.records if hidden_characters(r.getMessage())]
    if case.reason in ENTRY_REJECTIONS:
        check_refused_entry(case, run, catalog)
    else:
        check_delivery(case, run)
    if backend == "postgresql" and case.rejected:
        schema = make_warehouse.urls[-1].partition("schema=")[2]
        check_quarantine_json_reads_in_sql(schema, case.rejected)


def check_quarantine_json_reads_in_sql(schema: str, rejected: int) -> None:
    """Every quarantined cell and reason can be read with PostgreSQL's JSON operators (a \\u0000
    escape anywhere in a document makes ->> fail for the whole row)."""
    table = f'"{schema}".quarantine'
    with psycopg.connect(POSTGRES_URL) as connection:
        (messages,) = connection.execute(
            f"SELECT count(r ->> 'message') FROM {table}, json_array_elements(reasons_json) r"
        ).fetchone()
        cells = connection.execute(f"SELECT raw_json ->> j.key FROM {table}, json_each(raw_json) j")
        cells = cells.fetchall()
    assert messages >= rejected
    assert "\x00" not in "".join(cell for (cell,) in cells if cell)


def test_formula_cells_come_out_as_text(catalog: Catalog, make_warehouse, tmp_path: Path):
    """The hostile values themselves are in the feedback, each behind an apostrophe."""
    run = run_case(BY_NAME["formula_injection_cells"], "duckdb", catalog, make_warehouse, tmp_path)
    (result,), storage = run.results, run.storage
    hostile = ['=HYPERLINK("http://evil.example/","点击")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
               "@SUM(1+1)*cmd|' /C calc'!A0"]
    for key in (result.feedback.xlsx_key, result.feedback.csv_key):
        cells = feedback_cells(storage, key)
        for value in hostile:
            assert f"'{value}" in cells, (key, value)


def test_a_loaded_formula_comes_out_neutralised_in_the_exchange_export(
    catalog: Catalog, make_warehouse, tmp_path: Path
):
    """The remark "=1+1" loads (a remark may say anything); the national exchange CSV, the other file
    made from delivered values, writes it as text."""
    from etl.marts.export import export_period

    run = run_case(BY_NAME["formula_injection_cells"], "duckdb", catalog, make_warehouse, tmp_path)
    report = export_period(run.warehouse, catalog.datasets[DATASET], "2026-09", tmp_path / "export")
    text = report.csv_path.read_text(encoding="utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert "'=1+1" in cells
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]


def test_a_value_longer_than_a_cell_is_cut_with_a_note(catalog: Catalog, make_warehouse, tmp_path: Path):
    run = run_case(BY_NAME["cell_40000_characters"], "duckdb", catalog, make_warehouse, tmp_path)
    (result,) = run.results
    for key in (result.feedback.xlsx_key, result.feedback.csv_key):
        (cut,) = [cell for cell in feedback_cells(run.storage, key) if cell.startswith("经查经查")]
        assert len(cut) == EXCEL_CELL_CHARS and cut.endswith("…（原文共40000字，以上为开头部分）")


def test_control_characters_are_shown_not_written(catalog: Catalog, make_warehouse, tmp_path: Path):
    """A NUL cannot go into a workbook cell: the feedback shows where it was, as \\x00."""
    run = run_case(BY_NAME["nul_byte_in_cell"], "duckdb", catalog, make_warehouse, tmp_path)
    (result,), storage = run.results, run.storage
    for key in (result.feedback.xlsx_key, result.feedback.csv_key):
        cells = feedback_cells(storage, key)
        assert "当事人销售\\x00不合格产品。" in cells
        assert not [cell for cell in cells if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", cell)]


DAG_CASES = ("empty_file", "nul_byte_in_cell", "xlsx_zip_bomb", "json_deeply_nested",
             "formula_injection_cells", "encrypted_workbook", "symlink_outside", "name_255_bytes")


def test_the_landing_dag_tasks_take_hostile_deliveries_in_their_stride(
    catalog: Catalog, tmp_path: Path, monkeypatch
):
    """discover → process (each) → record, as the landing DAG calls them: every task returns."""
    from etl import tasks

    landing = tmp_path / "landing"
    monkeypatch.setenv("CREDIT_ETL_LANDING", str(landing))
    monkeypatch.setenv("CREDIT_ETL_STORAGE", str(tmp_path / "storage"))
    monkeypatch.setenv("CREDIT_ETL_WAREHOUSE", f"duckdb:///{tmp_path}/warehouse.duckdb")
    monkeypatch.setenv(tasks.STABLE_SECONDS_ENV, "0.2")
    zone = Zone.for_source(landing, catalog.source(SOURCE))
    zone.ensure()
    names = {builders()[name](zone.incoming): BY_NAME[name] for name in DAG_CASES}

    found = tasks.discover(SOURCE)
    rows = [tasks.process(item) for item in found["items"]]
    summary = tasks.record(SOURCE, rows, found["report"])

    delivered = names  # every entry is a delivery, refused ones included (rejected unread)
    assert {row["file_name"]: row["status"] for row in rows} == {n: c.outcome for n, c in delivered.items()}
    for row in rows:
        case = delivered[row["file_name"]]
        if case.outcome == REJECTED:
            assert row["error_reason"] == case.reason and case.phrase in row["error_message"]
        assert row["rows_read"] == row["rows_loaded"] + row["rows_rejected"]
        assert all(Path(path).is_file() for path in row["feedback_paths"])
    refused = [REPORTED_AS[case.reason] for case in names.values() if case.reason in ENTRY_REJECTIONS]
    assert sorted(entry.rsplit(" (", 1)[1].rstrip(")") for entry in summary["refused"]) == sorted(refused)
    assert summary["deliveries"] == len(delivered)
    assert summary["statuses"] == {
        status: sum(1 for c in delivered.values() if c.outcome == status)
        for status in sorted({c.outcome for c in delivered.values()})
    }
    assert summary["rows_loaded"] == sum(c.loaded for c in delivered.values())


def test_every_case_has_a_builder_and_the_corpus_is_large_enough():
    assert sorted(builders()) == sorted(BY_NAME)
    assert len(CASES) >= 40
    assert {c.outcome for c in CASES} == {REJECTED, LOADED, PARTLY}
    assert {c.reason for c in CASES} >= set(ENTRY_REJECTIONS)


def test_readme_lists_every_case_with_its_outcome():
    text = README.read_text(encoding="utf-8")
    start, end = "<!-- corpus:start -->\n", "<!-- corpus:end -->"
    assert start in text and end in text, "README.md lacks the corpus table markers"
    table = text.split(start, 1)[1].split(end, 1)[0]
    assert table == readme_table(), "regenerate with: python tests/corpus/corpus_cases.py"


def test_a_workbook_inflating_past_the_total_limit_is_refused_unread(
    catalog: Catalog, tmp_path: Path, monkeypatch
):
    """The total cap, for packages whose members each compress normally (the zip bomb case is the
    ratio check): lowered here so a real workbook exceeds it."""
    from etl.errors import DeliveryRejected
    from etl.read import open_delivery, sniff

    path = tmp_path / builders()["xlsx_named_csv"](tmp_path)
    monkeypatch.setattr(sniff, "MAX_INFLATED_BYTES", 10_000)
    with pytest.raises(DeliveryRejected) as caught:
        open_delivery(path, catalog.datasets[DATASET])
    assert caught.value.reason == "WORKBOOK_TOO_LARGE" and "超出平台可处理的范围" in caught.value.message
