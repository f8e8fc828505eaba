"""The report as an XLSX workbook: one sheet per section, the same tables as the page.

Numbers stay numbers (rates with a percentage format) so staff can sort and sum; every text cell
goes through ``etl.feedback.neutralise`` and is typed as a string, so no value that came from a
delivery can become a formula.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from etl.feedback import neutralise
from etl.report.tables import INT, RATE, SCORE, Section, kind_of

# Sheet names: at most 31 characters, none of []:*?/\ (the section titles respect both).
_FORMATS = {RATE: "0.0%", SCORE: "0.0", INT: "#,##0"}


def workbook_bytes(tables: list[Section], *, title: str, created: dt.datetime) -> bytes:
    """The workbook of ``tables``; ``created`` dates it (the report's generation time)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    workbook.properties.creator = "credit-etl"
    workbook.properties.title = title
    workbook.properties.created = workbook.properties.modified = created.replace(tzinfo=None)
    bold = Font(bold=True)

    def cell(sheet: Any, value: Any, kind: str, font: Font | None = None) -> Any:
        if value is None or kind not in _FORMATS or isinstance(value, str):
            written = WriteOnlyCell(sheet, value=neutralise(None if value is None else str(value)))
            written.data_type = "s"  # never a formula, whatever the text
        else:
            written = WriteOnlyCell(sheet, value=value)
            written.number_format = _FORMATS[kind]
        if font is not None:
            written.font = font
        return written

    for section in tables:
        sheet = workbook.create_sheet(section.title[:31])
        sheet.append([cell(sheet, title, "text", bold)])
        sheet.append([cell(sheet, c.title, "text", bold) for c in section.columns])
        for row in section.rows:
            sheet.append([cell(sheet, row.get(c.key), kind_of(row, c)) for c in section.columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
