"""Builds the hostile deliveries of the corpus, deterministically, into a landing zone's ``incoming/``.

Every delivery is derived from ``base_penalty.csv`` (six valid 行政处罚 records that load cleanly), so
the corpus commits a few KB and the large or binary cases (a 50 MB field, a zip bomb, an encrypted
workbook, links, FIFOs) are made at test time. Each ``build_*`` function writes one entry into the
folder it is given and returns the entry's name there; ``corpus_cases.CASES`` says what each one is
expected to come to.

``python tests/corpus/build_corpus.py OUT`` writes every case into ``OUT/<case>/`` to look at.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import struct
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

BASE = Path(__file__).with_name("base_penalty.csv")
FIELD_50MB = 50 * 1024 * 1024

Builder = Callable[[Path], str]


def base() -> tuple[list[str], list[list[str]]]:
    """The header and the six records of the base delivery."""
    with BASE.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def csv_text(header: list[str], rows: list[list[str]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def column(header: list[str], title: str) -> int:
    return header.index(title)


def write(folder: Path, name: str, data: bytes | str, encoding: str = "utf-8") -> str:
    (folder / name).write_bytes(data.encode(encoding) if isinstance(data, str) else data)
    return name


def xlsx_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def base_xlsx() -> bytes:
    header, rows = base()
    return xlsx_bytes({"行政处罚": [header, *rows]})


def rezip(data: bytes, change: Callable[[str, bytes], bytes | None], extra: dict[str, bytes] | None = None
          ) -> bytes:  # fmt: skip
    """A copy of the zip ``data`` with each member passed through ``change`` (None drops it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = change(info.filename, source.read(info.filename))
            if content is not None:
                target.writestr(info.filename, content)
        for name, content in (extra or {}).items():
            target.writestr(name, content)
    return out.getvalue()


def compound_file(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE compound file (CFB version 3, 512-byte sectors) holding ``streams``.

    Each stream is padded to at least 4096 bytes so that it lives in regular sectors and the file
    needs no mini stream: enough for any CFB reader to list the streams, as in an Office file.
    """
    sector, end, free, fat_mark, nostream = 512, 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    payloads = [(name, data.ljust(4096, b"\0")) for name, data in streams.items()]
    fat = [fat_mark, end]  # sector 0: the FAT itself, sector 1: the directory
    starts = []
    for _, data in payloads:
        count = -(-len(data) // sector)
        first = len(fat)
        starts.append(first)
        fat += [first + i + 1 for i in range(count - 1)] + [end]
    assert len(fat) <= sector // 4
    fat += [free] * (sector // 4 - len(fat))

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return (encoded.ljust(64, b"\0") + struct.pack("<HBB", len(encoded), kind, 1)
                + struct.pack("<III", nostream, right, child) + bytes(16) + bytes(4) + bytes(16)
                + struct.pack("<IQ", start, size))  # fmt: skip

    directory = entry("Root Entry", 5, 1, nostream, end, 0)
    for index, ((name, _), start) in enumerate(zip(payloads, starts, strict=True), start=1):
        right = index + 1 if index < len(payloads) else nostream
        directory += entry(name, 2, nostream, right, start, len(streams[name]))
    directory = directory.ljust(-(-len(directory) // sector) * sector, b"\0")
    assert len(directory) == sector, "the directory fits one sector here"
    header = (bytes.fromhex("D0CF11E0A1B11AE1") + bytes(16)
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
              + struct.pack("<I", 0) + struct.pack("<108I", *[free] * 108))  # fmt: skip
    assert len(header) == sector
    body = b"".join(data.ljust(-(-len(data) // sector) * sector, b"\0") for _, data in payloads)
    return header + struct.pack(f"<{sector // 4}I", *fat) + directory + body


# ---------------------------------------------------------------------------------------------------
# Empty and header-only


def build_empty_file(folder: Path) -> str:
    return write(folder, "行政处罚_空文件.csv", b"")


def build_blank_lines_only(folder: Path) -> str:
    return write(folder, "行政处罚_空行.csv", b"\r\n  \r\n\t\r\n")


def build_bom_only(folder: Path) -> str:
    return write(folder, "行政处罚_仅BOM.csv", codecs.BOM_UTF8)


def build_header_only_csv(folder: Path) -> str:
    header, _ = base()
    return write(folder, "行政处罚_仅表头.csv", csv_text(header, []))


def build_header_only_xlsx(folder: Path) -> str:
    header, _ = base()
    return write(folder, "行政处罚_仅表头.xlsx", xlsx_bytes({"Sheet1": [header]}))


# ---------------------------------------------------------------------------------------------------
# Headers


def build_header_below_lookahead(folder: Path) -> str:
    header, rows = base()
    titles = "".join(f"柳州市行政处罚信息说明第{i}行\r\n" for i in range(1, 26))
    return write(folder, "行政处罚_表头太靠下.csv", titles + csv_text(header, rows))


def build_other_dataset_header(folder: Path) -> str:
    header = ["医师姓名", "执业证书编码", "执业类别", "执业范围", "执业地点"]
    rows = [["张三", "110450200000123", "临床", "内科专业", "柳州市人民医院"]]
    return write(folder, "执业医师.csv", csv_text(header, rows))


def build_missing_required_column(folder: Path) -> str:
    header, rows = base()
    drop = column(header, "处罚机关")
    return write(folder, "行政处罚_缺列.csv",
                 csv_text([h for i, h in enumerate(header) if i != drop],
                          [[c for i, c in enumerate(r) if i != drop] for r in rows]))  # fmt: skip


def build_duplicate_header_names(folder: Path) -> str:
    header, rows = base()
    at = column(header, "处罚决定日期")
    return write(folder, "行政处罚_重复列.csv", csv_text([*header, header[at]], [[*r, r[at]] for r in rows]))


def build_duplicate_unknown_headers(folder: Path) -> str:
    header, rows = base()
    return write(folder, "行政处罚_重复备用列.csv",
                 csv_text([*header, "备用", "备用"], [[*r, "x", "y"] for r in rows]))  # fmt: skip


def _national_codes() -> dict[str, str]:
    from etl.catalog import load_catalog

    dataset = load_catalog().datasets["admin_penalty"]
    return {f.title: f.code for f in dataset.fields if f.code}


def build_national_codes_headers(folder: Path) -> str:
    header, rows = base()
    codes = _national_codes()
    return write(folder, "XZCF_national_codes.csv", csv_text([codes.get(h, h) for h in header], rows))


def build_title_and_code_rows(folder: Path) -> str:
    header, rows = base()
    codes = _national_codes()
    title = "柳州市市场监督管理局行政处罚信息（2026年11月）\r\n"
    text = title + csv_text(header, [[codes.get(h, h) for h in header], *rows])
    return write(folder, "行政处罚_双表头.csv", text)


def build_thousands_of_columns(folder: Path) -> str:
    header, rows = base()
    extra = [f"扩展字段{i}" for i in range(1, 5001)]
    return write(folder, "行政处罚_5000列.csv",
                 csv_text(header + extra, [r + [str(i % 7) for i in range(5000)] for r in rows]))  # fmt: skip


# ---------------------------------------------------------------------------------------------------
# Encodings


def build_bom_says_utf8_body_gbk(folder: Path) -> str:
    header, rows = base()
    return write(folder, "行政处罚_BOM与编码不符.csv", codecs.BOM_UTF8 + csv_text(header, rows).encode("gbk"))


def build_name_says_utf8_content_gbk(folder: Path) -> str:
    header, rows = base()
    return write(folder, "行政处罚_UTF-8.csv", csv_text(header, rows), encoding="gbk")


def build_utf16_unicode_text(folder: Path) -> str:
    header, rows = base()
    data = codecs.BOM_UTF16_LE + csv_text(header, rows, "\t").encode("utf-16-le")
    return write(folder, "行政处罚_Unicode文本.txt", data)


def build_mixed_encodings(folder: Path) -> str:
    header, rows = base()
    head = csv_text(header, rows[:4]).encode("utf-8")
    tail = csv_text(header, rows[4:]).split("\r\n", 1)[1].encode("gbk")
    return write(folder, "行政处罚_混合编码.csv", head + tail)


def build_mixed_encodings_gbk_first(folder: Path) -> str:
    header, rows = base()
    head = csv_text(header, rows[:4]).encode("gbk")
    tail = csv_text(header, rows[4:]).split("\r\n", 1)[1].encode("utf-8")
    return write(folder, "行政处罚_混合编码_GBK在前.csv", head + tail)


def build_gbk_cut_at_end(folder: Path) -> str:
    header, rows = base()
    data = csv_text(header, rows).rstrip("\r\n").encode("gbk")
    return write(folder, "行政处罚_GBK截断.csv", data + "柳".encode("gbk")[:1])


def build_utf8_cut_at_end(folder: Path) -> str:
    header, rows = base()
    data = csv_text(header, rows).rstrip("\r\n").encode("utf-8")
    return write(folder, "行政处罚_UTF8截断.csv", data + "柳".encode()[:2])


# ---------------------------------------------------------------------------------------------------
# CSV structure


def build_ragged_rows(folder: Path) -> str:
    header, rows = base()
    lines = csv_text(header, rows).split("\r\n")
    lines[2] = lines[2] + ",多出的一列"  # record 3: one cell too many
    lines[4] = lines[4].rsplit(",", 3)[0]  # record 5: three cells short
    return write(folder, "行政处罚_列数不齐.csv", "\r\n".join(lines))


def build_unterminated_quote(folder: Path) -> str:
    header, rows = base()
    rows = [list(r) for r in rows]
    text = csv_text(header, rows)
    lines = text.split("\r\n")
    lines[3] = lines[3].replace(",销售", ',"销售', 1)  # a quote opened and never closed
    return write(folder, "行政处罚_引号未闭合.csv", "\r\n".join(lines))


def build_cr_only_line_endings(folder: Path) -> str:
    header, rows = base()
    return write(folder, "行政处罚_旧Mac换行.csv", csv_text(header, rows).replace("\r\n", "\r"))


def build_semicolon_delimited(folder: Path) -> str:
    header, rows = base()
    rows = [[c.replace(";", "、") for c in r] for r in rows]
    return write(folder, "行政处罚_分号分隔.csv", csv_text(header, rows, ";"))


def _with_cell(row: int, title: str, value: str, pad_rows: int = 0) -> tuple[list[str], list[list[str]]]:
    """The base delivery with one cell replaced (``row`` 0-based among the records), after
    ``pad_rows`` copies of the first record under other 文号 (to push the cell past the first KBs)."""
    header, rows = base()
    rows = [list(r) for r in rows]
    number = column(header, "行政处罚决定书文号")
    for i in range(pad_rows):
        copy = list(rows[0])
        copy[number] = f"柳市监罚〔2026〕{1000 + i}号"
        rows.append(copy)
    rows[row][column(header, title)] = value
    return header, rows


def build_nul_byte_in_cell(folder: Path) -> str:
    header, rows = _with_cell(8, "违法事实", "当事人销售\x00不合格产品。", pad_rows=6)
    return write(folder, "行政处罚_含NUL.csv", csv_text(header, rows))


def build_nul_bytes_at_start(folder: Path) -> str:
    header, rows = _with_cell(0, "违法事实", "\x00\x00\x00\x00")
    return write(folder, "行政处罚_开头含NUL.csv", csv_text(header, rows))


def build_control_characters_in_cells(folder: Path) -> str:
    header, rows = _with_cell(1, "违法事实", "当事人\x1b[31m销售\x07不合格\x0b产品。")
    return write(folder, "行政处罚_控制字符.csv", csv_text(header, rows))


def build_field_50mb(folder: Path) -> str:
    header, rows = _with_cell(2, "违法事实", "违" * (FIELD_50MB // 3))
    return write(folder, "行政处罚_50MB单元格.csv", csv_text(header, rows))


def build_cell_40000_characters(folder: Path) -> str:
    """A cell longer than an Excel cell can hold (32,767 characters), well under the 1 MB record limit."""
    header, rows = _with_cell(2, "违法事实", "经查" * 20_000)
    return write(folder, "行政处罚_超长单元格.csv", csv_text(header, rows))


def build_formula_injection_cells(folder: Path) -> str:
    header, rows = base()
    rows = [list(r) for r in rows]
    rows[0][column(header, "处罚决定日期")] = "=HYPERLINK(\"http://evil.example/\",\"点击\")"
    rows[1][column(header, "罚款金额（万元）")] = "+cmd|' /C calc'!A0"
    rows[2][column(header, "处罚类别")] = "-2+3+cmd|' /C calc'!A0"
    rows[3][column(header, "处罚有效期")] = "@SUM(1+1)*cmd|' /C calc'!A0"
    rows[4][column(header, "备注")] = "=1+1"  # loads: a remark may say anything, it is stored as text
    return write(folder, "行政处罚_公式注入.csv", csv_text(header, rows))


def build_formula_file_name(folder: Path) -> str:
    header, rows = base()
    rows = [list(r) for r in rows]
    rows[0][column(header, "处罚决定日期")] = "不是日期"
    return write(folder, "=HYPERLINK(1)+cmd.csv", csv_text(header, rows))


def build_all_rows_invalid(folder: Path) -> str:
    header, rows = base()
    at = column(header, "处罚决定日期")
    rows = [[*r[:at], "2026年13月1日", *r[at + 1 :]] for r in rows]
    return write(folder, "行政处罚_全部错误.csv", csv_text(header, rows))


# ---------------------------------------------------------------------------------------------------
# Workbooks and extensions that lie


def build_xlsx_formula_cells(folder: Path) -> str:
    """A delivered workbook with a real formula (no cached value, as a program writes it) and a text
    cell that starts like one. Formulas are never evaluated: their cached value is read, none here."""
    header, rows = base()
    rows = [list(r) for r in rows]
    rows[0][column(header, "处罚决定日期")] = '=HYPERLINK("http://evil.example/")'  # a formula cell
    rows[1][column(header, "罚款金额（万元）")] = "+1+cmd|' /C calc'!A0"  # text
    return write(folder, "行政处罚_公式.xlsx", xlsx_bytes({"行政处罚": [header, *rows]}))


def build_utf16_bom_body_utf8(folder: Path) -> str:
    header, rows = base()
    return write(folder, "行政处罚_BOM为UTF16.csv", codecs.BOM_UTF16_LE + csv_text(header, rows).encode())


def build_concatenated_exports(folder: Path) -> str:
    """Two exports pasted one under the other: the second header is a data row."""
    header, rows = base()
    return write(folder, "行政处罚_两次导出拼接.csv", csv_text(header, [*rows[:3], header, *rows[3:]]))


def build_xlsx_named_csv(folder: Path) -> str:
    return write(folder, "行政处罚_其实是工作簿.csv", base_xlsx())


def build_csv_named_xlsx(folder: Path) -> str:
    header, rows = base()
    return write(folder, "行政处罚_其实是CSV.xlsx", csv_text(header, rows), encoding="gbk")


def build_macro_workbook_renamed(folder: Path) -> str:
    vba = b"\xd0\xcf\x11\xe0" + bytes(508)
    data = rezip(base_xlsx(), lambda name, content: content, {"xl/vbaProject.bin": vba})
    return write(folder, "行政处罚_宏.xlsx", data)


def build_encrypted_workbook(folder: Path) -> str:
    # What Office writes for a workbook with an open password: the encrypted package in an OLE file.
    info = struct.pack("<HHI", 4, 4, 0x40) + b"<encryption/>"
    return write(folder, "行政处罚_有密码.xlsx",
                 compound_file({"EncryptionInfo": info, "EncryptedPackage": bytes(range(256)) * 40}))


def build_old_xls(folder: Path) -> str:
    return write(folder, "行政处罚_97-2003.xls", compound_file({"Workbook": bytes(range(256)) * 20}))


def build_truncated_xlsx(folder: Path) -> str:
    data = base_xlsx()
    return write(folder, "行政处罚_不完整.xlsx", data[: len(data) // 2])


def build_several_matching_sheets(folder: Path) -> str:
    header, rows = base()
    return write(folder, "行政处罚_多个工作表.xlsx",
                 xlsx_bytes({"十月": [header, *rows[:3]], "十一月": [header, *rows[3:]]}))  # fmt: skip


def _sheet_changed(change: Callable[[bytes], bytes]) -> bytes:
    """The base workbook with its sheet XML passed through ``change``."""
    def member(name: str, content: bytes) -> bytes:
        return change(content) if name == "xl/worksheets/sheet1.xml" else content

    return rezip(base_xlsx(), member)


def build_xlsx_declares_huge_sheet(folder: Path) -> str:
    huge = b'<dimension ref="A1:XFD1048576"'
    data = _sheet_changed(lambda xml: re.sub(rb'<dimension ref="[^"]*"', huge, xml))
    return write(folder, "行政处罚_声明超大范围.xlsx", data)


def build_xlsx_escaped_control_character(folder: Path) -> str:
    """A cell whose shared string holds ESC and NUL as Excel writes them in the XML (``_x001B_``)."""
    sst = ('<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
           "<si><t>当事人_x001B_销售_x0000_不合格产品。</t></si></sst>").encode()
    relationship = (b'<Relationship Id="rIdSst" Target="sharedStrings.xml" Type="http://schemas.openxmlformats.org'
                    b'/officeDocument/2006/relationships/sharedStrings"/></Relationships>')
    override = (b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')

    def change(name: str, content: bytes) -> bytes:
        if name == "xl/worksheets/sheet1.xml":  # the 违法事实 cell of row 3 points at the shared string
            inline = rb'<c r="P3" t="inlineStr"><is><t>[^<]*</t></is></c>'
            return re.sub(inline, b'<c r="P3" t="s"><v>0</v></c>', content)
        if name == "xl/_rels/workbook.xml.rels":
            return content.replace(b"</Relationships>", relationship)
        if name == "[Content_Types].xml":
            return content.replace(b"</Types>", override)
        return content

    data = rezip(base_xlsx(), change, {"xl/sharedStrings.xml": sst})
    return write(folder, "行政处罚_转义控制字符.xlsx", data)


def build_xlsx_cell_far_away(folder: Path) -> str:
    """A stray cell at the last row and column Excel has (XFD1048576) under the six records."""
    far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    data = _sheet_changed(lambda xml: xml.replace(b"</sheetData>", far))
    return write(folder, "行政处罚_远处单元格.xlsx", data)


def build_xlsx_zip_bomb(folder: Path) -> str:
    """A workbook of about 0.3 MB whose sheet inflates to 256 MiB: one cell holds 256 MiB of text,
    which openpyxl would build in memory (several times over) before handing it on."""
    xml = zipfile.ZipFile(io.BytesIO(base_xlsx())).read("xl/worksheets/sheet1.xml")
    head, tail = xml.split(b"</sheetData>")
    sheet = "xl/worksheets/sheet1.xml"
    out = io.BytesIO(rezip(base_xlsx(), lambda name, content: None if name == sheet else content))
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as archive, \
            archive.open(sheet, "w", force_zip64=True) as member:
        member.write(head + b'<row r="8"><c r="A8" t="inlineStr"><is><t>')
        block = b"A" * (1 << 24)
        for _ in range(16):
            member.write(block)
        member.write(b"</t></is></c></row></sheetData>" + tail)
    return write(folder, "行政处罚_压缩炸弹.xlsx", out.getvalue())


def build_xlsx_billion_laughs(folder: Path) -> str:
    """Entities that expand to 10^9 copies of "ha" (the "billion laughs" attack) in the sheet XML."""
    entities = '<!ENTITY a0 "ha">' + "".join(
        f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    doctype = f"<!DOCTYPE worksheet [{entities}]>".encode()
    return write(folder, "行政处罚_实体膨胀.xlsx",
                 _sheet_changed(lambda xml: doctype + xml.replace(b"<t>", b"<t>&a9;", 1)))


def build_pdf_named_csv(folder: Path) -> str:
    pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    return write(folder, "行政处罚.pdf.csv", pdf)


def build_zip_of_csv_named_xlsx(folder: Path) -> str:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("行政处罚.csv", BASE.read_bytes())
    return write(folder, "行政处罚_压缩包.xlsx", out.getvalue())


DOCX_CONTENT_TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)


def build_docx_named_xlsx(folder: Path) -> str:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", DOCX_CONTENT_TYPES)
        archive.writestr("word/document.xml", "<w:document/>")
    return write(folder, "行政处罚_其实是Word.xlsx", out.getvalue())


def build_gzip_named_csv(folder: Path) -> str:
    import gzip

    return write(folder, "行政处罚_压缩.csv", gzip.compress(BASE.read_bytes(), mtime=0))


def build_parquet_garbage(folder: Path) -> str:
    return write(folder, "行政处罚.parquet", b"PAR1" + bytes(range(256)) * 4 + b"PAR1")


# ---------------------------------------------------------------------------------------------------
# JSON


def _records() -> list[dict[str, str]]:
    header, rows = base()
    return [dict(zip(header, r, strict=True)) for r in rows]


def build_json_wrapped_in_object(folder: Path) -> str:
    payload = {"code": 0, "msg": "ok", "data": {"total": 6, "rows": _records()}}
    return write(folder, "行政处罚_接口导出.json", json.dumps(payload, ensure_ascii=False))


def build_json_nested_values(folder: Path) -> str:
    records = _records()
    for record in records:
        record["行政相对人名称"] = {"名称": record["行政相对人名称"], "曾用名": []}
    return write(folder, "行政处罚_嵌套值.json", json.dumps(records, ensure_ascii=False))


def build_json_deeply_nested(folder: Path) -> str:
    return write(folder, "行政处罚_深度嵌套.json", "[" * 100_000 + "]" * 100_000)


def build_json_field_50mb(folder: Path) -> str:
    records = _records()
    records[2]["违法事实"] = "违" * (FIELD_50MB // 3)
    return write(folder, "行政处罚_50MB单元格.json", json.dumps(records, ensure_ascii=False))


def build_json_empty_array(folder: Path) -> str:
    return write(folder, "行政处罚_空数组.json", "[]\n")


def build_json_nul_escape(folder: Path) -> str:
    records = _records()
    records[1]["违法事实"] = "当事人销售\u0000不合格产品。"
    return write(folder, "行政处罚_含NUL转义.json", json.dumps(records, ensure_ascii=False))


def build_json_formula_cells(folder: Path) -> str:
    records = _records()
    records[0]["处罚决定日期"] = "=cmd|' /C calc'!A0"
    records[1]["备注"] = "@SUM(1+1)"
    return write(folder, "行政处罚_公式注入.json", json.dumps(records, ensure_ascii=False))


def build_not_json(folder: Path) -> str:
    return write(folder, "行政处罚.json", '[{"行政相对人名称": "某公司", 处罚决定日期: 2026-10-08}]')


def build_json_array_of_arrays(folder: Path) -> str:
    header, rows = base()
    return write(folder, "行政处罚_二维数组.json", json.dumps([header, *rows], ensure_ascii=False))


def build_json_truncated(folder: Path) -> str:
    text = json.dumps(_records(), ensure_ascii=False)
    return write(folder, "行政处罚_不完整.json", text[: len(text) * 2 // 3])


# ---------------------------------------------------------------------------------------------------
# Names and entries in the landing zone


def build_name_path_traversal(folder: Path) -> str:
    return write(folder, "..\\..\\..\\etc\\cron.d\\行政处罚.csv", BASE.read_bytes())


def build_name_control_characters(folder: Path) -> str:
    return write(folder, "行政处罚\x1b[31m\r\n.csv", BASE.read_bytes())


def build_name_bidi_override(folder: Path) -> str:
    return write(folder, "行政处罚\u202eslx.csv", BASE.read_bytes())


def build_name_not_utf8(folder: Path) -> str:
    # A name a GBK system wrote as bytes: Python lists it with lone surrogates for the bytes.
    name = os.fsdecode("行政处罚信息".encode("gbk") + b".csv")
    return write(folder, name, BASE.read_bytes())


def build_name_255_bytes(folder: Path) -> str:
    return write(folder, "行" * 83 + "..csv", BASE.read_bytes())  # 249 + 5 = 254 bytes, legal on disk


def build_name_300_characters(folder: Path) -> str:
    # 300 characters cannot be one name on Linux (255 bytes at most): as a delivery, that name is
    # what a department's system reports; here the file is dropped under it cut to fit, and the
    # test hands process_drop the full name.
    return write(folder, "a" * 250 + ".csv", BASE.read_bytes())


def build_name_300_characters_from_system(folder: Path) -> str:
    # The file itself: corpus_cases gives the 300-character name it is delivered under.
    return write(folder, "delivery.csv", BASE.read_bytes())


def build_symlink_outside(folder: Path) -> str:
    secret = folder.parent.parent / "outside_secret.csv"
    secret.write_text("机密,不应被读取\n", encoding="utf-8")
    (folder / "行政处罚_链接.csv").symlink_to(secret)
    return "行政处罚_链接.csv"


def build_symlink_dangling(folder: Path) -> str:
    (folder / "行政处罚_断开的链接.csv").symlink_to("/nonexistent/credit-etl/行政处罚.csv")
    return "行政处罚_断开的链接.csv"


def build_hardlink(folder: Path) -> str:
    other = folder.parent.parent / "hardlinked_elsewhere.csv"
    other.write_bytes(BASE.read_bytes())
    os.link(other, folder / "行政处罚_硬链接.csv")
    return "行政处罚_硬链接.csv"


def build_directory(folder: Path) -> str:
    (folder / "行政处罚_文件夹.csv").mkdir()
    (folder / "行政处罚_文件夹.csv" / "a.csv").write_bytes(BASE.read_bytes())
    return "行政处罚_文件夹.csv"


def build_fifo(folder: Path) -> str:
    os.mkfifo(folder / "行政处罚_管道.csv")
    return "行政处罚_管道.csv"


def builders() -> dict[str, Builder]:
    """Every builder by case name (``build_<name>``)."""
    module = sys.modules[__name__]
    names = [name for name in dir(module) if name.startswith("build_")]
    return {name.removeprefix("build_"): getattr(module, name) for name in names}


if __name__ == "__main__":
    root = Path(sys.argv[1])
    for case, build in builders().items():
        folder = root / case / "incoming"
        folder.mkdir(parents=True, exist_ok=True)
        print(case, build(folder))
