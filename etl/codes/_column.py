"""A column of strings as numpy sees it: its buffers, its normalisation, and its byte matrix.

The vectorised checks read a whole Arrow string array through its two buffers (offsets and UTF-8
bytes) without copying them. Codes are short ASCII strings and nearly all of them arrive clean, so
every step here first proves with one cheap pass over the bytes that a column needs no work, and
otherwise works only on the few values that do: the cost follows the amount of dirt, not the size
of the column.

>>> import pyarrow as pa
>>> normalised, changed = normalise_column(pa.array(['91ab', None, ' ９１－ｘ ', '45']))
>>> normalised.to_pylist(), changed.tolist()
(['91AB', None, '91X', '45'], [True, False, True, False])
>>> length, m = byte_matrix(pa.array(['91AB', '中9']), 4)
>>> length.tolist(), m.tobytes()
([4, 2], b'91AB\\x7f9\\x00\\x00')
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.codes import normalise

# normalise.DROPPED as a regex character class, for Arrow's RE2.
_DROPPED = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in normalise.DROPPED) + "]"
# In the byte matrix a non-ASCII character takes one byte, so that byte positions are character
# positions; the byte is outside every code's alphabet.
SHADOW_BYTE = 0x7F


def buffers(array: pa.StringArray) -> tuple[np.ndarray, np.ndarray]:
    """The offsets (rebased to 0) and the bytes they point into, without copying."""
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[array.offset : array.offset + len(array) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    data = data[offsets[0] : offsets[-1]]
    return (offsets - offsets[0] if offsets[0] else offsets), data


def from_buffers(like: pa.StringArray, offsets: np.ndarray, data: np.ndarray) -> pa.StringArray:
    """A string array with the validity of ``like`` and the given (int32) offsets and bytes."""
    validity = like.is_valid().buffers()[1] if like.null_count else None
    return pa.StringArray.from_buffers(
        len(like), pa.py_buffer(offsets), pa.py_buffer(data), validity, like.null_count
    )


def spread_offsets(rows: np.ndarray, offsets: np.ndarray, n: int) -> np.ndarray:
    """The (int32) offsets of an ``n``-value array whose values at ``rows`` (ascending) have the
    ``offsets`` of another array, and whose other values are empty."""
    # A step function with a step after each of ``rows``: with few rows among many, np.repeat lays
    # it out several times faster than a cumsum over all n lengths.
    steps = np.diff(np.concatenate([[0], rows + 1, [n + 1]]))
    return np.repeat(offsets.astype(np.int32), steps)


def normalise_column(array: pa.StringArray) -> tuple[pa.StringArray, np.ndarray]:
    """``etl.codes.normalise.normalise`` over a column; also tells which values it changed."""
    offsets, data = buffers(array)
    changed = np.zeros(len(array), dtype=bool)
    # Bytes from "0" to "Z" are never changed, and two reductions prove that a column holds no other.
    if not len(data) or (data.min() >= ord("0") and data.max() <= ord("Z")):
        return array, changed
    rows = _rows_holding(_positions_outside(data, ord("0"), ord("Z")), offsets)
    before = array.take(pa.array(rows))
    after = pc.ascii_upper(pc.replace_substring_regex(pc.utf8_normalize(before, form="NFKC"), _DROPPED, ""))
    differs = pc.fill_null(pc.not_equal(before, after), False)
    # Some of those bytes are left as they are ("." or "+" in 9.1E+17, Chinese text).
    rows = rows[differs.to_numpy(zero_copy_only=False)]
    if not len(rows):
        return array, changed
    changed[rows] = True
    return _replace_rows(array, offsets, data, rows, after.filter(differs)), changed


def byte_matrix(
    array: pa.StringArray, width: int, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Length in characters of every value, and the first ``width`` characters of the values at
    ``rows`` (ascending; default: all) as a zero-padded ``uint8`` matrix, one value per row, with
    each non-ASCII character as SHADOW_BYTE."""
    offsets, data = buffers(array)
    length = np.diff(offsets)
    starts = offsets[:-1] if rows is None else offsets[rows]
    m = _matrix(starts, length if rows is None else length[rows], data, width)
    if data.max(initial=0) < 0x80:
        return length, m
    # Only the values holding non-ASCII characters are measured and laid out again, from shadows.
    wide = _rows_holding(_positions_outside(data, 0, 0x7F), offsets)
    shadows = pc.replace_substring_regex(array.take(pa.array(wide)), "[^\\x00-\\x7f]", chr(SHADOW_BYTE))
    shadow_offsets, shadow_data = buffers(shadows)
    length[wide] = np.diff(shadow_offsets)
    # Where each of them is in the matrix, if it is there at all (a null can hold bytes).
    at = wide if rows is None else np.searchsorted(rows, wide)
    laid_out = at < len(m)
    if rows is not None:
        laid_out[laid_out] = rows[at[laid_out]] == wide[laid_out]
    m = m if m.flags.writeable else m.copy()
    m[at[laid_out]] = _matrix(shadow_offsets[:-1][laid_out], length[wide[laid_out]], shadow_data, width)
    return length, m


def _positions_outside(data: np.ndarray, low: int, high: int) -> np.ndarray:
    """Positions of the bytes outside ``low..high``, ascending."""
    # A megabyte at a time keeps the temporaries in cache: twice as fast as one pass over a column.
    chunk = 1 << 20
    found = []
    for start in range(0, len(data), chunk):
        # One subtraction and one comparison: bytes below ``low`` wrap around to large values.
        found.append(np.flatnonzero((data[start : start + chunk] - np.uint8(low)) > high - low) + start)
    return np.concatenate(found) if found else np.zeros(0, dtype=np.intp)


def _rows_holding(positions: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The rows the ascending byte ``positions`` belong to, ascending, each once."""
    # Same dtype on both sides, or searchsorted converts the (long) offsets on every call.
    rows = np.searchsorted(offsets, positions.astype(offsets.dtype), side="right") - 1
    return rows[np.diff(rows, prepend=-1) != 0]


def _replace_rows(
    array: pa.StringArray, offsets: np.ndarray, data: np.ndarray, rows: np.ndarray, values: pa.StringArray
) -> pa.StringArray:
    """``array`` with the values at ``rows`` (ascending) replaced by ``values``."""
    old_length = np.diff(offsets)
    new_offsets, new_data = buffers(values)
    new_length = np.diff(new_offsets)
    if (new_length > old_length[rows]).any():
        # NFKC lengthens a few rare characters (ligatures, some symbols): the general route.
        mask = np.zeros(len(array), dtype=bool)
        mask[rows] = True
        return pc.replace_with_mask(array, pa.array(mask), values)
    # Normalisation only ever shortened or kept these values here: the bytes a value lost are
    # dropped from the end of its old bytes, and the new value is written over the rest. One filter
    # of the bytes (copying them) instead of a new layout of the whole column.
    shorter = old_length[rows] - new_length
    drop = _ranges(offsets[rows] + new_length, shorter)
    out = _without(data, drop) if drop.size else data.copy()
    # Every offset after a shortened value moves left by the bytes dropped so far.
    out_offsets = offsets - spread_offsets(rows, np.concatenate([[0], np.cumsum(shorter)]), len(array))
    out[_ranges(out_offsets[rows], new_length)] = new_data
    return from_buffers(array, out_offsets, out)


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions ``start .. start + length - 1`` of every range, concatenated."""
    ends = np.cumsum(lengths)
    return np.repeat(starts - (ends - lengths), lengths) + np.arange(ends[-1] if len(ends) else 0)


def _without(data: np.ndarray, drop: np.ndarray) -> np.ndarray:
    """``data`` without the bytes at the ascending positions ``drop``."""
    # Arrow's filter takes a bitmap and is three times faster than numpy's boolean indexing; the
    # bitmap's cleared bits are ORed per byte, since several dropped positions can share one.
    keep = np.full((len(data) + 7) // 8, 0xFF, dtype=np.uint8)
    byte = drop >> 3
    first = np.flatnonzero(np.diff(byte, prepend=-1))
    keep[byte[first]] &= ~np.bitwise_or.reduceat(np.left_shift(1, drop & 7).astype(np.uint8), first)
    mask = pa.Array.from_buffers(pa.bool_(), len(data), [None, pa.py_buffer(keep)])
    kept = np.frombuffer(pc.filter(pa.array(data), mask).buffers()[1], dtype=np.uint8)
    # The filter's output is a fresh buffer; numpy sees it as writable unless Arrow says otherwise.
    return kept[: len(data) - len(drop)] if kept.flags.writeable else kept[: len(data) - len(drop)].copy()


def _matrix(starts: np.ndarray, lengths: np.ndarray, data: np.ndarray, width: int) -> np.ndarray:
    """The first ``width`` bytes of the strings at ``starts``, zero-padded, one string per row."""
    if len(lengths) and len(data) == width * len(lengths) and (lengths == width).all():
        return data.reshape(len(lengths), width)
    # Record i of ``records`` is data[i : i + width], a view; picking each string's start copies
    # ``width`` bytes per row in one call (as one opaque item: faster than rows of a 2-D strided
    # view), and only the shorter strings need the padding fixed.
    # The last few strings would read past the end: they are read from a padded copy of the tail.
    tail = max(len(data) - width + 1, 0)
    padded = np.concatenate([data[tail:], np.zeros(width, dtype=np.uint8)])
    inside = starts < tail
    if inside.all():
        m = _records(data, width)[starts].view(np.uint8).reshape(-1, width)
    else:
        m = np.empty((len(starts), width), dtype=np.uint8)
        m[inside] = _records(data, width)[starts[inside]].view(np.uint8).reshape(-1, width)
        m[~inside] = _records(padded, width)[starts[~inside] - tail].view(np.uint8).reshape(-1, width)
    short = np.flatnonzero(lengths < width)
    m[short] = np.where(np.arange(width) < lengths[short, None], m[short], 0)
    return m


def _records(data: np.ndarray, width: int) -> np.ndarray:
    """Every ``width`` consecutive bytes of ``data`` as one opaque item: item i is data[i : i + width]."""
    return np.ndarray((max(len(data) - width + 1, 0),), np.dtype((np.void, width)), data, strides=(1,))
