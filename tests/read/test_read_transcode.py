"""GB18030 -> UTF-8 through iconv, and the CSV reader with and without it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from etl.catalog import load_catalog
from etl.errors import DeliveryRejected
from etl.read import csv_reader, open_delivery, transcode

TEXT = "行政相对人名称,处罚决定日期\n柳州𠀀䶮商贸,2026-10-08\n" * 50


def transcoded(data: bytes) -> bytes:
    reader = transcode.open_transcoded(io.BytesIO(data), "gb18030")
    assert reader is not None, "glibc iconv knows GB18030"
    return io.BufferedReader(reader, 64).read()


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 4096])
def test_characters_cut_by_chunk_boundaries_come_through(monkeypatch: pytest.MonkeyPatch, chunk: int):
    monkeypatch.setattr(transcode, "CHUNK_BYTES", chunk)
    assert transcoded(TEXT.encode("gb18030")) == TEXT.encode("utf-8")


def test_an_invalid_sequence_is_a_decode_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(transcode, "CHUNK_BYTES", 16)
    data = TEXT.encode("gb18030")
    with pytest.raises(UnicodeDecodeError, match=f"at byte {len(data)}"):
        transcoded(data + b"\xff\xff,x\n")
    with pytest.raises(UnicodeDecodeError, match="incomplete"):
        transcoded(data + "柳".encode("gb18030")[:1])


@pytest.mark.parametrize("with_iconv", [True, False])
def test_gbk_csv_reads_the_same_with_or_without_iconv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, with_iconv: bool
):
    if not with_iconv:  # as where the C library has no GB18030: Arrow's own transcoding
        monkeypatch.setattr(csv_reader, "open_transcoded", lambda raw, codec: None)
    penalty = load_catalog().datasets["admin_penalty"]
    rows = "".join(f"柳州𠀀䶮商贸{i},柳市监罚〔2026〕{i}号,2026-10-08\n" for i in range(300))
    text = "柳州市行政处罚信息\n行政相对人名称,行政处罚决定书文号,处罚决定日期\n" + rows
    path = tmp_path / "d.csv"
    path.write_bytes(text.encode("gb18030"))
    delivery = open_delivery(path, penalty)
    batches = list(delivery.batches())
    assert [n for b in batches for n in b.column("c0").to_pylist()] == [
        f"柳州𠀀䶮商贸{i}" for i in range(300)
    ]
    assert [n for b in batches for n in b.column("_row").to_pylist()] == list(range(3, 303))

    from etl.read import encoding

    monkeypatch.setattr(encoding, "CHUNK_BYTES", 256)  # check only the start before reading
    monkeypatch.setattr(csv_reader, "SAMPLE_BYTES", 256)
    path.write_bytes(text.encode("gb18030") + b"\xff\xff,x,y\n")
    delivery = open_delivery(path, penalty)
    with pytest.raises(DeliveryRejected) as caught:
        list(delivery.batches())
    assert caught.value.reason == "UNDECODABLE"
