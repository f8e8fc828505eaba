"""Feedback files for the department clerk: which rows were not loaded, why, and how to fix them.

Each processed delivery gets one workbook (XLSX) and one CSV (UTF-8 with BOM, so Excel opens it
correctly) under ``feedback/<department>/<dataset>/`` in the storage root, and a copy goes back to
the department's landing-zone outbox. Everything a clerk reads is Chinese; row numbers are as the
clerk sees them in the delivered file.

Cells that start with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) are written with a
leading apostrophe, so a hostile value from a delivery can never become a formula in a spreadsheet;
control characters (NUL, ESC, …), which an XLSX cell cannot hold and a clerk cannot see, are written
out as ``\\xNN``; a value longer than an Excel cell holds is cut to its start, with a note.

>>> neutralise("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
>>> neutralise("-0.5"), neutralise("正常文本")
("'-0.5", '正常文本')
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from etl.storage import Storage

if TYPE_CHECKING:
    import pyarrow as pa

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Excel's limit for the text of one cell; a longer value (a 50 MB cell in a delivery) is cut, with a note.
MAX_CELL_CHARS = 32_767
# C0 controls other than tab, line feed and carriage return, and DEL. Delivered cells holding them are
# rejected (``etl.conform``); in anything written for a person they are shown as ``\xNN``.
CONTROL_PATTERN = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_CONTROL = re.compile(CONTROL_PATTERN)

# A file name holds 255 bytes; ".xlsx.part" is added while writing.
MAX_NAME_BYTES = 255 - len(".xlsx.part")

HEADER = ("行号", "列名", "原值", "问题", "修改建议", "处理结果")

# Advice by the family of a rule; the rule's own message says what is wrong.
ADVICE_BY_RULE_PREFIX: tuple[tuple[str, str], ...] = (
    ("USCC", "请对照营业执照或登记证书核对统一社会信用代码后重新报送"),
    ("ORGCODE", "请对照组织机构代码证核对后重新报送"),
    ("REGNO", "请对照营业执照核对 15 位工商注册号后重新报送"),
    ("IDCARD", "请对照居民身份证核对证件号码后重新报送"),
    ("SCIENTIFIC_NOTATION", "请将该列设置为文本格式后重新录入代码，不要使用科学计数法"),
    ("REQUIRED", "请补充该项后重新报送该行"),
    ("DUPLICATE", "请删除重复行，或核对决定书文号是否填写有误"),
    ("NOT_A_DATE", "请按 2026-10-08 格式填写日期"),
    ("NOT_A_NUMBER", "请填写阿拉伯数字，金额以万元为单位，例如 0.2"),
    ("ALLOWED", "请从允许值中选择填写"),
    ("MAX_LENGTH", "请精简内容，不超过规定长度"),
    ("ONE_OF", "请至少填写一项主体代码"),
    ("COMPARE", "请核对两个日期的先后顺序"),
    ("RAGGED_ROW", "请检查该行是否多出或缺少分隔符（逗号），或含有未成对的引号"),
    ("CONTROL_CHARACTERS", "请删除单元格中的不可见控制字符后重新报送该行"),
    ("UNSAFE_FILE_NAME", "请按问题说明将文件改名后重新报送整个文件"),
    ("NAME_TOO_LONG", "请缩短文件名后重新报送整个文件"),
)
DEFAULT_ADVICE = "请按问题说明修改后重新报送该行"
NORMALISED_ADVICE = "已自动更正，无需重新报送；请在源系统中一并更正"


def neutralise(value: str | None) -> str:
    """Makes a cell value safe to open in a spreadsheet (no formula can start, no control character).

    >>> neutralise("@SUM(1)\\x00")
    "'@SUM(1)\\\\x00"
    """
    if value is None:
        return ""
    if len(value) > MAX_CELL_CHARS:
        value = shorten(value)
    if _CONTROL.search(value):
        value = show_controls(value)
    return f"'{value}" if value.startswith(FORMULA_TRIGGERS) else value


def neutralise_column(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``neutralise`` over an Arrow string column, nulls left null: one vectorised pass finds the cells
    it would change, and only those go through it (a million clean codes cost next to nothing).

    >>> import pyarrow as pa
    >>> neutralise_column(pa.array(["=1+1", "91350100M000100Y43", None, "a\\x1bb"])).to_pylist()
    ["'=1+1", '91350100M000100Y43', None, 'a\\\\x1bb']
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    starts = "".join(f"\\x{ord(ch):02x}" for ch in FORMULA_TRIGGERS)
    changed = pc.fill_null(pc.or_(
        pc.match_substring_regex(values, f"^[{starts}]|{CONTROL_PATTERN}"),
        pc.greater(pc.utf8_length(values), MAX_CELL_CHARS),
    ), False)  # fmt: skip
    if not pc.any(changed).as_py():
        return values
    fixed = pa.array([neutralise(v) for v in values.filter(changed).to_pylist()], pa.string())
    return pc.replace_with_mask(values, changed, fixed)


def shorten(value: str) -> str:
    """The start of a value too long for a spreadsheet cell, saying how long it was.

    >>> text = shorten("长" * 40_000)
    >>> len(text), text[-21:]
    (32767, '长…（原文共40000字，以上为开头部分）')
    """
    note = f"…（原文共{len(value)}字，以上为开头部分）"
    return value[: MAX_CELL_CHARS - len(note)] + note


def show_controls(text: str) -> str:
    """``text`` with each control character written out as ``\\xNN``.

    >>> show_controls("a\\x00b\\x1b")
    'a\\\\x00b\\\\x1b'
    """
    return _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", text)


def advice_for(rule: str) -> str:
    """The 修改建议 for a rule id.

    >>> advice_for("USCC_BAD_CHECK")
    '请对照营业执照或登记证书核对统一社会信用代码后重新报送'
    """
    upper = rule.upper()
    for prefix, advice in ADVICE_BY_RULE_PREFIX:
        if upper.startswith(prefix) or f"_{prefix}" in upper:
            return advice
    return DEFAULT_ADVICE


@dataclass(frozen=True)
class FeedbackItem:
    """One problem on one row (or on the whole file, ``row`` None)."""

    row: int | None
    column: str
    value: str | None
    problem: str
    rule: str
    rejected: bool = True


@dataclass(frozen=True)
class FeedbackSummary:
    department_name: str
    dataset_title: str
    file_name: str
    received_at: dt.datetime
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    status_text: str


@dataclass(frozen=True)
class FeedbackFiles:
    xlsx_key: str
    csv_key: str


def items_from_reasons(
    rows: Iterable[Mapping[str, object]], titles: Mapping[str, str], rejected: bool = True
) -> list[FeedbackItem]:
    """Reason records (row, field, rule, value, message) → items with Chinese column titles."""
    return [
        FeedbackItem(
            row=int(r["row"]) if r.get("row") is not None else None,  # type: ignore[arg-type]
            column=titles.get(str(r.get("field") or ""), str(r.get("field") or "整个文件")),
            value=None if r.get("value") is None else str(r["value"]),
            problem=str(r["message"]),
            rule=str(r["rule"]),
            rejected=rejected,
        )
        for r in rows
    ]


def item_order(item: FeedbackItem) -> tuple[bool, int, bool, str]:
    """The order of the clerk's list: whole-file problems first, then by row, rejections before
    corrections, then by column."""
    return (item.row is not None, item.row or 0, not item.rejected, item.column)


def _table_rows(items: Iterable[FeedbackItem]) -> Iterable[tuple[str, ...]]:
    for item in items:
        yield (
            "整个文件" if item.row is None else str(item.row),
            neutralise(item.column),
            neutralise(item.value),
            neutralise(item.problem),
            advice_for(item.rule) if item.rejected else NORMALISED_ADVICE,
            "该行未入库" if item.rejected else "已自动更正并入库",
        )


def _summary_rows(summary: FeedbackSummary) -> list[tuple[str, str]]:
    return [
        ("报送单位", summary.department_name),
        ("数据集", summary.dataset_title),
        ("文件名", neutralise(summary.file_name)),
        ("接收时间", summary.received_at.strftime("%Y-%m-%d %H:%M")),
        ("读取行数", str(summary.rows_read)),
        ("入库行数", str(summary.rows_loaded)),
        ("退回行数", str(summary.rows_rejected)),
        ("处理结果", summary.status_text),
    ]


def fit_name(key: str, kept_end: int = 16) -> str:
    """``key`` with its last component shortened in the middle to fit one file name (255 bytes, with
    room for the extension and the ``.part`` of a write in progress); its last ``kept_end``
    characters (``.<sha256>.反馈``) are kept. Delivered file names can be that long.

    >>> name = fit_name("feedback/a/" + "长" * 100 + ".1a2b3c4d.反馈")
    >>> len(name.rpartition("/")[2].encode()), name.endswith("长…长长长长.1a2b3c4d.反馈")
    (244, True)
    """
    folder, sep, name = key.rpartition("/")
    if len(name.encode()) <= MAX_NAME_BYTES:
        return key
    head, end = name[:-kept_end], name[-kept_end:]
    while len(f"{head}…{end}".encode()) > MAX_NAME_BYTES:
        head = head[:-1]
    return f"{folder}{sep}{head}…{end}"


def write_feedback(
    storage: Storage,
    key_prefix: str,
    summary: FeedbackSummary,
    items: Collection[FeedbackItem],
    *,
    ordered: bool = False,
) -> FeedbackFiles:
    """Writes ``<prefix>.xlsx`` and ``<prefix>.csv``; returns their storage keys.

    ``ordered``: ``items`` are already in ``item_order`` — a collection that may stream them from
    disk (a large delivery's problems need not fit in memory). It is read once, for both files."""
    if not ordered:
        items = sorted(items, key=item_order)
    files = feedback_files(key_prefix)
    csv_text = io.StringIO()
    csv_rows = csv.writer(csv_text, lineterminator="\r\n")
    csv_rows.writerow(HEADER)

    def sheet_rows() -> Iterator[str]:
        for number, row in enumerate(_table_rows(items), start=3):
            csv_rows.writerow(row)
            yield _row_xml(number, row)

    with storage.open_write(files.xlsx_key) as out:
        out.write(_xlsx_bytes(summary, sheet_rows() if items else None))
    if not items:
        csv_rows.writerow(("", "", "", f"本次报送全部通过校验：{summary.status_text}", "", ""))
    with storage.open_write(files.csv_key) as out:
        out.write(csv_text.getvalue().encode("utf-8-sig"))
    return files


def feedback_files(key_prefix: str) -> FeedbackFiles:
    """The keys ``write_feedback`` writes for ``key_prefix`` (known before they are written: the
    ledger row that names them is committed while they are being written)."""
    key_prefix = fit_name(key_prefix)
    return FeedbackFiles(xlsx_key=f"{key_prefix}.xlsx", csv_key=f"{key_prefix}.csv")


def _xlsx_bytes(summary: FeedbackSummary, rows: Iterator[str] | None) -> bytes:
    """The workbook: its problems sheet gets ``rows`` (``_row_xml``), or says that all passed."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    workbook.properties.creator = "credit-etl"
    # The workbook is dated by the delivery it answers, not by when it was written.
    workbook.properties.created = workbook.properties.modified = summary.received_at.replace(tzinfo=None)
    bold = Font(bold=True)

    def text_cells(sheet, values: Iterable[str], font: Font | None = None) -> list:  # type: ignore[no-untyped-def]
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"  # never a formula, whatever the text
            if font is not None:
                cell.font = font
            cells.append(cell)
        return cells

    problems = workbook.create_sheet("问题清单")
    title = show_controls(f"{summary.dataset_title}报送反馈：{summary.file_name}")
    problems.append(text_cells(problems, [title], bold))
    problems.append(text_cells(problems, HEADER, bold))
    if rows is None:
        problems.append(text_cells(problems, ["", "", "", "本次报送全部通过校验"]))

    overview = workbook.create_sheet("报送概况")
    for label, value in _summary_rows(summary):
        overview.append(text_cells(overview, [label, value]))

    buffer = io.BytesIO()
    workbook.save(buffer)
    if rows is None:
        return buffer.getvalue()
    # The data rows go into the saved sheet as the XML openpyxl writes for text cells, made here:
    # openpyxl builds an object and an element per cell, about 6 s for 50,000 rows, this 0.3 s.
    return _insert_rows(buffer.getvalue(), PROBLEMS_SHEET_XML, rows)


PROBLEMS_SHEET_XML = "xl/worksheets/sheet1.xml"  # openpyxl numbers sheets in order of creation
_COLUMN_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _row_xml(number: int, values: Iterable[str]) -> str:
    """One sheet row of inline text cells (``t="inlineStr"``), never a formula.

    Safe: every text that came from the delivery is neutralised by ``_table_rows`` (no formula
    trigger, no control character); XML's special characters are escaped here.

    >>> _row_xml(3, ["12", "", " <a&b> "])
    '<row r="3"><c r="A3" t="inlineStr"><is><t>12</t></is></c><c r="B3" t="inlineStr" /><c r="C3" \
t="inlineStr"><is><t xml:space="preserve"> &lt;a&amp;b&gt; </t></is></c></row>'
    """
    cells = []
    for letter, value in zip(_COLUMN_LETTERS, values, strict=False):
        ref = f"{letter}{number}"
        if not value:
            cells.append(f'<c r="{ref}" t="inlineStr" />')
            continue
        space = ' xml:space="preserve"' if value != value.strip() else ""
        text = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
        cells.append(f'<c r="{ref}" t="inlineStr"><is><t{space}>{text}</t></is></c>')
    return f'<row r="{number}">{"".join(cells)}</row>'


def _insert_rows(xlsx: bytes, member: str, rows: Iterable[str]) -> bytes:
    """The workbook ``xlsx`` with ``rows`` (sheet XML) appended to the sheet data of ``member``.

    The rows are compressed as they come, so the sheet's XML is never held whole in memory."""
    import itertools
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename != member:
                target.writestr(info, data)  # the member's own name, date and compression
                continue
            head, tail = data.decode("utf-8").rsplit("</sheetData>", 1)
            with target.open(info, "w", force_zip64=True) as sheet:
                sheet.write(head.encode("utf-8"))
                rows = iter(rows)
                while chunk := "".join(itertools.islice(rows, 1000)):
                    sheet.write(chunk.encode("utf-8"))
                sheet.write(f"</sheetData>{tail}".encode())
    return out.getvalue()
