"""The vectorised check: a column of codes in, a column of verdicts out.

``check`` normalises a whole Arrow string array with a few numpy passes over its byte buffer, lays
the codes out as an n×18 byte matrix, and lets each kind's ``validate_matrix`` run the same guard
clauses as its scalar ``validate``. Python loops run over columns, reasons or distinct character
positions, never over rows; a million USCCs take a small fraction of a second.

Absent values are not errors here (whether a field is required is the catalog's business): a null,
or a value that is blank once normalised, gives a verdict whose fields are all null. Only the
present values are laid out and checked, so a column of nulls costs less than a column of codes.

``kind="auto"`` tells the kinds apart by shape:

- 9 characters: organisation code;
- 15 characters: registration number, unless it fails as one and passes as an old identity number
  (a valid registration number is never turned into an 18-digit identity number);
- 18 characters: identity number if it passes as one, or if it only fails on the check character
  or a future birth date while it is no valid USCC; otherwise USCC. An all-digit string can be
  both; when it passes both checks it is taken as an identity number, because a USCC treated as
  personal data is merely masked, while an identity number treated as a USCC would be shown;
- anything else: kind ``unknown``, reason ``UNRECOGNISED_CODE`` (or ``SCIENTIFIC_NOTATION``).

A caller who knows the column holds identity numbers should say ``kind="idcard"``.

>>> import pyarrow as pa
>>> v = check(pa.array(['91110000600037341L', '91110000600037341N', None]), 'uscc')
>>> v.valid.to_pylist(), v.reason.to_pylist()
([True, False, None], [None, 'USCC_BAD_CHECK', None])
>>> v.message[1].as_py()[:18]
'统一社会信用代码校验位错误，应为 L'
>>> check(pa.array(['60003734-1', '360426910101007']), 'auto').kind.to_pylist()
['orgcode', 'idcard']
>>> mask_idcards(pa.array(['360426199101010071'])).to_pylist()
['3604**********0071']
"""

from __future__ import annotations

import datetime
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.codes import idcard, normalise, orgcode, reasons, regno, uscc
from etl.codes._column import buffers, byte_matrix, normalise_column, spread_offsets
from etl.codes._matrix import Findings, reason_id

KINDS: Final = ("uscc", "orgcode", "regno", "idcard")
AUTO: Final = "auto"
UNKNOWN: Final = "unknown"
WIDTH: Final = 18

_MODULES: Final[dict[str, ModuleType]] = {
    "uscc": uscc,
    "orgcode": orgcode,
    "regno": regno,
    "idcard": idcard,
}
_KIND_NAMES = pa.array([*KINDS, UNKNOWN])
_REASON_NAMES = pa.array([None, *reasons.ALL], pa.string())

Values = pa.Array | pa.ChunkedArray | Sequence[str | None]


@dataclass(frozen=True)
class CodeVerdicts:
    """One verdict per input value, as equal-length Arrow arrays (null where the value was absent).

    ``kind``                the kind checked (``unknown`` when auto-detection found none)
    ``normalised``          the code after normalisation (an old identity number in 18 digits)
    ``valid``               whether the code passed every check
    ``normalised_changed``  whether normalisation changed the input
    ``reason``              reason code of etl.codes.reasons, null when valid
    ``message``             Chinese message for a department clerk, null when valid
    """

    kind: pa.Array
    normalised: pa.Array
    valid: pa.Array
    normalised_changed: pa.Array
    reason: pa.Array
    message: pa.Array

    def __len__(self) -> int:
        return len(self.valid)

    def to_table(self) -> pa.Table:
        """The verdicts as a table, one column per field, in the order of the fields above."""
        return pa.table(
            {
                "kind": self.kind,
                "normalised": self.normalised,
                "valid": self.valid,
                "normalised_changed": self.normalised_changed,
                "reason": self.reason,
                "message": self.message,
            }
        )


@dataclass(frozen=True)
class _Codes:
    """A normalised column: the strings, and the byte matrix the checks read.

    The matrix has a row for each present value only (``rows``: their positions in the column, or
    None when every value is present); the other arrays have one entry per value of the column.
    """

    normalised: pa.StringArray
    changed: np.ndarray
    present: np.ndarray
    length: np.ndarray
    matrix: np.ndarray
    rows: np.ndarray | None

    def in_matrix(self, per_value: np.ndarray) -> np.ndarray:
        """The entries of a per-value array that belong to the rows of the matrix."""
        return per_value if self.rows is None else per_value[self.rows]

    def spread(self, findings: Findings) -> Findings:
        """Findings about the matrix rows as findings about every value (none for absent ones)."""
        if self.rows is None:
            return findings
        every = Findings.empty(len(self.length))
        every.put(self.rows, findings)
        return every


def check(
    values: Values, kind: str, *, regno: Values | None = None, today: datetime.date | None = None
) -> CodeVerdicts:
    """Check every value of a string column as a code of ``kind`` (one of KINDS, or ``"auto"``).

    Args:
        values: the codes, as an Arrow array or chunked array of strings (nulls allowed), or a list.
        kind: ``uscc``, ``orgcode``, ``regno``, ``idcard``, or ``auto`` to decide per value by shape.
        regno: for USCCs, the same records' business registration numbers; the placeholder
            ``00000000000000000X`` is valid only where this is a valid registration number.
        today: the day after which a birth date is in the future (default: today in China).

    Returns:
        The verdicts, one per value, in input order.
    """
    if kind not in (*KINDS, AUTO):
        raise ValueError(f"kind must be one of {', '.join((*KINDS, AUTO))}, not {kind!r}")
    codes = _prepare(_as_strings(values))
    regno_valid = None if regno is None else _valid_regnos(_as_strings(regno), len(codes.length))
    length = codes.in_matrix(codes.length)
    with_regno = None if regno_valid is None else codes.in_matrix(regno_valid)
    if kind == AUTO:
        matrix_kinds, findings = _detect_and_check(codes.matrix, length, with_regno, today)
        kinds = np.full(len(codes.length), len(KINDS), dtype=np.int8)  # absent values show no kind
        kinds[codes.present] = matrix_kinds
    else:
        kinds = np.full(len(codes.length), KINDS.index(kind), dtype=np.int8)
        findings = _check_kind(kind, codes.matrix, length, with_regno, today)
    return _verdicts(codes, kinds, codes.spread(findings))


def mask_idcards(values: Values) -> pa.Array:
    """``etl.codes.idcard.mask`` over a column: normalise, then keep only the first and last four."""
    codes = normalise_array(values)
    long = pc.greater(pc.utf8_length(codes), 8)
    middle = pc.replace_substring_regex(pc.utf8_slice_codeunits(codes, 4, -4), "(?s).", "*")
    ends = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(codes, 0, 4), middle, pc.utf8_slice_codeunits(codes, -4), ""
    )
    return pc.if_else(long, ends, pc.replace_substring_regex(codes, "(?s).", "*"))


def mask_idcards_in_text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``etl.codes.idcard.mask_in_text`` over a column of free text (names, messages), or of lists of
    texts; nulls stay null. Element by element: meant for findings, not for a million cells.

    >>> mask_idcards_in_text(pa.array([["甲公司", "360426199101010071"], None])).to_pylist()
    [['甲公司', '3604**********0071'], None]
    """
    def masked(value: object) -> object:
        if isinstance(value, list):
            return [masked(v) for v in value]
        return idcard.mask_in_text(value) if isinstance(value, str) else value

    return pa.array([masked(v) for v in values.to_pylist()], values.type)


def _as_strings(values: Values) -> pa.StringArray:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    elif not isinstance(values, pa.Array):
        values = pa.array(values, type=pa.string())
    if values.type != pa.string():
        values = values.cast(pa.string())
    return values


def _prepare(array: pa.StringArray) -> _Codes:
    normalised, changed = normalise_column(array)
    length = np.diff(buffers(normalised)[0])
    present = length > 0
    if normalised.null_count:
        present &= normalised.is_valid().to_numpy(zero_copy_only=False)
    rows = None if present.all() else np.flatnonzero(present)
    length, matrix = byte_matrix(normalised, WIDTH, rows)
    return _Codes(normalised, changed, present, length, matrix, rows)


def _valid_regnos(values: pa.StringArray, n: int) -> np.ndarray:
    if len(values) != n:
        raise ValueError(f"regno has {len(values)} values for {n} codes")
    codes = _prepare(values)
    findings = codes.spread(regno.validate_matrix(codes.matrix, codes.in_matrix(codes.length)))
    return (findings.reason == 0) & codes.present


def _check_kind(
    kind: str,
    m: np.ndarray,
    length: np.ndarray,
    regno_valid: np.ndarray | None,
    today: datetime.date | None,
) -> Findings:
    if kind == "uscc":
        return uscc.validate_matrix(m, length, regno_valid)
    if kind == "idcard":
        return idcard.validate_matrix(m, length, today)
    return _MODULES[kind].validate_matrix(m, length)


def _detect_and_check(
    m: np.ndarray, length: np.ndarray, regno_valid: np.ndarray | None, today: datetime.date | None
) -> tuple[np.ndarray, Findings]:
    """Choose a kind per row by shape (see the module docstring) and check it as that kind."""
    kinds = np.full(len(length), len(KINDS), dtype=np.int8)
    findings = Findings.empty(len(length))
    findings.fail(~np.isin(length, (orgcode.LENGTH, regno.LENGTH, uscc.LENGTH)), reasons.UNRECOGNISED_CODE)

    rows = np.flatnonzero(length == orgcode.LENGTH)
    kinds[rows] = KINDS.index("orgcode")
    findings.put(rows, orgcode.validate_matrix(m[rows], length[rows]))

    rows = np.flatnonzero(length == regno.LENGTH)
    as_regno = regno.validate_matrix(m[rows], length[rows])
    as_idcard = idcard.validate_matrix(m[rows], length[rows], today)
    pick_idcard = (as_idcard.reason == 0) & (as_regno.reason != 0)
    _choose(rows, pick_idcard, as_idcard, ("regno", as_regno), kinds, findings)

    rows = np.flatnonzero(length == uscc.LENGTH)
    with_regno = None if regno_valid is None else regno_valid[rows]
    as_uscc = uscc.validate_matrix(m[rows], length[rows], with_regno)
    as_idcard = idcard.validate_matrix(m[rows], length[rows], today)
    id_shaped = np.isin(as_idcard.reason, _ID_SHAPED)
    pick_idcard = (as_idcard.reason == 0) | (id_shaped & (as_uscc.reason != 0))
    _choose(rows, pick_idcard, as_idcard, ("uscc", as_uscc), kinds, findings)
    return kinds, findings


# An 18-digit value failing only on these still has every feature of an identity number.
_ID_SHAPED = (0, reason_id(reasons.IDCARD_BAD_CHECK), reason_id(reasons.IDCARD_FUTURE_BIRTHDATE))


def _choose(
    rows: np.ndarray,
    pick_idcard: np.ndarray,
    as_idcard: Findings,
    other: tuple[str, Findings],
    kinds: np.ndarray,
    findings: Findings,
) -> None:
    """For ``rows``, keep the idcard findings where ``pick_idcard``, the other kind's elsewhere."""
    other_kind, other_findings = other
    picked, rest = np.flatnonzero(pick_idcard), np.flatnonzero(~pick_idcard)
    kinds[rows[picked]] = KINDS.index("idcard")
    findings.put(rows[picked], as_idcard.take(picked))
    kinds[rows[rest]] = KINDS.index(other_kind)
    findings.put(rows[rest], other_findings.take(rest))


def _verdicts(codes: _Codes, kinds: np.ndarray, findings: Findings) -> CodeVerdicts:
    present = codes.present
    every = codes.rows is None
    rejected = findings.reason != 0
    if not every:
        rejected &= present
    invalid = np.flatnonzero(rejected)
    reason = findings.reason.copy()
    if invalid.size:
        scientific = pc.match_substring_regex(
            codes.normalised.take(pa.array(invalid)), normalise.SCIENTIFIC_PATTERN
        ).to_numpy(zero_copy_only=False)
        reason[invalid[scientific]] = reason_id(reasons.SCIENTIFIC_NOTATION)
    normalised, changed = _upgrade_old_idcards(codes, kinds, reason)
    # Bitmaps built with numpy: pa.array packs a boolean column ten times slower.
    n = len(reason)
    in_present = None if every else pa.py_buffer(np.packbits(present, bitorder="little"))
    absent = 0 if every else n - int(np.count_nonzero(present))
    if not every:
        normalised = pc.if_else(pa.Array.from_buffers(pa.bool_(), n, [None, in_present]), normalised, None)
    if every and n and (kinds == kinds[0]).all():
        kind = _repeated(_KIND_NAMES[int(kinds[0])].as_py(), n)
    else:
        kind = _KIND_NAMES.take(pa.array(kinds, mask=None if every else ~present))
    in_rejected = pa.py_buffer(np.packbits(rejected, bitorder="little"))
    return CodeVerdicts(
        kind=kind,
        normalised=normalised,
        valid=_booleans(~rejected, in_present, absent),
        normalised_changed=_booleans(changed, in_present, absent),
        reason=_spread(_REASON_NAMES.take(pa.array(reason[invalid])), invalid, in_rejected, n),
        message=_spread(_messages(reason, invalid, findings, codes), invalid, in_rejected, n),
    )


def _booleans(values: np.ndarray, validity: pa.Buffer | None, null_count: int) -> pa.BooleanArray:
    bits = pa.py_buffer(np.packbits(values, bitorder="little"))
    return pa.Array.from_buffers(pa.bool_(), len(values), [validity, bits], null_count)


def _repeated(text: str, n: int) -> pa.StringArray:
    """``text`` ``n`` times, from buffers (pa.repeat takes seven times as long)."""
    raw = text.encode()
    offsets = np.arange(n + 1, dtype=np.int32) * len(raw)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(raw * n))


def _spread(values: pa.StringArray, rows: np.ndarray, validity: pa.Buffer, n: int) -> pa.StringArray:
    """A length-``n`` array with ``values[i]`` at ``rows[i]`` (ascending) and nulls elsewhere;
    ``validity`` is the bitmap of ``rows``."""
    # Built from buffers: with few invalid rows among many, a take() over all n rows would cost
    # more than everything else the verdicts need.
    offsets, data = buffers(values)
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(spread_offsets(rows, offsets, n)), pa.py_buffer(data), validity, n - len(rows)
    )


def _upgrade_old_idcards(
    codes: _Codes, kinds: np.ndarray, reason: np.ndarray
) -> tuple[pa.StringArray, np.ndarray]:
    """Replace valid 15-digit identity numbers by their 18-digit form, and count that as a change."""
    is_idcard = kinds == KINDS.index("idcard")
    if not is_idcard.any():
        return codes.normalised, codes.changed
    old = (codes.length == idcard.OLD_LENGTH) & is_idcard & (reason == 0)
    if not old.any():
        return codes.normalised, codes.changed
    upgraded = idcard.upgrade_matrix(codes.matrix[codes.in_matrix(old)])
    offsets = np.arange(len(upgraded) + 1, dtype=np.int32) * idcard.LENGTH
    replacement = pa.StringArray.from_buffers(
        len(upgraded), pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(upgraded))
    )
    return pc.replace_with_mask(codes.normalised, pa.array(old), replacement), codes.changed | old


def _messages(reason: np.ndarray, invalid: np.ndarray, findings: Findings, codes: _Codes) -> pa.Array:
    """The messages of the ``invalid`` rows, in their order, built per reason from its template."""
    if not invalid.size:
        return pa.array([], pa.string())
    by_reason = np.argsort(reason[invalid], kind="stable")
    order = invalid[by_reason]
    parts = []
    for rid in np.unique(reason[invalid]):
        rows = order[reason[order] == rid]
        parts.append(_format(reasons.ALL[rid - 1], rows, findings, codes))
    return pa.concat_arrays(parts).take(pa.array(np.argsort(by_reason, kind="stable")))


def format_messages(reason: str, values: Mapping[str, pa.Array], n: int) -> pa.Array:
    """``etl.codes.reasons.message`` for ``n`` rows at once; ``values`` holds a string array per field."""
    template = reasons.MESSAGES[reason]
    if not reasons.fields(reason):
        return pa.repeat(pa.scalar(template), n)
    pieces: list[pa.Array | str] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        if literal:
            pieces.append(literal)
        if name:
            pieces.append(values[name])
    return pc.binary_join_element_wise(*pieces, "")


def normalise_array(values: Values) -> pa.StringArray:
    """``etl.codes.normalise.normalise`` over a column (nulls stay null)."""
    return normalise_column(_as_strings(values))[0]


def _format(reason: str, rows: np.ndarray, findings: Findings, codes: _Codes) -> pa.Array:
    values = {name: _field(name, reason, rows, findings, codes) for name in reasons.fields(reason)}
    return format_messages(reason, values, len(rows))


def _field(name: str, reason: str, rows: np.ndarray, findings: Findings, codes: _Codes) -> pa.Array:
    """The values of one message field for ``rows``, as strings."""
    if name == "length":
        return pa.array(codes.length[rows]).cast(pa.string())
    if name == "pos":
        return pa.array(findings.pos[rows]).cast(pa.string())
    if name == "expected":
        return pa.array(findings.expected[rows].view("S1")).cast(pa.string())
    if name == "char":
        return _chars_at(codes.normalised, rows, findings.pos[rows])
    # The remaining fields are slices of the code, declared by the module of the reason's kind.
    start, stop = _MODULES[reason.split("_")[0].lower()].MESSAGE_SLICES[name]
    return pc.utf8_slice_codeunits(codes.normalised.take(pa.array(rows)), start, stop)


def _chars_at(normalised: pa.StringArray, rows: np.ndarray, pos: np.ndarray) -> pa.Array:
    """The character at the 1-based ``pos`` of each of ``rows`` (a loop over distinct positions)."""
    chars = np.empty(len(rows), dtype=object)
    for p in np.unique(pos):
        at = np.flatnonzero(pos == p)
        sliced = pc.utf8_slice_codeunits(normalised.take(pa.array(rows[at])), p - 1, p)
        chars[at] = sliced.to_numpy(zero_copy_only=False)
    return pa.array(chars, type=pa.string())
