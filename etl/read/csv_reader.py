"""CSV (comma or tab separated) in UTF-8, UTF-8 with BOM, GBK/GB18030 or UTF-16, streamed with Arrow.

The first MiB is decoded and parsed with Python's ``csv`` module to find the delimiter and the header
row (under any title rows); Arrow's streaming reader then reads the data records from the byte after
the header, every column as a string, transcoding GB18030 and UTF-16 on the fly, so memory stays at
a few blocks whatever the size of the file. A record longer than a block (a 50 MB cell, or a quote
left open for megabytes) cannot be parsed that way and rejects the delivery (``RECORD_TOO_LARGE``):
no catalog field is anywhere near that long.

Row numbers: the clerk's row of a record is its record number in the file (header = its own row, a
record whose quoted cells contain line breaks counts once, as in Excel). Arrow numbers records from
where it starts reading, including the ones it skips, so a data record's row is the number of
records before the data plus its 1-based index in the data. Records whose column count differs from
the header's ("ragged", usually an unquoted delimiter inside a cell) are handed to an invalid-row
handler, which reports them in ``RawDelivery.bad_rows`` and remembers their numbers so that the rows
after them keep their true numbers. Arrow only reports those numbers when it parses on one thread,
which costs nothing here: its streaming reader parses block by block either way.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from etl.catalog import Dataset
from etl.conform.headers import HeaderMatcher
from etl.read import rejections
from etl.read.delivery import BadRows, RawDelivery, column_names, drop_blank_rows, make_batch, rebatch
from etl.read.encoding import TextEncoding
from etl.read.header import LOOKAHEAD_ROWS, HeaderLocation, expected_titles, find_header, header_cells
from etl.read.transcode import open_transcoded

SAMPLE_BYTES = 1 << 20
BLOCK_BYTES = 1 << 20
DELIMITERS = (",", "\t")
# Data records looked at after the header: to tell "header only" and a trailing delimiter on data lines.
DATA_PEEK = 50

Records = list[tuple[list[str], int]]  # each record's cells, and the characters read through its end


@dataclass(frozen=True)
class CsvLayout:
    """Where things are in a CSV delivery."""

    delimiter: str
    headers: list[str]
    header_row: int
    records_before_data: int
    data_offset: int


def open_csv(path: Path, dataset: Dataset, encoding: TextEncoding, batch_rows: int) -> RawDelivery:
    layout = locate(path, HeaderMatcher(dataset), encoding)
    return RawDelivery(
        path=path,
        format="csv",
        headers=layout.headers,
        header_row=layout.header_row,
        encoding=encoding.name,
        _stream=partial(_stream, path, layout, encoding, batch_rows),
    )


def locate(path: Path, matcher: HeaderMatcher, encoding: TextEncoding) -> CsvLayout:
    """Find the delimiter, header and start of the data from the first MiB of the file."""
    text, whole = _sample(path, encoding)
    found: tuple[str, HeaderLocation, Records] | None = None
    for delimiter in DELIMITERS:
        records = _records(text, delimiter, whole)
        location = find_header([cells for cells, _ in records], matcher)
        if location is not None and (found is None or location.score > found[1].score):
            found = (delimiter, location, records)
    if found is None:
        if not any(_filled(cells) for cells, _ in _records(text, ",", whole)):
            raise rejections.empty_file()
        raise rejections.header_not_found(matcher.dataset.title, expected_titles(matcher), LOOKAHEAD_ROWS)

    delimiter, location, records = found
    first_data = location.index + location.rows
    headers = header_cells(records[location.index][0])
    data = [cells for cells, _ in records[first_data:] if _filled(cells)]
    if not data and whole:
        raise rejections.no_data_rows(matcher.dataset.title)
    headers = _fit_width(headers, data)
    chars_before_data = records[first_data - 1][1]
    return CsvLayout(
        delimiter=delimiter,
        headers=headers,
        header_row=location.index + 1,
        records_before_data=first_data,
        data_offset=encoding.bom + len(text[:chars_before_data].encode(encoding.codec)),
    )


def _sample(path: Path, encoding: TextEncoding) -> tuple[str, bool]:
    """The first MiB as text, and whether that is the whole file."""
    with path.open("rb") as handle:
        handle.seek(encoding.bom)
        raw = handle.read(SAMPLE_BYTES + 1)
    whole = len(raw) <= SAMPLE_BYTES
    decoder = codecs.getincrementaldecoder(encoding.codec)(errors="strict")
    try:
        return decoder.decode(raw[:SAMPLE_BYTES], final=whole), whole
    except UnicodeDecodeError as exc:
        raise rejections.undecodable(encoding.bom + exc.start) from exc


def _records(text: str, delimiter: str, whole: bool) -> Records:
    """The first records of ``text``, each with the number of characters read through its end."""
    lines = io.StringIO(text, newline="")
    consumed = 0

    def counted() -> Iterator[str]:
        nonlocal consumed
        for line in lines:
            consumed += len(line)
            yield line

    records: Records = []
    try:
        for cells in csv.reader(counted(), delimiter=delimiter):
            records.append((cells, consumed))
            if len(records) > LOOKAHEAD_ROWS + 2 + DATA_PEEK:
                break
    except csv.Error as exc:
        if not records:
            raise rejections.malformed_csv(str(exc)) from exc
    if records and not whole and records[-1][1] == len(text):
        records.pop()  # may be cut off by the end of the sample
    return records


def _filled(cells: list[str]) -> bool:
    return any(cell.strip() for cell in cells)


def _fit_width(headers: list[str], data: list[list[str]]) -> list[str]:
    """The header, widened or narrowed by blank trailing columns to the width of every data record.

    Some systems end every data line with a delimiter and not the header, or the header and not the
    data lines; without this every record would be ragged. Only blank cells are added or dropped.

    >>> _fit_width(["a", "b"], [["1", "2", ""], ["3", "4", " "]]), _fit_width(["a", "b", ""], [["1", "2"]])
    (['a', 'b', ''], ['a', 'b'])
    """
    widths = {len(cells) for cells in data}
    if len(widths) != 1 or (width := widths.pop()) == len(headers):
        return headers
    if width > len(headers):
        blank = all(not "".join(cells[len(headers) :]).strip() for cells in data)
        return headers + [""] * (width - len(headers)) if blank else headers
    return headers[:width] if not "".join(headers[width:]) else headers


def _stream(
    path: Path, layout: CsvLayout, encoding: TextEncoding, batch_rows: int, bad_rows: BadRows
) -> Iterator[pa.RecordBatch]:
    skipped: deque[int] = deque()
    width = len(layout.headers)

    def on_invalid_row(row: pacsv.InvalidRow) -> str:
        if row.number is None:  # pragma: no cover - only with use_threads=True
            raise RuntimeError("the CSV reader did not report the number of an invalid row")
        skipped.append(row.number)
        if row.text.replace(layout.delimiter, "").replace('"', "").strip():
            bad_rows.append(
                (
                    layout.records_before_data + row.number,
                    rejections.ragged_row_message(
                        layout.records_before_data + row.number,
                        row.actual_columns,
                        row.expected_columns,
                        layout.delimiter,
                        len(row.text.splitlines()),
                    ),
                )
            )
        return "skip"

    names = column_names(width)
    source, arrow_encoding = _open_data(path, layout.data_offset, encoding)
    try:
        reader = pacsv.open_csv(
            source,
            read_options=pacsv.ReadOptions(
                column_names=names,
                use_threads=False,
                block_size=BLOCK_BYTES,
                encoding=arrow_encoding,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=layout.delimiter,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=on_invalid_row,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
                # The transcoder (GB18030, UTF-16) only produces valid UTF-8; UTF-8 is checked here
                # unless etl.read.encoding has checked the whole file already.
                check_utf8=encoding.codec == "utf-8" and not encoding.verified,
            ),
        )
        next_record = 1
        for batch in rebatch(reader, batch_rows):
            numbers, next_record = record_numbers(next_record, batch.num_rows, skipped)
            rows = pa.array(numbers + layout.records_before_data, pa.int64())
            batch = drop_blank_rows(make_batch(batch.columns, rows))
            if batch.num_rows:
                yield batch
    except pa.ArrowInvalid as exc:
        detail = str(exc).splitlines()[0]
        if "UTF8" in detail or "UTF-8" in detail:
            raise rejections.undecodable(None) from exc
        if "straddl" in detail:  # one record longer than a block: a giant cell or a quote left open
            raise rejections.record_too_large(BLOCK_BYTES) from exc
        raise rejections.malformed_csv(detail) from exc
    except UnicodeDecodeError as exc:
        raise rejections.undecodable(None) from exc
    finally:
        source.close()


def _open_data(path: Path, offset: int, encoding: TextEncoding) -> tuple[Any, str]:
    """The file from ``offset`` on, and the encoding Arrow is to transcode it from: GB18030 goes
    through iconv outside the GIL where the C library has it (``etl.read.transcode``)."""
    if encoding.codec == "gb18030":
        handle = path.open("rb")
        handle.seek(offset)
        transcoded = open_transcoded(handle, encoding.codec)
        if transcoded is not None:
            return transcoded, "utf8"
        handle.close()
    source = pa.OSFile(str(path))
    source.seek(offset)
    return source, "utf8" if encoding.codec == "utf-8" else encoding.codec


def record_numbers(start: int, count: int, skipped: deque[int]) -> tuple[np.ndarray, int]:
    """The numbers of the next ``count`` records read, from ``start`` on, passing over the numbers
    of records the reader skipped; returns them and the number after the last.

    >>> record_numbers(1, 4, deque([2, 3, 9]))
    (array([1, 4, 5, 6]), 7)
    """
    end = start + count
    gaps = []
    while skipped and skipped[0] < end:
        number = skipped.popleft()
        if number >= start:
            gaps.append(number - start)
            end += 1
    numbers = np.arange(start, end, dtype=np.int64)
    return (np.delete(numbers, gaps) if gaps else numbers), end
