"""The format of a delivery comes from its content; the file name's extension is ignored."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from etl.catalog import Dataset, load_catalog
from etl.errors import DeliveryRejected
from etl.read import open_delivery
from etl.read.sniff import OLE_MAGIC, detect_format

HEADER = ["行政相对人名称", "行政处罚决定书文号", "处罚决定日期"]
ROW = ["柳州螺蛳粉有限公司", "柳市监罚〔2026〕1号", "2026-10-08"]


@pytest.fixture(scope="module")
def penalty() -> Dataset:
    return load_catalog().datasets["admin_penalty"]


def workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    book.active.append(ROW)
    book.save(path)
    return path


def rejected(path: Path, dataset: Dataset) -> DeliveryRejected:
    with pytest.raises(DeliveryRejected) as caught:
        open_delivery(path, dataset)
    return caught.value


def test_a_workbook_named_csv_is_read_as_a_workbook(tmp_path: Path, penalty: Dataset):
    path = workbook(tmp_path / "处罚信息.csv")
    delivery = open_delivery(path, penalty)
    assert (delivery.format, delivery.sheet, delivery.headers) == ("xlsx", "Sheet", HEADER)
    assert next(delivery.batches()).column("c0").to_pylist() == [ROW[0]]


def test_csv_named_xlsx_is_read_as_csv(tmp_path: Path, penalty: Dataset):
    path = tmp_path / "处罚信息.xlsx"
    path.write_text(",".join(HEADER) + "\n" + ",".join(ROW) + "\n", encoding="utf-8")
    delivery = open_delivery(path, penalty)
    assert (delivery.format, delivery.encoding) == ("csv", "utf-8")


def test_json_named_csv_and_parquet_named_xlsx(tmp_path: Path, penalty: Dataset):
    json_path = tmp_path / "a.csv"
    json_path.write_text('[{"行政相对人名称": "甲"}]', encoding="utf-8")
    parquet_path = tmp_path / "b.xlsx"
    pq.write_table(pa.table({"subject_name": ["甲"]}), parquet_path)
    assert detect_format(json_path) == "json"
    assert detect_format(parquet_path) == "parquet"


def test_a_csv_whose_first_header_is_bracketed_is_not_json(tmp_path: Path):
    path = tmp_path / "a.json"
    path.write_text("[必填]行政相对人名称,处罚决定日期\n甲,2026-10-08\n", encoding="utf-8")
    assert detect_format(path) == "csv"


def add_to_zip(
    source: Path, target: Path, extra: dict[str, bytes], content_types: bytes | None = None
) -> Path:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            data = old.read(item.filename)
            if item.filename == "[Content_Types].xml" and content_types is not None:
                data = content_types
            new.writestr(item, data)
        for name, data in extra.items():
            new.writestr(name, data)
    return target


def test_a_macro_workbook_is_rejected_whatever_its_name(tmp_path: Path, penalty: Dataset):
    plain = workbook(tmp_path / "plain.xlsx")
    macro = add_to_zip(plain, tmp_path / "处罚信息.xlsx", {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 macro"})
    error = rejected(macro, penalty)
    assert error.reason == "MACRO_WORKBOOK"
    assert "宏" in error.message


def test_a_macro_enabled_content_type_alone_is_enough(tmp_path: Path, penalty: Dataset):
    plain = workbook(tmp_path / "plain.xlsx")
    with zipfile.ZipFile(plain) as archive:
        types = archive.read("[Content_Types].xml").replace(
            b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml"
        )
    macro = add_to_zip(plain, tmp_path / "m.xlsx", {}, content_types=types)
    assert rejected(macro, penalty).reason == "MACRO_WORKBOOK"


def ole_file(path: Path, stream_names: list[str]) -> Path:
    """An OLE compound file header followed by directory entries naming ``stream_names``."""
    header = OLE_MAGIC + bytes(504)
    entries = b"".join(name.encode("utf-16-le").ljust(128, b"\x00") for name in ["Root Entry", *stream_names])
    path.write_bytes(header + entries.ljust(4096, b"\x00"))
    return path


def test_an_old_binary_xls_is_rejected(tmp_path: Path, penalty: Dataset):
    error = rejected(ole_file(tmp_path / "处罚信息.xlsx", ["Workbook", "\x05SummaryInformation"]), penalty)
    assert error.reason == "OLD_XLS"
    assert ".xls" in error.message and "另存为" in error.message


def test_a_password_protected_workbook_is_rejected(tmp_path: Path, penalty: Dataset):
    error = rejected(ole_file(tmp_path / "处罚信息.xlsx", ["EncryptionInfo", "EncryptedPackage"]), penalty)
    assert error.reason == "ENCRYPTED_WORKBOOK"
    assert "密码" in error.message


def test_a_plain_zip_archive_is_rejected(tmp_path: Path, penalty: Dataset):
    path = tmp_path / "处罚信息.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("处罚信息.csv", ",".join(HEADER))
    error = rejected(path, penalty)
    assert error.reason == "UNSUPPORTED_FORMAT"
    assert "解压" in error.message


def test_a_truncated_workbook_is_corrupt(tmp_path: Path, penalty: Dataset):
    data = workbook(tmp_path / "good.xlsx").read_bytes()
    path = tmp_path / "bad.xlsx"
    path.write_bytes(data[: len(data) // 2])
    assert rejected(path, penalty).reason == "CORRUPT_FILE"


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        (b"\x1f\x8b\x08\x00", "gzip"),
        (b"abc\x00\x01\x02def", "二进制"),
    ],
)
def test_other_binary_files_are_rejected(tmp_path: Path, penalty: Dataset, content: bytes, what: str):
    path = tmp_path / "处罚信息.csv"
    path.write_bytes(content)
    error = rejected(path, penalty)
    assert error.reason == "UNSUPPORTED_FORMAT"
    assert what in error.message


def test_an_empty_file_is_rejected_before_anything_else(tmp_path: Path, penalty: Dataset):
    path = tmp_path / "处罚信息.xlsx"
    path.write_bytes(b"")
    assert rejected(path, penalty).reason == "EMPTY_FILE"
