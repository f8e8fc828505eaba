"""read: a delivered file -> its header and its rows as Arrow batches of strings.

``open_delivery(path, dataset)`` tells the format from the content (``etl.read.sniff``), the
encoding of text files by strict decoding (``etl.read.encoding``), finds the header row under any
title rows by matching the catalog (``etl.read.header``), and returns a ``RawDelivery`` whose
``batches()`` streams the data rows, read one thread ahead of the caller. Whole-file problems raise
``DeliveryRejected`` with a stable reason (``etl.read.rejections``) and a Chinese message for the
clerk; nothing is typed here.

``_row`` is the row a clerk finds the record at: CSV, the record number in the file (header = its
own row, a record with quoted line breaks counts once, blank lines count); XLSX, the sheet row;
JSON and Parquet, which have no header line, the record's 1-based position.

One module per format: ``csv_reader``, ``xlsx_reader``, ``json_reader``, ``parquet_reader``.

>>> import tempfile
>>> from etl.catalog import load_catalog
>>> dataset = load_catalog().datasets["admin_penalty"]
>>> with tempfile.TemporaryDirectory() as folder:
...     path = Path(folder) / "处罚.xlsx"  # the extension lies: the content is CSV
...     lines = ["柳州市行政处罚信息", "行政相对人名称,CF_WSH,处罚决定日期",
...              "某公司,柳市监〔2026〕1号,2026/10/8"]
...     _ = path.write_text("\\n".join(lines), encoding="gbk")
...     delivery = open_delivery(path, dataset)
...     batch = next(delivery.batches())
>>> delivery.format, delivery.encoding, delivery.header_row, delivery.headers
('csv', 'gb18030', 2, ['行政相对人名称', 'CF_WSH', '处罚决定日期'])
>>> batch.to_pydict()
{'c0': ['某公司'], 'c1': ['柳市监〔2026〕1号'], 'c2': ['2026/10/8'], '_row': [3]}
"""

from __future__ import annotations

from pathlib import Path

from etl.catalog import Dataset
from etl.read.delivery import ROW, RawDelivery, batch_schema
from etl.read.rejections import RAGGED_ROW
from etl.read.sniff import detect_format

DEFAULT_BATCH_ROWS = 50_000

__all__ = ["DEFAULT_BATCH_ROWS", "RAGGED_ROW", "ROW", "RawDelivery", "batch_schema", "open_delivery"]


def open_delivery(path: Path, dataset: Dataset, *, batch_rows: int = DEFAULT_BATCH_ROWS) -> RawDelivery:
    """Open a delivered file of ``dataset`` for reading; raises ``DeliveryRejected``."""
    if batch_rows < 1:
        raise ValueError("batch_rows must be positive")
    path = Path(path)
    file_format = detect_format(path)
    if file_format == "csv":
        from etl.read.csv_reader import open_csv
        from etl.read.encoding import detect_encoding

        return open_csv(path, dataset, detect_encoding(path), batch_rows)
    if file_format == "json":
        from etl.read.encoding import detect_encoding
        from etl.read.json_reader import open_json

        return open_json(path, dataset, detect_encoding(path), batch_rows)
    if file_format == "xlsx":
        from etl.read.xlsx_reader import open_xlsx

        return open_xlsx(path, dataset, batch_rows)
    from etl.read.parquet_reader import open_parquet

    return open_parquet(path, dataset, batch_rows)
