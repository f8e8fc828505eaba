"""Reading CSV deliveries: encodings, delimiters, title rows, row numbers, ragged rows, streaming."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from etl.catalog import Dataset, load_catalog
from etl.errors import DeliveryRejected
from etl.read import RAGGED_ROW, open_delivery
from etl.read.csv_reader import BLOCK_BYTES

HEADER = ["行政相对人名称", "行政处罚决定书文号", "处罚决定日期", "罚款金额（万元）"]


@pytest.fixture(scope="module")
def penalty() -> Dataset:
    return load_catalog().datasets["admin_penalty"]


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def csv_text(rows: list[list[str]], header: list[str] = HEADER, sep: str = ",", newline: str = "\n") -> str:
    return newline.join(sep.join(cells) for cells in [header, *rows]) + newline


def read_all(path: Path, dataset: Dataset, **kwargs: int) -> tuple[dict[str, list], object]:
    delivery = open_delivery(path, dataset, **kwargs)
    batches = list(delivery.batches())
    table = pa.Table.from_batches(batches, schema=delivery.schema)
    return table.to_pydict(), delivery


ROWS = [
    ["柳州螺蛳粉有限公司", "柳市监罚〔2026〕1号", "2026-10-08", "0.5"],
    ["张三", "柳市监罚〔2026〕2号", "2026/10/9", ""],
]


@pytest.mark.parametrize(
    ("encoding", "reported"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("gbk", "gb18030"),
        ("gb18030", "gb18030"),
        ("utf-16", None),
    ],
)
def test_every_encoding_is_detected_and_decoded(tmp_path: Path, penalty: Dataset, encoding: str, reported):
    path = write(tmp_path / "d.csv", csv_text(ROWS, newline="\r\n"), encoding)
    data, delivery = read_all(path, penalty)
    assert delivery.encoding == (reported or "utf-16-le")
    assert delivery.headers == HEADER
    assert data["c0"] == ["柳州螺蛳粉有限公司", "张三"]
    assert data["c2"] == ["2026-10-08", "2026/10/9"]
    assert data["c3"] == ["0.5", None]  # an empty cell is null
    assert data["_row"] == [2, 3]


def test_characters_only_gb18030_has_are_read(tmp_path: Path, penalty: Dataset):
    # '𠀀' (CJK Extension B) and '䶮' (Extension A) are outside GBK: encoded as four-byte GB18030.
    rows = [["𠀀䶮商贸有限公司", "柳市监罚〔2026〕3号", "2026-10-08", "1"]]
    path = write(tmp_path / "d.csv", csv_text(rows), "gb18030")
    with pytest.raises(UnicodeEncodeError):
        "𠀀".encode("gbk")
    data, delivery = read_all(path, penalty)
    assert delivery.encoding == "gb18030"
    assert data["c0"] == ["𠀀䶮商贸有限公司"]


def test_short_gbk_text_is_not_mistaken_for_big5_or_korean(tmp_path: Path, penalty: Dataset):
    # GBK bytes of short Chinese texts are often valid Big5 or CP949 as well. charset-normalizer
    # 3.5.3 reads b"\xc1\xf8\xd6\xdd\xca\xd0" ("柳州市" in GBK) as Big5 "霞笣庈" and a small GBK CSV
    # as CP949 (Korean), which would load as mojibake; strict decoding in a fixed order cannot.
    raw = "柳州市".encode("gbk")
    assert raw.decode("big5") != "柳州市"  # the ambiguity is real
    rows = [["柳州市", "罚款", "2026-10-08", "2"]]
    path = write(tmp_path / "d.csv", csv_text(rows), "gbk")
    data, delivery = read_all(path, penalty)
    assert (delivery.encoding, data["c0"], data["c1"]) == ("gb18030", ["柳州市"], ["罚款"])


def test_a_multibyte_character_cut_by_the_check_chunk_boundary_is_still_utf8(
    tmp_path: Path, penalty: Dataset
):
    from etl.read.encoding import first_invalid_utf8

    path = write(tmp_path / "d.csv", csv_text(ROWS))
    for chunk_bytes in range(1, 9):
        assert first_invalid_utf8(path, chunk_bytes=chunk_bytes) is None


def test_undecodable_bytes_reject_the_delivery(tmp_path: Path, penalty: Dataset):
    path = tmp_path / "d.csv"
    path.write_bytes(csv_text(ROWS).encode("utf-8") + b"\x81\xff,x\n")
    with pytest.raises(DeliveryRejected) as caught:
        open_delivery(path, penalty)
    assert caught.value.reason == "UNDECODABLE"
    assert "UTF-8" in caught.value.message and "GBK" in caught.value.message


def test_a_gb18030_file_broken_far_from_its_start_is_rejected_while_streaming(
    tmp_path: Path, penalty: Dataset, monkeypatch: pytest.MonkeyPatch
):
    from etl.read import csv_reader, encoding

    # Only the start is checked before reading; the streaming decoder is as strict about the rest.
    monkeypatch.setattr(encoding, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(csv_reader, "SAMPLE_BYTES", 4096)
    head = csv_text([["柳州某公司", f"文号{i}", "2026-10-08", "1"] for i in range(2000)])
    path = tmp_path / "d.csv"
    path.write_bytes(head.encode("gbk") + b"\xff\xff" + "乙,文号,2026-10-08,1\n".encode("gbk"))
    delivery = open_delivery(path, penalty)
    assert delivery.encoding == "gb18030"
    with pytest.raises(DeliveryRejected) as caught:
        list(delivery.batches())
    assert caught.value.reason == "UNDECODABLE"


def test_a_large_utf8_file_broken_far_from_its_start_is_rejected_while_streaming(
    tmp_path: Path, penalty: Dataset, monkeypatch: pytest.MonkeyPatch
):
    from etl.read import csv_reader, encoding

    monkeypatch.setattr(encoding, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(csv_reader, "SAMPLE_BYTES", 4096)
    head = csv_text([["柳州某公司", f"文号{i}", "2026-10-08", "1"] for i in range(2000)])
    path = tmp_path / "d.csv"
    path.write_bytes(head.encode("utf-8") + b"\xff\xfe,x,2026-10-08,1\n")
    delivery = open_delivery(path, penalty)
    assert delivery.encoding == "utf-8"
    with pytest.raises(DeliveryRejected) as caught:
        list(delivery.batches())
    assert caught.value.reason == "UNDECODABLE"


def test_an_ascii_start_is_no_evidence_of_utf8(
    tmp_path: Path, penalty: Dataset, monkeypatch: pytest.MonkeyPatch
):
    from etl.read import csv_reader, encoding

    monkeypatch.setattr(encoding, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(csv_reader, "SAMPLE_BYTES", 4096)
    ascii_rows = "".join(f"Liuzhou Co {i},No.{i},2026-10-08,1\n" for i in range(500))
    text = (
        "subject_name,decision_no,decision_date,fine_amount\n" + ascii_rows + "柳州某公司,文号,2026-10-08,1\n"
    )
    data, delivery = read_all(write(tmp_path / "d.csv", text, "gbk"), penalty)
    assert delivery.encoding == "gb18030"
    assert data["c0"][-1] == "柳州某公司"


def test_utf8_with_a_pasted_gbk_fragment_is_not_read_as_gb18030(tmp_path: Path, penalty: Dataset):
    utf8 = csv_text(ROWS * 10).encode("utf-8")
    path = tmp_path / "d.csv"
    # The GBK bytes of these names decode as GB18030, and so does UTF-8 Chinese (as mojibake).
    path.write_bytes(utf8 + "柳州市鱼峰区,文号,2026-10-08,1\n".encode("gbk"))
    with pytest.raises(DeliveryRejected) as caught:
        open_delivery(path, penalty)
    assert caught.value.reason == "UNDECODABLE"
    assert f"第{len(utf8) + 1}个字节附近" in caught.value.message


def test_gbk_text_that_starts_like_utf8_is_still_gbk(tmp_path: Path, penalty: Dataset):
    # "一" in GBK (D2 BB) is also a valid two-byte UTF-8 sequence; the next character is not.
    assert "一".encode("gbk").decode("utf-8")
    text = "一二三商贸有限公司处罚信息\n" + csv_text([["一二三商贸有限公司", "文号", "2026-10-08", "1"]])
    data, delivery = read_all(write(tmp_path / "d.csv", text, "gbk"), penalty)
    assert (delivery.encoding, data["c0"]) == ("gb18030", ["一二三商贸有限公司"])


def test_a_truncated_utf8_file_is_undecodable_where_it_breaks_off(tmp_path: Path, penalty: Dataset):
    data = csv_text(ROWS).encode("utf-8")
    path = tmp_path / "d.csv"
    path.write_bytes(data + "柳州".encode()[:4])  # the second character cut off
    with pytest.raises(DeliveryRejected) as caught:
        open_delivery(path, penalty)
    assert f"第{len(data) + 4}个字节附近" in caught.value.message


def test_tab_delimiter_is_sniffed_from_the_header(tmp_path: Path, penalty: Dataset):
    rows = [["某公司, 柳州分公司", "柳市监罚〔2026〕5号", "2026-10-08", "1,234.5"]]
    path = write(tmp_path / "d.txt", csv_text(rows, sep="\t"))
    data, delivery = read_all(path, penalty)
    assert delivery.headers == HEADER
    assert data["c0"] == ["某公司, 柳州分公司"]
    assert data["c3"] == ["1,234.5"]


def test_quoted_newlines_count_as_one_row(tmp_path: Path, penalty: Dataset):
    text = csv_text(
        [
            ['"第一行\n第二行"', "文号1", "2026-10-08", "1"],
            ['"甲\r\n乙\r\n丙"', "文号2", "2026-10-08", "1"],
            ["普通", "文号3", "2026-10-08", "1"],
        ]
    )
    data, _ = read_all(write(tmp_path / "d.csv", text), penalty)
    assert data["c0"] == ["第一行\n第二行", "甲\r\n乙\r\n丙", "普通"]
    assert data["_row"] == [2, 3, 4]


def test_ragged_rows_are_reported_and_later_rows_keep_their_numbers(tmp_path: Path, penalty: Dataset):
    text = csv_text(
        [
            ["甲", "文号1", "2026-10-08", "1"],
            ["乙", "文号2", "2026-10-08"],  # row 3: a column short
            ['"多行\n内容"', "文号3", "2026-10-08", "1"],
            ["丙", "文号, 4", "2026-10-08", "1"],  # row 5: an unquoted comma
            ["丁", "文号5", "2026-10-08", "1"],
        ]
    )
    data, delivery = read_all(write(tmp_path / "d.csv", text), penalty)
    assert data["c0"] == ["甲", "多行\n内容", "丁"]
    assert data["_row"] == [2, 4, 6]
    assert [row for row, _ in delivery.bad_rows] == [3, 5]
    _, message = delivery.bad_rows[1]
    assert "第5行有5列，而表头有4列" in message and "逗号" in message
    assert RAGGED_ROW == "RAGGED_ROW"


def test_blank_lines_are_not_records_but_still_counted(tmp_path: Path, penalty: Dataset):
    text = csv_text([["甲", "文号1", "2026-10-08", "1"], [""], [",,,"], ["乙", "文号2", "2026-10-08", "1"]])
    data, delivery = read_all(write(tmp_path / "d.csv", text), penalty)
    assert data["c0"] == ["甲", "乙"]
    assert data["_row"] == [2, 5]
    assert delivery.bad_rows == []


def test_title_rows_above_the_header_are_skipped(tmp_path: Path, penalty: Dataset):
    text = '柳州市行政处罚信息（2026年10月）,,,\n"填报说明：\n带*为必填",,,\n\n' + csv_text(
        [["甲", "文号1", "2026-10-08", "1"]],
        header=["*行政相对人名称", "CF_WSH", "处罚决定日期（必填）", "罚款金额"],
    )
    data, delivery = read_all(write(tmp_path / "d.csv", text, "gbk"), penalty)
    assert delivery.header_row == 4  # the title, the two-line note (one record) and a blank row above it
    assert delivery.headers == ["*行政相对人名称", "CF_WSH", "处罚决定日期（必填）", "罚款金额"]
    assert data["c0"] == ["甲"]
    assert data["_row"] == [5]


def test_a_row_of_national_codes_under_the_header_is_not_data(tmp_path: Path, penalty: Dataset):
    text = csv_text(
        [["CF_XDR_MC", "CF_WSH", "CF_JDRQ", "CF_NR_FK"], ["甲", "文号1", "2026-10-08", "1"]],
    )
    data, delivery = read_all(write(tmp_path / "d.csv", text), penalty)
    assert delivery.header_row == 1
    assert data["c0"] == ["甲"]
    assert data["_row"] == [3]


def test_a_delimiter_after_every_data_line_adds_an_unnamed_column(tmp_path: Path, penalty: Dataset):
    text = ",".join(HEADER) + "\n" + "甲,文号1,2026-10-08,1,\n" + "乙,文号2,2026-10-08,2,\n"
    data, delivery = read_all(write(tmp_path / "d.csv", text), penalty)
    assert delivery.headers == [*HEADER, ""]
    assert data["c0"] == ["甲", "乙"] and delivery.bad_rows == []


def test_a_delimiter_after_the_header_only_drops_its_blank_column(tmp_path: Path, penalty: Dataset):
    text = ",".join(HEADER) + ",\n" + "甲,文号1,2026-10-08,1\n" + "乙,文号2,2026-10-08,2\n"
    data, delivery = read_all(write(tmp_path / "d.csv", text), penalty)
    assert delivery.headers == HEADER
    assert data["c0"] == ["甲", "乙"] and delivery.bad_rows == []


def test_literal_null_words_stay_text(tmp_path: Path, penalty: Dataset):
    data, _ = read_all(write(tmp_path / "d.csv", csv_text([["NULL", "N/A", "NA", "nan"]])), penalty)
    assert [data[f"c{i}"][0] for i in range(4)] == ["NULL", "N/A", "NA", "nan"]


@pytest.mark.parametrize("text", ["", "\ufeff", "  \r\n\r\n"])
def test_an_empty_file_is_rejected(tmp_path: Path, penalty: Dataset, text: str):
    with pytest.raises(DeliveryRejected) as caught:
        open_delivery(write(tmp_path / "d.csv", text), penalty)
    assert caught.value.reason == "EMPTY_FILE"


def test_header_only_is_rejected(tmp_path: Path, penalty: Dataset):
    with pytest.raises(DeliveryRejected) as caught:
        open_delivery(write(tmp_path / "d.csv", csv_text([[""], [",,,"]])), penalty)
    assert caught.value.reason == "NO_DATA_ROWS"
    assert "只有表头" in caught.value.message


def test_a_file_without_the_catalog_header_is_rejected(tmp_path: Path, penalty: Dataset):
    text = csv_text([["a", "b"]], header=["姓名", "电话"])
    with pytest.raises(DeliveryRejected) as caught:
        open_delivery(write(tmp_path / "d.csv", text), penalty)
    assert caught.value.reason == "HEADER_NOT_FOUND"
    assert "《行政处罚信息》" in caught.value.message and "行政相对人名称" in caught.value.message


def test_an_unclosed_quote_swallows_the_rest_into_one_reported_row(tmp_path: Path, penalty: Dataset):
    filler = "".join(f"丙{i},文号{i},2026-10-08,1\n" for i in range(60_000))  # beyond one block
    text = csv_text([["甲", "文号1", "2026-10-08", "1"]]) + '乙,"文号2,2026-10-08,1\n' + filler
    data, delivery = read_all(write(tmp_path / "d.csv", text), penalty)
    assert data["c0"] == ["甲"]
    assert [row for row, _ in delivery.bad_rows] == [3]
    assert "引号没有闭合，从该行起共60001行文字都被读成了这一行的内容" in delivery.bad_rows[0][1]


def test_batches_stream_with_continuous_row_numbers(tmp_path: Path, penalty: Dataset):
    count = 40_000
    lines = [f"柳州市某某商贸有限公司{i},柳市监罚〔2026〕{i}号,2026-10-08,{i % 100}" for i in range(count)]
    lines[100] = '"多行\n公司",文号,2026-10-08,1'
    path = write(tmp_path / "d.csv", ",".join(HEADER) + "\n" + "\n".join(lines) + "\n", "gb18030")
    assert path.stat().st_size > 2 * BLOCK_BYTES  # several blocks of the streaming reader
    delivery = open_delivery(path, penalty, batch_rows=7000)
    sizes, rows = [], []
    for batch in delivery.batches():
        sizes.append(batch.num_rows)
        rows.extend(batch.column("_row").to_pylist())
    assert sizes == [7000] * 5 + [5000]
    assert rows == list(range(2, count + 2))


def test_batches_can_be_read_again(tmp_path: Path, penalty: Dataset):
    path = write(
        tmp_path / "d.csv", csv_text([["甲", "文号1", "2026-10-08"], ["乙", "文号2", "2026-10-08", "1"]])
    )
    delivery = open_delivery(path, penalty)
    first = [b.to_pydict() for b in delivery.batches()]
    assert len(delivery.bad_rows) == 1
    assert [b.to_pydict() for b in delivery.batches()] == first
    assert len(delivery.bad_rows) == 1
