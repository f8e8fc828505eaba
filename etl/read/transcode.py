"""GB18030 -> UTF-8 for the CSV reader, with the C library's iconv, outside the GIL.

Arrow transcodes a non-UTF-8 CSV through Python's codec, which holds the GIL while it decodes (about
250 MB/s for GB18030): the batch being conformed on the main thread then waits for it, and a GBK file
takes half again as long as the same file in UTF-8. glibc's iconv decodes GB18030 faster, and ctypes
releases the GIL for the call, so the reader thread transcodes while the main thread works.

Strict like the codec: an invalid sequence raises ``UnicodeDecodeError`` (the readers turn it into
``UNDECODABLE``). Where iconv has no GB18030 (a C library without it), ``open_transcoded`` returns
None and Arrow's own transcoding is used.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import io
from functools import cache
from typing import BinaryIO

CHUNK_BYTES = 1 << 20
_FAILED = ctypes.c_size_t(-1).value


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:  # pragma: no cover - every Linux has a C library
        return None
    libc = ctypes.CDLL(name, use_errno=True)
    libc.iconv_open.restype = ctypes.c_void_p
    libc.iconv_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.iconv.restype = ctypes.c_size_t
    libc.iconv.argtypes = [
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_char_p),
        ctypes.POINTER(ctypes.c_size_t),
        ctypes.POINTER(ctypes.c_char_p),
        ctypes.POINTER(ctypes.c_size_t),
    ]
    libc.iconv_close.argtypes = [ctypes.c_void_p]
    return libc


class IconvReader(io.RawIOBase):
    """A readable binary stream of UTF-8 decoded from ``raw`` in ``codec`` by iconv."""

    def __init__(self, raw: BinaryIO, codec: str, handle: int, libc: ctypes.CDLL) -> None:
        super().__init__()
        self._raw = raw
        self._codec = codec
        self._handle = handle
        self._libc = libc
        self._pending = b""  # input bytes of a character cut by the end of a chunk
        self._output = bytearray()
        self._consumed = 0  # input bytes converted so far, for error offsets
        self._eof = False
        self._buffer = ctypes.create_string_buffer(0)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        wanted = len(buffer)
        while len(self._output) < wanted and not self._eof:
            self._fill()
        count = min(wanted, len(self._output))
        buffer[:count] = self._output[:count]
        del self._output[:count]
        return count

    def _fill(self) -> None:
        chunk = self._raw.read(CHUNK_BYTES)
        if not chunk:
            self._eof = True
            if self._pending:
                raise self._error(len(self._pending), "incomplete multibyte sequence")
            return
        data = self._pending + chunk
        converted, left = self._convert(data)
        self._output += converted
        self._pending = data[len(data) - left :] if left else b""
        self._consumed += len(data) - left

    def _convert(self, data: bytes) -> tuple[bytes, int]:
        """iconv over ``data``: the UTF-8 it gives, and how many bytes at the end it left (a cut
        character). One GB18030 byte never takes more than two bytes of UTF-8."""
        size = 2 * len(data) + 16
        if len(self._buffer) < size:
            self._buffer = ctypes.create_string_buffer(size)
        in_ptr, in_left = ctypes.c_char_p(data), ctypes.c_size_t(len(data))
        out_ptr, out_left = ctypes.c_char_p(ctypes.addressof(self._buffer)), ctypes.c_size_t(size)
        result = self._libc.iconv(
            self._handle,
            ctypes.byref(in_ptr),
            ctypes.byref(in_left),
            ctypes.byref(out_ptr),
            ctypes.byref(out_left),
        )
        written = size - out_left.value
        if result == _FAILED:
            code = ctypes.get_errno()
            if code == errno.EILSEQ:
                raise self._error(len(data) - in_left.value, "illegal multibyte sequence")
            if code != errno.EINVAL:  # EINVAL: a character cut at the end, completed by the next chunk
                raise OSError(code, f"iconv failed: {errno.errorcode.get(code, code)}")
        return ctypes.string_at(self._buffer, written), in_left.value

    def _error(self, position: int, reason: str) -> UnicodeDecodeError:
        at = self._consumed + position
        return UnicodeDecodeError(self._codec, b"", 0, 1, f"{reason} at byte {at}")

    def close(self) -> None:
        if not self.closed:
            self._libc.iconv_close(self._handle)
            self._raw.close()
        super().close()


def open_transcoded(raw: BinaryIO, codec: str) -> IconvReader | None:
    """``raw`` as UTF-8 through iconv, or None when iconv cannot decode ``codec`` here."""
    libc = _libc()
    if libc is None:  # pragma: no cover
        return None
    handle = libc.iconv_open(b"UTF-8", codec.upper().encode("ascii"))
    if handle is None or handle == _FAILED:
        return None
    return IconvReader(raw, codec, handle, libc)
