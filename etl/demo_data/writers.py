"""Files as departments send them: CSV (UTF-8, UTF-8 with BOM, GBK), XLSX, JSON, Parquet; JSON
lines for database tables; and the answer keys.

Every writer is deterministic: the same cells give the same bytes (XLSX carries fixed document
properties and zip timestamps).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from etl.demo_data.settings import FIXED_TIMESTAMP

ANSWER_KEY_COLUMNS = ("row", "field", "defect", "expected", "original", "injected", "note")


def _lists(columns: Sequence[np.ndarray]) -> list[list[Any]]:
    return [c.tolist() if isinstance(c, np.ndarray) else list(c) for c in columns]


CSV_CHUNK_ROWS = 100_000
_NEEDS_QUOTES = (",", '"', "\r", "\n")


def write_csv(path: Path, headers: Sequence[str], columns: Sequence[np.ndarray], encoding: str) -> None:
    """A CSV with a header line and CRLF line ends, as Excel and most department systems export.

    Quoting is the csv module's QUOTE_MINIMAL, applied per column only where a column holds a value
    that needs it; the lines are joined in C, which writes a million rows in seconds.
    """
    cells = [_quoted(column) for column in _lists(columns)]
    with path.open("w", encoding=encoding, newline="") as handle:
        handle.write(",".join(_quoted(list(headers))) + "\r\n")
        for start in range(0, len(cells[0]) if cells else 0, CSV_CHUNK_ROWS):
            block = (c[start : start + CSV_CHUNK_ROWS] for c in cells)
            handle.write("\r\n".join(map(",".join, zip(*block, strict=True))) + "\r\n")


def _quoted(values: list[Any]) -> list[str]:
    """Values as CSV fields: quoted (with doubled quotes) where a delimiter, quote or line break occurs."""
    try:
        texts, joined = values, "\x00".join(values)
    except TypeError:  # a non-text cell: convert the column once
        texts = [v if isinstance(v, str) else str(v) for v in values]
        joined = "\x00".join(texts)
    if not any(mark in joined for mark in _NEEDS_QUOTES):
        return texts
    return [
        '"' + t.replace('"', '""') + '"' if any(mark in t for mark in _NEEDS_QUOTES) else t for t in texts
    ]


def write_json(path: Path, headers: Sequence[str], columns: Sequence[np.ndarray]) -> None:
    """An array of objects keyed by the department's headers; empty cells are null."""
    rows = zip(*_lists(columns), strict=True)
    records = [{h: (v if v != "" else None) for h, v in zip(headers, row, strict=True)} for row in rows]
    with path.open("w", encoding="utf-8") as handle:
        json.dump(records, handle, ensure_ascii=False, indent=1)
        handle.write("\n")


def write_jsonl(path: Path, names: Sequence[str], columns: Sequence[np.ndarray]) -> None:
    """One JSON object per line, columns by canonical name: a database table's rows."""
    with path.open("w", encoding="utf-8") as handle:
        for row in zip(*_lists(columns), strict=True):
            record = {k: (v if v != "" else None) for k, v in zip(names, row, strict=True)}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def write_parquet(path: Path, headers: Sequence[str], columns: Sequence[np.ndarray]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = [pa.array([v if v != "" else None for v in c], type=pa.string()) for c in _lists(columns)]
    pq.write_table(pa.table(arrays, names=list(headers)), path)


def write_xlsx(
    path: Path, title: str, headers: Sequence[str], columns: Sequence[np.ndarray], sheet_name: str
) -> None:
    """A workbook with a merged title row above the header, as departments' templates have."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_name[:31]
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(len(headers), 1))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append(list(headers))
    for row in zip(*_lists(columns), strict=True):
        sheet.append([None if v == "" else v for v in row])
    for index, header in enumerate(headers, 1):
        sheet.column_dimensions[get_column_letter(index)].width = min(40, max(10, 2 * len(header)))
        for (cell,) in sheet.iter_rows(min_row=3, min_col=index, max_col=index):
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    workbook.properties.creator = "credit-etl demo-data"
    workbook.properties.created = FIXED_TIMESTAMP
    workbook.properties.modified = FIXED_TIMESTAMP
    path.write_bytes(_deterministic_xlsx(workbook))


def _deterministic_xlsx(workbook: Any) -> bytes:
    """Saves without openpyxl stamping the current time into the properties and zip entries."""
    from openpyxl.writer.excel import ExcelWriter

    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(workbook, archive).save()
    fixed = io.BytesIO()
    stamp = FIXED_TIMESTAMP.timetuple()[:6]
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            target.writestr(info, source.read(item.filename))
    return fixed.getvalue()


def write_answer_key(path: Path, rows: Sequence[Sequence[Any]]) -> None:
    """The answer key: one line per defective row (see ``etl.demo_data.defects``)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(ANSWER_KEY_COLUMNS)
        writer.writerows(rows)
