"""Unified social credit code (统一社会信用代码, GB 32100-2015).

Eighteen characters from the alphabet ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (no I, O, S, V, Z):

- position 1, the registration authority (``9`` market regulation, ``1`` establishment offices,
  ``5`` civil affairs, ``N`` agriculture, ``A`` the Central Military Commission, ``Y`` others …) and
  position 2, the type of organisation, which is only meaningful in the pairs of ``AUTHORITY_TYPES``;
- positions 3-8, the division code of the registering authority (``etl.codes.divisions``);
- positions 9-17, the subject's organisation code (GB 11714, ``etl.codes.orgcode``), with its own
  check character at position 17;
- position 18, the check character: the values of positions 1-17 weighted by 3^i mod 31, summed,
  and ``31 - sum mod 31`` read back through the alphabet.

Unlike python-stdnum this accepts the authorities ``N``, ``A`` and ``Y`` (stdnum wants positions
1-8 to be digits), and it also checks the authority/type pair and the embedded organisation code,
so it rejects some codes that stdnum accepts: codes no registration authority could have issued.

A self-employed business (个体工商户) without a code yet is registered under the placeholder
``00000000000000000X``, which is only acceptable beside a valid business registration number
(``etl.codes.regno``) on the same record.

>>> validate('91110000600037341L')
'91110000600037341L'
>>> validate(' ９１１１００００６０００３７３４１ｌ ')
'91110000600037341L'
>>> validate('N2450200MA5KXY12XT')
'N2450200MA5KXY12XT'
>>> validate('N2450200MA5KXY12X')
Traceback (most recent call last):
    ...
InvalidLength: 统一社会信用代码应为18位，实际为17位…
>>> validate('91110000600037341N')
Traceback (most recent call last):
    ...
InvalidChecksum: 统一社会信用代码校验位错误，应为 L（若证照上最后一位不是 L，…）
>>> validate('94110000600037341L')
Traceback (most recent call last):
    ...
InvalidComponent: 统一社会信用代码前两位“94”不是有效的登记管理部门码和机构类别码组合…
>>> validate('9.11100006E+17')
Traceback (most recent call last):
    ...
DamagedCode: 代码被表格软件显示成了科学计数法…
>>> validate(PLACEHOLDER)
Traceback (most recent call last):
    ...
InvalidComponent: 统一社会信用代码填的是占位码…
>>> validate(PLACEHOLDER, regno='450200000012340')
'00000000000000000X'
>>> calc_check_char('91110000600037341')
'L'
"""

from __future__ import annotations

from typing import Final

import numpy as np

from etl.codes import divisions, orgcode, reasons, regno
from etl.codes._matrix import (
    NOT_IN_ALPHABET,
    PAIR_FIRST,
    PAIR_SECOND,
    Findings,
    bad_positions,
    char_table,
    lookup,
    pair_columns,
    value_table,
)
from etl.codes.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from etl.codes.normalise import first_bad_char, normalise, reject_damage
from etl.codes.weighted import INVALID, pair_sums, pair_tables, remainder_table, weighted_sum

LENGTH = 18
ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))
PLACEHOLDER: Final = "00000000000000000X"

# GB 32100-2015 table 1: registration authority → the organisation types it may register.
AUTHORITY_TYPES: Final[dict[str, str]] = {
    "1": "1239",  # 机构编制: 机关, 事业单位, 群众团体, 其他
    "2": "19",  # 外交
    "3": "123459",  # 司法行政: 律师执业机构, 公证处, 基层法律服务所, 司法鉴定机构, 仲裁委员会, 其他
    "4": "19",  # 文化
    "5": "1239",  # 民政: 社会团体, 民办非企业单位, 基金会, 其他
    "6": "129",  # 旅游
    "7": "129",  # 宗教
    "8": "19",  # 工会
    "9": "123",  # 工商/市场监管: 企业, 个体工商户, 农民专业合作社
    "A": "19",  # 中央军委改革和编制办公室
    "N": "1239",  # 农业: 农村集体经济组织 and others
    "Y": "1",  # 其他
}
ALLOWED = (ALPHABET,) * LENGTH
# Message fields cut from the normalised code: name → (start, stop).
MESSAGE_SLICES = {"pair": (0, 2)}

_CHECK_TABLES = pair_tables(value_table(ALPHABET), WEIGHTS, 31)
_CHECK_BY_SUM = remainder_table(_CHECK_TABLES, 31, char_table(ALPHABET)[-np.arange(31) % 31])
_PLACEHOLDER_BYTES = np.frombuffer(PLACEHOLDER.encode("ascii"), dtype=np.uint8)

# Whether a byte pair (see pair_columns) is an authority and a type it may register.
_AUTHORITY_TYPE_PAIRS = np.zeros((256, 256), dtype=bool)
for _authority, _types in AUTHORITY_TYPES.items():
    _AUTHORITY_TYPE_PAIRS[ord(_authority), [ord(t) for t in _types]] = True
_AUTHORITY_TYPE_PAIRS = _AUTHORITY_TYPE_PAIRS[PAIR_FIRST, PAIR_SECOND]

# The fast path of the vectorised check looks each of a code's nine byte pairs up once, in a table
# whose 32-bit entries pack what that pair contributes to every check:
#   bits 0-8    its share of the check sum mod 31, position 18 weighted 1 (a valid code sums to 0
#               mod 31); nine pairs add up to at most 9 × 30;
#   bits 9-14   its share of the embedded organisation code's sum mod 11, its check character
#               (position 17) weighted 1 as 0-9 or X = 10 (a valid one sums to 0 mod 11); ≤ 5 × 10;
#   bits 15-18  1 if a byte is outside the alphabet (nine pairs count to at most 9);
#   bit 19      position 17 is not a possible organisation-code check character;
#   bit 20      the authority/type pair is not in the table (pair 0);
#   bits 21-23  the division is implausible (pairs 1-3, one bit each).
# No field outgrows its bits and no two pairs set the same flag, so the sum of a code's nine
# entries holds every finding: the code passes when its flags (bits 15 up) are zero and its two
# sums are 0 in their moduli, which one lookup in a 32768-entry table answers.
_ORG_SHIFT, _FLAG_SHIFT, _ORG_CHECK_BIT, _AUTHORITY_BIT, _DIVISION_BIT = 9, 15, 19, 20, 21
_SUMS = (1 << _FLAG_SHIFT) - 1
_SUMS_PASS = np.array(
    [(i & 0x1FF) % 31 == 0 and (i >> _ORG_SHIFT) % 11 == 0 for i in range(_SUMS + 1)], dtype=np.uint8
)
# Rows per block of the fast path: its temporaries then stay in the CPU cache (a third faster).
_BLOCK = 1 << 16


def _fast_tables() -> np.ndarray:
    values = value_table(ALPHABET)
    first, second = values[PAIR_FIRST].astype(np.uint32), values[PAIR_SECOND].astype(np.uint32)
    outside = (first == NOT_IN_ALPHABET) | (second == NOT_IN_ALPHABET)
    weights = (*WEIGHTS, 1)
    tables = np.stack(
        [
            np.where(outside, 1 << _FLAG_SHIFT, (w1 * first + w2 * second) % 31)
            for w1, w2 in zip(weights[::2], weights[1::2], strict=True)
        ]
    ).astype(np.uint32)
    org = orgcode.CHECK_PAIR_TABLES.astype(np.uint32)
    org[org >= INVALID] = 0  # bytes outside the alphabet are counted already
    tables[4:8] += org << _ORG_SHIFT
    org_check = value_table(orgcode.CHECK_CHARS)[PAIR_FIRST].astype(np.uint32)
    tables[8] += np.where(org_check == NOT_IN_ALPHABET, 1 << _ORG_CHECK_BIT, org_check << _ORG_SHIFT)
    tables[0] += (~_AUTHORITY_TYPE_PAIRS).astype(np.uint32) << _AUTHORITY_BIT
    province, digits = divisions.pair_masks(divisions.REGISTRATION)
    division_bits = (_DIVISION_BIT + np.arange(3, dtype=np.uint32))[:, None]
    tables[1:4] += (~np.stack([province, digits, digits])).astype(np.uint32) << division_bits
    return tables


_FAST_TABLES = _fast_tables()


def compact(value: str) -> str:
    """Normalise ``value`` (full-width, case, blanks, hyphens); no check is made."""
    return normalise(value)


def calc_check_char(body: str) -> str:
    """The check character (position 18) of the first seventeen characters."""
    if len(body) != LENGTH - 1:
        raise ValueError(f"a USCC body has 17 characters, not {len(body)}")
    return ALPHABET[-weighted_sum((ALPHABET.index(c) for c in body), WEIGHTS, 31) % 31]


def validate(value: str, *, regno: str | None = None) -> str:
    """Check a USCC; the placeholder passes only beside a valid registration number ``regno``.

    Checks, in order: length, alphabet, authority/type pair, division, the check character at
    position 18, then the embedded organisation code's check character at position 17.
    """
    code = compact(value)
    if code == PLACEHOLDER:
        return _validate_placeholder(code, regno)
    with reject_damage(code):
        if len(code) != LENGTH:
            raise InvalidLength(reasons.USCC_BAD_LENGTH, length=len(code))
        bad = first_bad_char(code, ALLOWED)
        if bad is not None:
            raise InvalidFormat(reasons.USCC_BAD_CHAR, pos=bad + 1, char=code[bad])
        if code[1] not in AUTHORITY_TYPES.get(code[0], ""):
            raise InvalidComponent(reasons.USCC_BAD_AUTHORITY_TYPE, pair=code[:2])
        if not divisions.is_plausible(code[2:8], divisions.REGISTRATION):
            raise InvalidComponent(reasons.USCC_BAD_DIVISION)
        expected = calc_check_char(code[:17])
        if code[17] != expected:
            raise InvalidChecksum(reasons.USCC_BAD_CHECK, expected=expected)
        # Checked after the final check character: with a typo anywhere in 9-17 both fail, and
        # the final one is the message clerks know; this one alone means a fabricated code.
        expected = orgcode.calc_check_char(code[8:16])
        if code[16] != expected:
            raise InvalidChecksum(reasons.USCC_BAD_ORGCODE_CHECK, expected=expected)
    return code


def _validate_placeholder(code: str, registration_number: str | None) -> str:
    if registration_number is None or not regno.is_valid(registration_number):
        raise InvalidComponent(reasons.USCC_PLACEHOLDER_WITHOUT_REGNO)
    return code


def is_valid(value: str, *, regno: str | None = None) -> bool:
    """Tell whether ``value`` is a valid USCC (see ``validate``); never raises."""
    try:
        return bool(validate(value, regno=regno))
    except ValueError:
        return False


def calc_check_bytes(pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``calc_check_char`` over the 9×n ``pair_columns`` of whole codes, as bytes; and whether each
    code's characters are all in the alphabet (where not, its check byte is garbage)."""
    total = pair_sums(pairs, _CHECK_TABLES)
    return _CHECK_BY_SUM[total], total < INVALID


def validate_matrix(m: np.ndarray, length: np.ndarray, regno_valid: np.ndarray | None = None) -> Findings:
    """``validate`` over a byte matrix of normalised codes (see etl.codes._matrix).

    ``regno_valid`` tells per row whether the record carries a valid registration number.
    """
    # Nearly every code in a delivery is valid. One pass over all rows finds the codes that pass
    # every check; the guard clauses, which say which check failed first, run only on the others
    # (the placeholder among them: it fails the checksum).
    findings = Findings.empty(len(length))
    rows = np.flatnonzero(~_passes(m, length))
    if rows.size:
        with_regno = None if regno_valid is None else regno_valid[rows]
        findings.put(rows, _findings(m[rows], length[rows], with_regno))
    return findings


def _passes(m: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Whether each code passes every check of ``validate`` (see _fast_tables)."""
    passes = np.empty(len(length), dtype=bool)
    for start in range(0, len(length), _BLOCK):
        block = slice(start, start + _BLOCK)
        packed = pair_sums(pair_columns(m[block, :LENGTH]), _FAST_TABLES)
        sums_pass = lookup(_SUMS_PASS, packed & _SUMS).view(bool)
        passes[block] = sums_pass & (packed < 1 << _FLAG_SHIFT) & (length[block] == LENGTH)
    return passes


def _findings(m: np.ndarray, length: np.ndarray, regno_valid: np.ndarray | None) -> Findings:
    """The first failed check of each row, in the order of ``validate``."""
    findings = Findings.empty(len(length))
    # Only a row starting with "0" can be the placeholder; comparing those few rows is cheaper.
    candidates = np.flatnonzero((m[:, 0] == _PLACEHOLDER_BYTES[0]) & (length == LENGTH))
    placeholder = np.zeros(len(length), dtype=bool)
    placeholder[candidates] = (m[candidates, :LENGTH] == _PLACEHOLDER_BYTES).all(axis=1)
    has_regno = np.zeros(len(length), dtype=bool) if regno_valid is None else regno_valid
    findings.fail(placeholder & ~has_regno, reasons.USCC_PLACEHOLDER_WITHOUT_REGNO)
    findings.accept(placeholder)
    findings.fail(length != LENGTH, reasons.USCC_BAD_LENGTH)
    pairs = pair_columns(m[:, :LENGTH])
    expected, in_alphabet = calc_check_bytes(pairs)
    findings.fail(~in_alphabet, reasons.USCC_BAD_CHAR, pos=bad_positions(m, ~in_alphabet, ALLOWED))
    findings.fail(~_AUTHORITY_TYPE_PAIRS[pairs[0]], reasons.USCC_BAD_AUTHORITY_TYPE)
    division_ok = divisions.plausible_pairs(pairs[1:4], divisions.REGISTRATION)
    findings.fail(~division_ok, reasons.USCC_BAD_DIVISION)
    findings.fail(m[:, 17] != expected, reasons.USCC_BAD_CHECK, expected=expected)
    expected = orgcode.calc_check_bytes(pairs[4:8])
    findings.fail(m[:, 16] != expected, reasons.USCC_BAD_ORGCODE_CHECK, expected=expected)
    return findings
