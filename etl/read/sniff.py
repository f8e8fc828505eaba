"""Tell a delivery's format from its first bytes, never from its file name.

Clerks rename files (``.csv`` that is really a workbook, ``.xlsx`` that is really CSV), so the
extension is ignored. What is recognised:

- a zip with ``[Content_Types].xml`` declaring a worksheet: xlsx; with a VBA project inside it is a
  macro workbook and rejected (``MACRO_WORKBOOK``); one that would inflate beyond
  ``MAX_INFLATED_BYTES``, or holds a large member compressed far beyond what XML compresses to, is
  a zip bomb and rejected (``WORKBOOK_TOO_LARGE``) before any of it is parsed: openpyxl builds cell
  texts and the shared-string table in memory. The sizes come from the zip's directory, and Python's
  ``zipfile`` never inflates a member beyond its declared size, so they cannot lie;
- an OLE compound file (``D0 CF 11 E0``): an old binary ``.xls`` (``OLD_XLS``), or, when it holds an
  ``EncryptedPackage`` stream, a password-protected workbook (``ENCRYPTED_WORKBOOK``) — Office
  wraps encrypted .xlsx files in an OLE container;
- ``PAR1``: Parquet (written by the database pulls);
- text starting with a JSON array of objects or a JSON object: JSON;
- other text: CSV. Known binary formats (PDF, archives, images) and text containing NUL bytes are
  rejected as ``UNSUPPORTED_FORMAT``.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from pathlib import Path

from etl.read import rejections

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
PARQUET_MAGIC = b"PAR1"
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")

_KNOWN_BINARY = {
    b"%PDF": "PDF 文件",
    b"\x1f\x8b": "gzip 压缩包",
    b"Rar!": "RAR 压缩包",
    b"7z\xbc\xaf\x27\x1c": "7z 压缩包",
    b"\x89PNG": "PNG 图片",
    b"\xff\xd8\xff": "JPEG 图片",
    b"{\\rtf": "RTF 文档",
}
_HEAD_BYTES = 4096
_SCAN_CHUNK = 1 << 20
_JSON_START = re.compile(r"^\s*(?:\[\s*[{\[\]]|\{\s*[\"}])")
_WORKSHEET_TYPE = b"spreadsheetml.worksheet+xml"
# A full sheet (1,048,576 rows of credit records) is about 1-2 GB of XML; spreadsheet XML compresses
# 5-30 times, a zip bomb about 1000 times.
MAX_INFLATED_BYTES = 4 << 30
MAX_RATIO = 200
RATIO_CHECKED_FROM = 32 << 20


def detect_format(path: Path) -> str:
    """``csv``, ``xlsx``, ``json`` or ``parquet``; raises ``DeliveryRejected`` for anything else."""
    with path.open("rb") as handle:
        head = handle.read(_HEAD_BYTES)
    if not head:
        raise rejections.empty_file()
    if head.startswith(ZIP_MAGICS):
        return _zip_format(path)
    if head.startswith(OLE_MAGIC):
        raise rejections.encrypted_workbook() if _holds(path, ENCRYPTED_STREAM) else rejections.old_xls()
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    for magic, what in _KNOWN_BINARY.items():
        if head.startswith(magic):
            raise rejections.unsupported_format(what)
    text = _head_text(head)
    if text is None:
        raise rejections.unsupported_format("二进制文件（不是文本）")
    if not text.strip() and len(head) < _HEAD_BYTES:
        raise rejections.empty_file()
    return "json" if _JSON_START.match(text) else "csv"


def _zip_format(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            names = {member.filename for member in members}
            if "[Content_Types].xml" not in names:
                raise rejections.unsupported_format("一个压缩包，请解压后报送其中的数据文件")
            content_types = archive.read("[Content_Types].xml")
    except (zipfile.BadZipFile, OSError, KeyError, EOFError) as exc:
        raise rejections.corrupt_file("压缩格式的文件（.xlsx）") from exc
    if "xl/vbaProject.bin" in names or b"macroEnabled" in content_types:
        raise rejections.macro_workbook()
    check_inflated_size(members)
    if _WORKSHEET_TYPE not in content_types:
        raise rejections.unsupported_format("Word 文档、.xlsb 工作簿等其他 Office 文件，不是 .xlsx 工作簿")
    return "xlsx"


def check_inflated_size(members: list[zipfile.ZipInfo]) -> None:
    """Raises ``WORKBOOK_TOO_LARGE`` for a package that inflates too far (see the module docstring).

    >>> big = zipfile.ZipInfo("xl/worksheets/sheet1.xml"); big.file_size, big.compress_size = 1 << 30, 1 << 20
    >>> check_inflated_size([big])
    Traceback (most recent call last):
        ...
    etl.errors.DeliveryRejected: WORKBOOK_TOO_LARGE: 工作簿解压后有 1,024 MB（压缩比达 1,024 倍，...
    """
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size >= RATIO_CHECKED_FROM and ratio > MAX_RATIO:
            raise rejections.workbook_too_large(member.file_size, ratio)
    total = sum(member.file_size for member in members)
    if total > MAX_INFLATED_BYTES:
        raise rejections.workbook_too_large(total, None)


def _holds(path: Path, needle: bytes) -> bool:
    """Whether the file contains ``needle``, read in chunks that overlap by its length."""
    tail = b""
    with path.open("rb") as handle:
        while chunk := handle.read(_SCAN_CHUNK):
            if needle in tail + chunk:
                return True
            tail = chunk[-len(needle) :]
    return False


def _head_text(head: bytes) -> str | None:
    """The first bytes as text for sniffing (BOM removed), or None for binary content."""
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if head.startswith(bom):
            return head[len(bom) :].decode(codec, errors="replace")
    if b"\x00" in head:
        return None
    head = head.removeprefix(codecs.BOM_UTF8)
    # Only the first characters matter, and they are ASCII in every encoding we read.
    return head.decode("latin-1")
