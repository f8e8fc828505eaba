"""Which encoding a text delivery is in, decided by decoding it, not by guessing.

Departments save CSV from Excel or WPS on Chinese Windows (GBK, the ANSI code page 936), as
"CSV UTF-8" (UTF-8 with a byte order mark), or export it from systems (UTF-8, sometimes GB18030).
The decision, in this order:

1. a byte order mark: UTF-8 (``utf-8-sig``), or UTF-16 (Excel's "Unicode text");
2. the file decodes as strict UTF-8: ``utf-8``. The check runs in chunks through Arrow's UTF-8
   validation, carrying a multi-byte character cut by a chunk boundary over to the next chunk;
3. otherwise GB18030 (a superset of GBK, so GBK files qualify), decoded strictly;
4. a file that fails both is rejected (``UNDECODABLE``) with the offset where the encoding that got
   further failed.

Both checks cover the first ``CHUNK_BYTES`` of the file up front; the readers decode the rest as
strictly while they stream (Arrow's UTF-8 check, the GB18030 transcoder, Python's decoder for JSON),
so a bad byte further on rejects the delivery from ``batches()`` instead. Checking a large file whole
before reading it would decode it twice. The exception is a file whose first chunk holds no Chinese
at all: whether it is UTF-8 is then checked to the end before deciding (``TextEncoding.verified``
says whether the whole file has been checked).

A file that decodes as UTF-8 through ``UTF8_EVIDENCE`` Chinese characters and then fails is UTF-8
with something else pasted in (a GBK fragment copied from another file), not GBK: it is rejected at
the place where UTF-8 fails instead of being read as GB18030, which would turn all of its UTF-8 text
into mojibake. GBK text practically never passes for UTF-8 that long: a GBK character happens to be a
valid UTF-8 sequence about one time in six, and the first one that is not stops the UTF-8 check.

No statistical detector is used: charset-normalizer and its kind can call a short GBK file Big5
(both are double-byte encodings over the same byte ranges), and a wrong guess turns every name into
mojibake that then loads as if it were valid. Strict decoding cannot make that mistake for UTF-8, and
GB18030 is the only legacy encoding departments in mainland China use.

>>> import tempfile
>>> with tempfile.NamedTemporaryFile(suffix=".csv") as f:
...     _ = f.write("名称,日期\\n柳州螺蛳粉有限公司,2026-10-08\\n".encode("gbk")); f.flush()
...     detect_encoding(Path(f.name))
TextEncoding(name='gb18030', codec='gb18030', bom=0, verified=True)
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from etl.read import rejections

CHUNK_BYTES = 1 << 24
# Chinese characters decoded as UTF-8 before a failure that make the file UTF-8 (see above).
UTF8_EVIDENCE = 32


@dataclass(frozen=True)
class TextEncoding:
    """``name`` as reported (``utf-8-sig``, ``utf-8``, ``gb18030``, ``utf-16-le``, ``utf-16-be``),
    ``codec`` for the bytes after the ``bom`` bytes at the start of the file."""

    name: str
    codec: str
    bom: int
    verified: bool = True


def detect_encoding(path: Path) -> TextEncoding:
    """Decide the encoding of a text file; raises ``DeliveryRejected(UNDECODABLE)``."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return TextEncoding("utf-8-sig", "utf-8", len(codecs.BOM_UTF8))
    if head.startswith(codecs.BOM_UTF16_LE):
        return TextEncoding("utf-16-le", "utf-16-le", 2)
    if head.startswith(codecs.BOM_UTF16_BE):
        return TextEncoding("utf-16-be", "utf-16-be", 2)
    whole = path.stat().st_size <= CHUNK_BYTES
    utf8_failed_at = first_invalid_utf8(path, limit=CHUNK_BYTES)
    if utf8_failed_at is None:
        if whole or multibyte_chars_before(path, CHUNK_BYTES) >= UTF8_EVIDENCE:
            return TextEncoding("utf-8", "utf-8", 0, verified=whole)
        utf8_failed_at = first_invalid_utf8(path)  # no Chinese to go by yet: check on
        if utf8_failed_at is None:
            return TextEncoding("utf-8", "utf-8", 0)
    if multibyte_chars_before(path, utf8_failed_at) >= UTF8_EVIDENCE:
        raise rejections.undecodable(utf8_failed_at)
    gb18030_failed_at = first_undecodable(path, "gb18030", limit=CHUNK_BYTES)
    if gb18030_failed_at is None:
        return TextEncoding("gb18030", "gb18030", 0, verified=whole)
    # The encoding that decodes further is the one the file is in: say where that one failed.
    raise rejections.undecodable(max(utf8_failed_at, gb18030_failed_at))


def first_invalid_utf8(path: Path, chunk_bytes: int = CHUNK_BYTES, limit: int | None = None) -> int | None:
    """Offset of the first byte that is not valid UTF-8, or None when the whole file is (with
    ``limit``: when about the first ``limit`` bytes are; a character cut at the limit is no error).

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as f:
    ...     _ = f.write("中文".encode() + b"\\xff"); f.flush()
    ...     first_invalid_utf8(Path(f.name), chunk_bytes=4)
    6
    """
    offset = 0
    carry = b""
    if limit is not None:
        chunk_bytes = min(chunk_bytes, limit)
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_bytes):
            data = carry + chunk if carry else chunk
            complete = _complete_prefix(data)
            checked = memoryview(data)[:complete]
            if not _valid_utf8(checked):
                return offset + _error_offset(bytes(checked))
            carry = data[complete:]
            offset += complete
            if limit is not None and offset >= limit:
                return None
    return offset if carry else None


def first_undecodable(
    path: Path, codec: str, chunk_bytes: int = CHUNK_BYTES, limit: int | None = None
) -> int | None:
    """Offset of the first byte ``codec`` cannot decode (strictly), or None; with ``limit``, only
    about the first ``limit`` bytes are looked at (a character cut at the limit is not an error)."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    offset = 0
    with path.open("rb") as handle:
        while True:
            if limit is not None and offset >= limit:
                return None
            chunk = handle.read(chunk_bytes if limit is None else min(chunk_bytes, limit - offset))
            pending = len(decoder.getstate()[0])  # bytes of a character begun in the last chunk
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return offset - pending + exc.start
            if not chunk:
                return None
            offset += len(chunk)


def multibyte_chars_before(path: Path, end: int, enough: int = UTF8_EVIDENCE) -> int:
    """How many multi-byte UTF-8 characters start before ``end`` (counting stops at ``enough``)."""
    count = 0
    offset = 0
    with path.open("rb") as handle:
        while offset < end and count < enough:
            chunk = handle.read(min(1 << 20, end - offset))
            if not chunk:
                break
            count += int(np.count_nonzero(np.frombuffer(chunk, np.uint8) >= 0xC2))
            offset += len(chunk)
    return count


def _complete_prefix(data: bytes) -> int:
    """Length of ``data`` without a multi-byte UTF-8 character cut off at its end."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 == 0x80:  # continuation byte: keep looking for the lead byte
            continue
        needed = 1 if byte < 0x80 else 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
        return len(data) - back if needed > back else len(data)
    return len(data)


def _valid_utf8(data: memoryview) -> bool:
    """Arrow's UTF-8 validation over ``data`` as one string value, without copying it."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64).tobytes())
    array = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        array.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _error_offset(data: bytes) -> int:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return len(data)  # pragma: no cover - Arrow and Python agree on what UTF-8 is
