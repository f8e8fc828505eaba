"""The corpus of hostile deliveries: what each one is and what the platform must make of it.

One ``Case`` per builder in ``build_corpus`` (same name). ``outcome`` is the ledger status. A regular
file whose name is unsafe or too long is a delivery: kept, rejected whole unread
(``UNSAFE_FILE_NAME``/``NAME_TOO_LONG``), with a ledger row and feedback files like any other. So is an
entry of the landing zone that is not a plain file of its own (a symbolic or hard link, a directory, a
FIFO): it is moved aside unread, what was found is kept — a link's target text, or a JSON description
of the entry, never its content — and it is rejected whole (``LINK_REFUSED``, ``HARD_LINK_REFUSED``,
``DIRECTORY_REFUSED``, ``SPECIAL_FILE_REFUSED``) with a ledger row, feedback files and, as before, a
note in ``outbox/``.
``reason`` is the ledger's ``error_reason`` for a delivery rejected whole, or the quarantine rule of the
rejected rows otherwise (a delivery none of whose rows passed has ``ALL_ROWS_REJECTED`` in the
ledger); ``phrase`` must appear in the Chinese message the clerk gets (ledger message and feedback
file, or quarantine reason).

``python tests/corpus/corpus_cases.py`` prints the README table (a test checks that it matches).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    outcome: str
    reason: str | None
    phrase: str
    loaded: int = 0
    rejected: int = 0
    # Handed to process_drop under this name instead of being picked up from the landing zone: a name
    # no Linux directory can hold, as a department's system may report it.
    file_name: str | None = None
    slow: bool = False

    @property
    def reaches_load(self) -> bool:
        """Whether rows reach the warehouse load (what the PostgreSQL run covers)."""
        return self.loaded + self.rejected > 0


REJECTED, LOADED, PARTLY = "rejected", "loaded", "loaded_with_rejections"

CASES: tuple[Case, ...] = (
    # Empty and header only
    Case("empty_file", "0-byte file", REJECTED, "EMPTY_FILE", "文件是空的"),
    Case("blank_lines_only", "only blank lines and whitespace", REJECTED, "EMPTY_FILE", "文件是空的"),
    Case("bom_only", "only a UTF-8 byte order mark", REJECTED, "EMPTY_FILE", "文件是空的"),
    Case("header_only_csv", "CSV with the header and no data row", REJECTED, "NO_DATA_ROWS", "只有表头"),
    Case("header_only_xlsx", "workbook with the header and no data row", REJECTED, "NO_DATA_ROWS",
         "只有表头"),
    # Headers
    Case("header_below_lookahead", "25 title lines above the header", REJECTED, "HEADER_NOT_FOUND",
         "没有找到《行政处罚信息》的表头"),
    Case("other_dataset_header", "another dataset's file (执业医师)", REJECTED, "HEADER_NOT_FOUND",
         "请确认报送的数据集正确"),
    Case("missing_required_column", "required column 处罚机关 missing", REJECTED, "MISSING_COLUMNS",
         "缺少必填列：处罚机关"),
    Case("duplicate_header_names", "处罚决定日期 twice", REJECTED, "DUPLICATE_COLUMNS", "重复出现"),
    Case("duplicate_unknown_headers", "two extra columns both named 备用", LOADED, None, "", loaded=6),
    Case("national_codes_headers", "national column codes (CF_WSH …) instead of Chinese headers", LOADED,
         None, "", loaded=6),
    Case("title_and_code_rows", "title row, Chinese header, then a row of national codes", LOADED, None,
         "", loaded=6),
    Case("thousands_of_columns", "5,031 columns (5,000 unknown ones)", LOADED, None, "", loaded=6),
    # Encodings
    Case("bom_says_utf8_body_gbk", "UTF-8 BOM declared, GBK body", REJECTED, "UNDECODABLE", "字符编码"),
    Case("name_says_utf8_content_gbk", "named …_UTF-8.csv, content GBK", LOADED, None, "", loaded=6),
    Case("utf16_unicode_text", "Excel \"Unicode text\": UTF-16 LE, tab separated, .txt", LOADED, None, "",
         loaded=6),
    Case("mixed_encodings", "UTF-8 rows followed by GBK rows", REJECTED, "UNDECODABLE", "混用了多种编码"),
    Case("mixed_encodings_gbk_first", "GBK rows followed by UTF-8 rows", REJECTED, "UNDECODABLE",
         "混用了多种编码"),
    Case("gbk_cut_at_end", "GBK file ending in half a character", REJECTED, "UNDECODABLE", "无法解码"),
    Case("utf8_cut_at_end", "UTF-8 file ending in a cut multi-byte character", REJECTED, "UNDECODABLE",
         "无法解码"),
    # CSV structure and cells
    Case("ragged_rows", "a row with a cell too many, one with three too few", PARTLY, "RAGGED_ROW",
         "而表头有31列", loaded=4, rejected=2),
    Case("unterminated_quote", "a quote opened in row 4 and never closed", PARTLY, "RAGGED_ROW",
         "从该行起共4行文字都被读成了这一行的内容", loaded=2, rejected=1),
    Case("cr_only_line_endings", "old Mac line endings (CR only)", LOADED, None, "", loaded=6),
    Case("semicolon_delimited", "semicolon-separated", REJECTED, "HEADER_NOT_FOUND", "表头"),
    Case("nul_byte_in_cell", "a NUL byte inside a cell (past the first 4 KB)", PARTLY, "CONTROL_CHARACTERS",
         "不可见的控制字符", loaded=11, rejected=1),
    Case("nul_bytes_at_start", "NUL bytes in the first row", REJECTED, "UNSUPPORTED_FORMAT", "二进制文件"),
    Case("control_characters_in_cells", "ESC, BEL and VT inside a cell", PARTLY, "CONTROL_CHARACTERS",
         "不可见的控制字符", loaded=5, rejected=1),
    Case("field_50mb", "one 50 MB cell (generated at test time)", REJECTED, "RECORD_TOO_LARGE",
         "超过 1 MB"),
    Case("cell_40000_characters", "a 40,000-character cell (more than an Excel cell holds)", PARTLY,
         "max_length", "超过了5000个字的上限", loaded=5, rejected=1),
    Case("formula_injection_cells", "cells starting with = + - @ (4 rejected, 1 loaded remark)", PARTLY,
         "NOT_A_DATE", "不是有效日期", loaded=2, rejected=4),
    Case("formula_file_name", "file named =HYPERLINK(1)+cmd.csv", PARTLY, "NOT_A_DATE", "不是有效日期",
         loaded=5, rejected=1),
    Case("concatenated_exports", "two exports pasted together: the second header is a data row", PARTLY,
         "NOT_A_NUMBER", "不是有效数字", loaded=6, rejected=1),
    Case("utf16_bom_body_utf8", "UTF-16 BOM declared, UTF-8 body", REJECTED, "UNDECODABLE", "字符编码"),
    Case("all_rows_invalid", "every row has an impossible date (ledger: ALL_ROWS_REJECTED)", REJECTED,
         "NOT_A_DATE", "不是有效日期", rejected=6),
    # Workbooks and extensions that lie
    Case("xlsx_formula_cells", "workbook with a formula cell (no cached value) and a text cell +1+cmd|…",
         PARTLY, "NOT_A_NUMBER", "不是有效数字", loaded=4, rejected=2),
    Case("xlsx_escaped_control_character", "a cell holding ESC and NUL as Excel escapes them (_x001B_)",
         PARTLY, "CONTROL_CHARACTERS", "不可见的控制字符", loaded=5, rejected=1),
    Case("xlsx_named_csv", "a workbook named .csv", LOADED, None, "", loaded=6),
    Case("csv_named_xlsx", "a GBK CSV named .xlsx", LOADED, None, "", loaded=6),
    Case("macro_workbook_renamed", "macro workbook (vbaProject.bin) renamed .xlsx", REJECTED,
         "MACRO_WORKBOOK", "带宏的工作簿"),
    Case("encrypted_workbook", "password-protected workbook (OLE EncryptedPackage)", REJECTED,
         "ENCRYPTED_WORKBOOK", "打开密码"),
    Case("old_xls", "Excel 97-2003 .xls (OLE)", REJECTED, "OLD_XLS", "旧版 Excel"),
    Case("truncated_xlsx", "workbook cut in half", REJECTED, "CORRUPT_FILE", "已损坏或不完整"),
    Case("several_matching_sheets", "two sheets both holding 行政处罚 rows", REJECTED,
         "SEVERAL_MATCHING_SHEETS", "多个工作表"),
    Case("xlsx_declares_huge_sheet", "sheet declaring dimension A1:XFD1048576", LOADED, None, "", loaded=6),
    Case("xlsx_cell_far_away", "a stray cell at XFD1048576 below the data", LOADED, None, "", loaded=6,
         slow=True),
    Case("xlsx_zip_bomb", "0.3 MB workbook inflating to 256 MiB (one cell)", REJECTED,
         "WORKBOOK_TOO_LARGE", "压缩炸弹"),
    Case("xlsx_billion_laughs", "sheet XML with nested entities (billion laughs)", REJECTED, "CORRUPT_FILE",
         "已损坏或不完整"),
    Case("pdf_named_csv", "a PDF named .csv", REJECTED, "UNSUPPORTED_FORMAT", "PDF 文件"),
    Case("zip_of_csv_named_xlsx", "a zip holding a CSV, named .xlsx", REJECTED, "UNSUPPORTED_FORMAT",
         "压缩包"),
    Case("docx_named_xlsx", "a Word document named .xlsx", REJECTED, "UNSUPPORTED_FORMAT", "Word 文档"),
    Case("gzip_named_csv", "a gzip file named .csv", REJECTED, "UNSUPPORTED_FORMAT", "gzip 压缩包"),
    Case("parquet_garbage", "PAR1 magic around garbage", REJECTED, "CORRUPT_FILE", "Parquet 文件已损坏"),
    # JSON
    Case("json_wrapped_in_object", "API envelope {\"code\":0,\"data\":{\"rows\":[…]}}", REJECTED,
         "NESTED_JSON", "嵌套的对象或数组"),
    Case("json_nested_values", "an object as the value of 行政相对人名称", REJECTED, "NESTED_JSON",
         "「行政相对人名称」的值是嵌套的对象或数组"),
    Case("json_deeply_nested", "100,000 nested arrays", REJECTED, "INVALID_JSON", "嵌套层数过深"),
    Case("json_field_50mb", "one 50 MB value in a JSON record (generated at test time)", REJECTED,
         "RECORD_TOO_LARGE", "第3条记录超过 16 M 个字符"),
    Case("json_empty_array", "an empty JSON array", REJECTED, "NO_DATA_ROWS", "JSON 文件中没有任何记录"),
    Case("json_nul_escape", "a \\u0000 escape inside a JSON string", PARTLY, "CONTROL_CHARACTERS",
         "不可见的控制字符", loaded=5, rejected=1),
    Case("json_formula_cells", "JSON values starting with = and @", PARTLY, "NOT_A_DATE", "不是有效日期",
         loaded=5, rejected=1),
    Case("not_json", "starts like JSON, unquoted keys", REJECTED, "INVALID_JSON", "JSON 格式错误"),
    Case("json_array_of_arrays", "an array of rows instead of objects", REJECTED, "INVALID_JSON", "不是对象"),
    Case("json_truncated", "JSON array cut off", REJECTED, "INVALID_JSON", "无法解析"),
    # Names and entries in the landing zone
    Case("name_path_traversal", "named ..\\..\\..\\etc\\cron.d\\行政处罚.csv", REJECTED, "UNSAFE_FILE_NAME",
         "含有路径分隔符"),
    Case("name_control_characters", "name with ESC, CR and LF", REJECTED, "UNSAFE_FILE_NAME",
         "含有控制字符或不可见字符"),
    Case("name_bidi_override", "name with a right-to-left override (shows as …xlsx)", REJECTED,
         "UNSAFE_FILE_NAME", "从右向左显示的控制符"),
    Case("name_not_utf8", "a GBK-encoded name (bytes that are not UTF-8)", REJECTED, "UNSAFE_FILE_NAME",
         "编码无法识别"),
    Case("name_255_bytes", "an 85-character Chinese name (254 bytes)", REJECTED, "NAME_TOO_LONG",
         "过长（超过 189 字节）"),
    Case("name_300_characters", "a 254-character name (the longest a Linux name can be)", REJECTED,
         "NAME_TOO_LONG", "请将文件名缩短到 63 个汉字"),
    Case("name_300_characters_from_system", "a 300-character name reported by a department system",
         LOADED, None, "", loaded=6, file_name="行政处罚信息" * 50),
    Case("symlink_outside", "a symbolic link to a file outside the landing zone (kept: its target text)",
         REJECTED, "LINK_REFUSED", "落地目录中的链接不会被跟随"),
    Case("symlink_dangling", "a symbolic link to nowhere (kept: its target text)", REJECTED, "LINK_REFUSED",
         "落地目录中的链接不会被跟随"),
    Case("hardlink", "a hard link to a file outside the zone (kept: a description, not the content)",
         REJECTED, "HARD_LINK_REFUSED", "是硬链接"),
    Case("directory", "a directory named like a CSV (kept: a description)", REJECTED, "DIRECTORY_REFUSED",
         "请勿在落地目录中放置文件夹，请将文件直接放入"),
    Case("fifo", "a named pipe, never opened (kept: a description)", REJECTED, "SPECIAL_FILE_REFUSED",
         "不是普通文件（是管道或设备文件）"),
)

BY_NAME = {case.name: case for case in CASES}


def readme_table() -> str:
    """The Markdown table of the README's corpus section."""
    lines = ["| case | delivered | outcome | reason | message contains |", "|---|---|---|---|---|"]
    for case in CASES:
        outcome = case.outcome
        if case.outcome in (LOADED, PARTLY) or case.rejected:
            outcome += f" ({case.loaded} loaded, {case.rejected} rejected)"
        what = case.what.replace("|", "\\|")
        lines.append(f"| `{case.name}` | {what} | {outcome} | {case.reason or ''} | {case.phrase} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(readme_table(), end="")
