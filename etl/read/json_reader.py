"""JSON deliveries: one array of objects, or one object per line (JSON Lines); keys are headers.

Records are decoded one at a time from a text buffer of about a MiB (``json.JSONDecoder.raw_decode``
at the current position, refilling when a record runs past the end of the buffer), so neither form is
ever held whole in memory. Objects need not all have the same keys: the headers are every key in the
order first seen, which takes a first pass over the file before the first batch can be cut; a key a
record lacks is an empty cell. A record's row number is its 1-based position (in JSON Lines without
blank lines, its line number): there is no header line to count, and that is how a clerk finds it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa

from etl.catalog import Dataset
from etl.conform.headers import HeaderMatcher
from etl.read import rejections
from etl.read.delivery import BadRows, RawDelivery, drop_blank_rows, make_batch
from etl.read.encoding import TextEncoding

CHUNK_CHARS = 1 << 20
# A single record larger than this is not a credit record (the longest catalog field holds 5,000
# characters); stop reading instead of filling memory: decoding one takes about 40 bytes a character.
MAX_RECORD_CHARS = 1 << 24
# Values Excel could not have rounded are written in full; see etl.read.xlsx_reader.
EXACT_DIGITS_LIMIT = 1e15

_WHITESPACE = " \t\r\n"


def open_json(path: Path, dataset: Dataset, encoding: TextEncoding, batch_rows: int) -> RawDelivery:
    keys: dict[str, None] = {}
    count = 0
    matcher = HeaderMatcher(dataset)
    nested: tuple[int, str] | None = None  # the first nested value, in a column outside the catalog
    for record in records(path, encoding):
        count += 1
        for key, value in record.items():
            if isinstance(value, dict | list):
                if matcher.field_for(key) is not None:
                    raise rejections.nested_json(count, key)
                nested = nested or (count, key)
        keys.update(dict.fromkeys(record))
    if not count:
        raise rejections.no_data_rows(dataset.title, "JSON 文件中没有任何记录（没有数据行）")
    if nested is not None and matcher.score(keys) == 0:
        raise rejections.nested_json(*nested)  # the records are wrapped: {"data": {"rows": [...]}}
    names = list(keys)
    return RawDelivery(
        path=path,
        format="json",
        headers=[name.strip() for name in names],
        header_row=0,  # no header line: records are numbered from 1
        encoding=encoding.name,
        _stream=partial(_stream, path, encoding, names, batch_rows),
    )


def json_text(value: Any) -> str | None:
    """A JSON value as cell text: numbers as written, nested values as JSON, ``""`` as empty.

    >>> [json_text(v) for v in ("", 12, 12.0, 0.2, True, {"a": [1]}, 914502000000000123)]
    [None, '12', '12', '0.2', 'true', '{"a": [1]}', '914502000000000123']
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < EXACT_DIGITS_LIMIT else repr(value)
    return json.dumps(value, ensure_ascii=False)


def _stream(
    path: Path, encoding: TextEncoding, names: list[str], batch_rows: int, bad_rows: BadRows
) -> Iterator[pa.RecordBatch]:
    rows: list[list[str | None]] = []
    first = 1
    for number, record in enumerate(records(path, encoding), start=1):
        values = [record.get(name) for name in names]
        rows.append([v if type(v) is str and v else json_text(v) for v in values])
        if len(rows) == batch_rows:
            yield _batch(rows, first, len(names))
            rows, first = [], number + 1
    if rows:
        yield _batch(rows, first, len(names))


def _batch(rows: list[list[str | None]], first: int, width: int) -> pa.RecordBatch:
    columns = [pa.array(column, pa.string()) for column in zip(*rows, strict=True)]
    columns += [pa.nulls(len(rows), pa.string())] * (width - len(columns))
    numbers = pa.array(range(first, first + len(rows)), pa.int64())
    return drop_blank_rows(make_batch(columns, numbers))


def records(path: Path, encoding: TextEncoding) -> Iterator[dict[str, Any]]:
    """The objects of a JSON array or of JSON Lines, one at a time; raises ``DeliveryRejected``."""
    try:
        yield from _records(path, encoding)
    except UnicodeDecodeError as exc:  # beyond the part etl.read.encoding checked
        raise rejections.undecodable(None) from exc


def _records(path: Path, encoding: TextEncoding) -> Iterator[dict[str, Any]]:
    with path.open(encoding=encoding.codec, newline="") as handle:
        text = _Text(handle)
        in_array = text.peek() == "["
        if in_array:
            text.advance(1)
        number = 0
        while True:
            first = text.peek()
            if in_array and first == "]":
                text.advance(1)
                if text.peek():
                    raise rejections.invalid_json(number + 1, "数组结束符 ] 之后还有内容")
                return
            if not first:
                if in_array:
                    raise rejections.invalid_json(number + 1, "数组没有以 ] 结束，文件可能不完整")
                return
            if in_array and number:
                if first != ",":
                    raise rejections.invalid_json(number + 1, "记录之间缺少逗号")
                text.advance(1)
            number += 1
            record = text.decode(number)
            if not isinstance(record, dict):
                raise rejections.json_not_records(number)
            yield record


class _Text:
    """A window on a text file: the characters not yet consumed, refilled a chunk at a time."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle
        self.buffer = ""
        self.pos = 0
        self.eof = False
        self.decoder = json.JSONDecoder()
        self._fill()
        self.buffer = self.buffer.removeprefix("\ufeff")

    def _fill(self) -> bool:
        chunk = self.handle.read(CHUNK_CHARS)
        self.buffer = self.buffer[self.pos :] + chunk
        self.pos = 0
        self.eof = not chunk
        return bool(chunk)

    def peek(self) -> str:
        """The next character that is not JSON whitespace, without consuming it ("" at the end)."""
        while True:
            while self.pos < len(self.buffer) and self.buffer[self.pos] in _WHITESPACE:
                self.pos += 1
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._fill():
                return ""

    def advance(self, count: int) -> None:
        self.pos += count

    def decode(self, number: int) -> Any:
        """Decode the JSON value at the current position (record ``number``, for messages)."""
        self.peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.pos)
            except RecursionError as exc:
                raise rejections.invalid_json(number, "嵌套层数过深") from exc
            except json.JSONDecodeError as exc:
                # Most likely the record runs past the buffer: read on, unless there is no more.
                if len(self.buffer) - self.pos > MAX_RECORD_CHARS:
                    raise rejections.json_record_too_large(number, MAX_RECORD_CHARS) from exc
                if not self._fill():
                    raise rejections.invalid_json(number, f"{exc.msg}") from exc
                continue
            if end - self.pos > MAX_RECORD_CHARS:  # complete, but the buffer reached it in one read
                raise rejections.json_record_too_large(number, MAX_RECORD_CHARS)
            self.pos = end
            return value
