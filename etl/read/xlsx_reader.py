"""XLSX workbooks, streamed with openpyxl's read-only mode.

Which sheet: every sheet's first rows are searched for the header (``etl.read.header``); the sheet
whose header matches the catalog and that has data rows is read. None matching is
``NO_MATCHING_SHEET`` (naming the sheets; ``HEADER_NOT_FOUND`` for a one-sheet workbook), and several
with data is ``SEVERAL_MATCHING_SHEETS``: reading one of them would silently drop the others.

Cells come typed from openpyxl and are turned into the text a clerk sees in the cell
(``excel_text``): integers without ``.0``, dates as ``YYYY-MM-DD``. A long number that Excel stored
as a float has already lost its digits beyond the 15th, so it comes through the way Excel shows it
(``9.14502E+17``) for the code checks to reject as scientific-notation damage, rather than as a
made-up string of digits.

Merged cells: read-only mode streams the sheet XML and does not expose merged ranges, and opening
the workbook in normal mode would hold the whole sheet in memory. The ranges are instead read from
the ``<mergeCell ref="…">`` elements of the sheet XML, scanned in the compressed stream chunk by
chunk, so memory stays bounded. In a merged range only the top-left cell holds the value, but the
clerk sees it in every cell of the range: a department that merges the 处罚机关 cells of ten rows
means those ten records share it. The value is therefore copied into every cell of a merged range
that starts in the data area; without that, nine of the ten records would be rejected for a
missing required value the clerk can plainly see. Merged ranges above the data (a merged title row,
a header cell spanning two columns) are left alone.

Text cells come back with Excel's ``_xHHHH_`` escapes undone (``unescape_xml_string``): a control
character typed or pasted into a cell is stored that way, and must reach conform as itself.

Limits: openpyxl loads a workbook's shared-string table whole (its size grows with the number of
distinct texts, not rows); cells to the right of the last header cell are not read.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from itertools import islice
from pathlib import Path, PurePosixPath
from typing import Any

import pyarrow as pa
from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.workbook import Workbook

from etl.catalog import Dataset
from etl.conform.headers import HeaderMatcher
from etl.read import rejections
from etl.read.delivery import BadRows, RawDelivery, make_batch
from etl.read.header import LOOKAHEAD_ROWS, expected_titles, find_header, header_cells

# Rows read per sheet to find its header and the first data rows after it.
HEAD_ROWS = LOOKAHEAD_ROWS + 12
# Excel keeps 15 significant digits; a whole number beyond that has been rounded by Excel.
EXACT_DIGITS_LIMIT = 1e15

_CORRUPT = (zipfile.BadZipFile, zlib.error, ET.ParseError, KeyError, ValueError, EOFError, OSError)
_MERGE_REF = re.compile(rb"<(?:\w+:)?mergeCell\s[^>]*?ref=\"([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)\"")
_SCAN_CHUNK = 1 << 20
_XML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


@dataclass(frozen=True)
class SheetHeader:
    """Where the header and data of one sheet are: 1-based rows, ``width`` header columns."""

    name: str
    headers: list[str]
    header_row: int
    data_row: int

    @property
    def width(self) -> int:
        return len(self.headers)


def open_xlsx(path: Path, dataset: Dataset, batch_rows: int) -> RawDelivery:
    sheet = choose_sheet(path, HeaderMatcher(dataset))
    return RawDelivery(
        path=path,
        format="xlsx",
        headers=sheet.headers,
        header_row=sheet.header_row,
        sheet=sheet.name,
        _stream=partial(_stream, path, sheet, batch_rows),
    )


def choose_sheet(path: Path, matcher: HeaderMatcher) -> SheetHeader:
    """The one sheet with the dataset's header and data rows; raises ``DeliveryRejected``."""
    with _workbook(path) as workbook:
        names, found, blank = [], [], []
        for worksheet in workbook.worksheets:
            names.append(worksheet.title)
            worksheet.reset_dimensions()  # some writers record a wrong size; read what is there
            head = [_texts(row) for row in _guarded(islice(worksheet.iter_rows(values_only=True), HEAD_ROWS))]
            blank.append(not any(_filled(row) for row in head))
            location = find_header(head, matcher)
            if location is None:
                continue
            headers = header_cells(head[location.index])
            while headers and not headers[-1]:
                headers.pop()
            first_data = location.index + location.rows
            sheet = SheetHeader(worksheet.title, headers, location.index + 1, first_data + 1)
            found.append((sheet, _has_data(worksheet, sheet, head[first_data:])))

    title = matcher.dataset.title
    if not found:
        if all(blank):
            raise rejections.empty_file()
        if len(names) == 1:
            raise rejections.header_not_found(title, expected_titles(matcher), LOOKAHEAD_ROWS)
        raise rejections.no_matching_sheet(title, names, expected_titles(matcher))
    with_data = [sheet for sheet, has_data in found if has_data]
    if len(with_data) > 1:
        raise rejections.several_matching_sheets(title, [sheet.name for sheet in with_data])
    if not with_data:
        raise rejections.no_data_rows(title)
    return with_data[0]


@contextmanager
def _workbook(path: Path) -> Iterator[Workbook]:
    """The workbook in read-only mode, opened from a handle: openpyxl refuses names not ending in
    .xlsx, and the extension of a delivery means nothing."""
    with path.open("rb") as handle:
        try:
            workbook = load_workbook(handle, read_only=True, data_only=True)
        except _CORRUPT as exc:
            raise rejections.corrupt_file("工作簿") from exc
        try:
            yield workbook
        finally:
            workbook.close()


def _guarded(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """openpyxl's rows, with a broken sheet turned into a rejection of the delivery."""
    try:
        yield from rows
    except _CORRUPT as exc:
        raise rejections.corrupt_file("工作簿") from exc


def _has_data(worksheet: Any, sheet: SheetHeader, peeked: list[list[str | None]]) -> bool:
    if any(_filled(row[: sheet.width]) for row in peeked):
        return True
    rest = worksheet.iter_rows(min_row=sheet.data_row + len(peeked), max_col=sheet.width, values_only=True)
    return any(_filled(_texts(row)) for row in _guarded(rest))


def _texts(row: Iterable[Any]) -> list[str | None]:
    return [
        (value if "_x" not in value else unescape_xml_string(value)) if type(value) is str and value
        else excel_text(value)
        for value in row
    ]  # fmt: skip


def unescape_xml_string(text: str) -> str:
    """A cell text with Excel's ``_xHHHH_`` escapes undone (openpyxl leaves them): Excel writes a
    character XML cannot hold (ESC, NUL, …) that way, and ``_x005F_`` for an underscore that starts
    what would read as one. The characters come back, so conform can reject the cell for them.

    >>> unescape_xml_string("当事人_x001B_销售_x005F_x0000_")
    '当事人\\x1b销售_x0000_'
    """
    return _XML_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text)


def _filled(cells: Iterable[str | None]) -> bool:
    return any(cell is not None and cell.strip() for cell in cells)


def excel_text(value: Any) -> str | None:
    """A cell value as the text the clerk sees in Excel (empty -> None).

    >>> [excel_text(v) for v in (12.0, 0.30000000000000004, 9.14502e17, 450203000012345.0, 46303)]
    ['12', '0.3', '9.14502E+17', '450203000012345', '46303']
    >>> excel_text(dt.datetime(2026, 10, 8)), excel_text(dt.datetime(2026, 10, 8, 9, 30)), excel_text(1.5e-7)
    ('2026-10-08', '2026-10-08 09:30:00', '0.00000015')
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _excel_number(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _excel_number(value: float) -> str:
    if value.is_integer():
        # Beyond 15 digits Excel has rounded the number and shows it in its General format.
        return str(int(value)) if abs(value) < EXACT_DIGITS_LIMIT else format(value, ".6G")
    text = format(value, ".15G")  # Excel's precision: drops binary noise like 0.30000000000000004
    return format(Decimal(text), "f") if "E" in text else text


def _stream(path: Path, sheet: SheetHeader, batch_rows: int, bad_rows: BadRows) -> Iterator[pa.RecordBatch]:
    merges = MergeFiller(merged_ranges(path, sheet.name), sheet.data_row)
    with _workbook(path) as workbook:
        worksheet = workbook[sheet.name]
        worksheet.reset_dimensions()
        rows = worksheet.iter_rows(min_row=sheet.data_row, max_col=sheet.width, values_only=True)
        records: list[list[str | None]] = []
        numbers: list[int] = []
        for number, row in enumerate(_guarded(rows), start=sheet.data_row):
            cells = _texts(row)
            merges.fill(number, cells)
            if _filled(cells):  # a row of blanks is as empty to the clerk as a row of nothing
                records.append(cells)
                numbers.append(number)
            if len(records) == batch_rows:
                yield _batch(records, numbers, sheet.width)
                records, numbers = [], []
        if records:
            yield _batch(records, numbers, sheet.width)


def _batch(records: list[list[str | None]], numbers: list[int], width: int) -> pa.RecordBatch:
    columns = [pa.array(column, pa.string()) for column in zip(*records, strict=True)]
    columns += [pa.nulls(len(records), pa.string())] * (width - len(columns))
    return make_batch(columns, pa.array(numbers, pa.int64()))


class MergeFiller:
    """Copies the top-left value of each merged range that starts at or below ``data_row`` into
    every cell of the range, row by row as the rows stream past."""

    def __init__(self, refs: Iterable[str], data_row: int) -> None:
        self._starting: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        for ref in refs:
            min_col, min_row, max_col, max_row = range_boundaries(ref)
            if min_row >= data_row:
                self._starting[min_row].append((min_col - 1, max_col, max_row))
        self._active: list[tuple[int, int, int, str | None]] = []

    def fill(self, number: int, cells: list[str | None]) -> None:
        for first, last, max_row in self._starting.pop(number, ()):
            value = cells[first] if first < len(cells) else None
            self._active.append((first, last, max_row, value))
        if not self._active:
            return
        for first, last, _, value in self._active:
            for column in range(first, min(last, len(cells))):
                cells[column] = value
        self._active = [span for span in self._active if span[2] > number]


def merged_ranges(path: Path, sheet_name: str) -> list[str]:
    """The ``ref`` of every merged range of a sheet (``A1:D1``, …), scanning its XML in chunks."""
    refs: dict[str, None] = {}
    try:
        with zipfile.ZipFile(path) as archive, archive.open(sheet_paths(archive)[sheet_name]) as stream:
            tail = b""
            while chunk := stream.read(_SCAN_CHUNK):
                data = tail + chunk
                if b"mergeCell" in data:
                    refs.update(dict.fromkeys(m[1].decode("ascii") for m in _MERGE_REF.finditer(data)))
                tail = data[-256:]
    except _CORRUPT as exc:
        raise rejections.corrupt_file("工作簿") from exc
    return list(refs)


def sheet_paths(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> path of its XML inside the package, from the workbook's relationships."""
    root_rels = ET.fromstring(archive.read("_rels/.rels"))
    workbook_path = next(
        rel.get("Target", "").lstrip("/")
        for rel in root_rels
        if rel.get("Type", "").endswith("/officeDocument")
    )
    folder = PurePosixPath(workbook_path).parent
    rels_path = folder / "_rels" / f"{PurePosixPath(workbook_path).name}.rels"
    targets = {rel.get("Id"): rel.get("Target", "") for rel in ET.fromstring(archive.read(str(rels_path)))}
    paths = {}
    for element in ET.fromstring(archive.read(workbook_path)).iter():
        if element.tag.endswith("}sheet"):
            rel_id = next(v for k, v in element.attrib.items() if k.endswith("}id"))
            target = targets[rel_id]
            absolute = target.startswith("/")  # relative to the package root, not the workbook
            paths[element.get("name", "")] = target.lstrip("/") if absolute else str(folder / target)
    return paths
