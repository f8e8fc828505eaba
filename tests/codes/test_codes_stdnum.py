"""Agreement with python-stdnum, used as an independent oracle where it applies.

What "agree" means, given that ``etl.codes.uscc`` is deliberately different from
``stdnum.cn.uscc``:

- stdnum requires positions 1-8 to be digits, so it rejects valid codes of the authorities N, A and
  Y; we accept them. Only *digit-prefixed* values are compared with stdnum, and N/A/Y codes are
  tested the other way round (we accept, stdnum rejects).
- We check more than stdnum: the authority/type pair, the division code and the embedded
  organisation code's check character. So for digit-prefixed values:
    1. the check characters are computed identically (``calc_check_char`` = ``calc_check_digit``);
    2. stdnum's verdict equals *our* verdict on what stdnum checks: length 18, alphabet, and the
       final check character;
    3. whatever we accept, stdnum accepts (we are stricter, never looser);
    4. a code built valid in every respect is accepted by both, and the same code with a wrong
       check character is rejected by both.
- Both normalise before checking; the generated values only use the characters both treat alike
  (ASCII letters in either case, digits, spaces and hyphens), so both see the same code.

``stdnum.cn.ric`` (identity numbers) also checks the birth place against its own list of
historical county codes, so it is compared on check characters and on numbers built from
county codes it knows; stdnum's ISO 7064 MOD 11,10 is compared with the registration number's.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc
from stdnum.iso7064 import mod_11_10 as stdnum_mod_11_10

from etl.codes import InvalidCode, check, divisions, idcard, orgcode, reasons, regno, uscc
from etl.codes.normalise import first_bad_char

FOUND_ONLINE = Path(__file__).parents[1] / "data" / "stdnum_uscc_found_online.txt"
DIGITS = "0123456789"
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def found_online() -> list[str]:
    lines = FOUND_ONLINE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_every_code_found_online_is_valid() -> None:
    codes = found_online()
    assert len(codes) == 383  # the whole block of python-stdnum's test file
    assert [c for c in codes if not uscc.is_valid(c)] == []
    assert [c for c in codes if not stdnum_uscc.is_valid(c)] == []
    assert check(pa.array(codes), "uscc").valid.to_pylist() == [True] * len(codes)
    assert set(check(pa.array(codes), "auto").kind.to_pylist()) == {"uscc"}


def test_embedded_orgcodes_of_the_codes_found_online_are_valid() -> None:
    # Real organisation codes: independent evidence for orgcode.calc_check_char.
    assert [c for c in found_online() if not orgcode.is_valid(c[8:17])] == []


# --- strategies -------------------------------------------------------------------------------

alphabet_chars = st.sampled_from(uscc.ALPHABET)
digit_chars = st.sampled_from(DIGITS)


@st.composite
def valid_usccs(draw: st.DrawFn, authorities: str = "123456789") -> str:
    """A USCC valid in every respect, with an authority drawn from ``authorities``."""
    authority = draw(st.sampled_from(authorities))
    kind = draw(st.sampled_from(uscc.AUTHORITY_TYPES[authority]))
    province = draw(st.sampled_from(sorted(divisions.REGISTRATION)))
    division = f"{province:02d}" + draw(st.text(digit_chars, min_size=4, max_size=4))
    body = draw(st.text(alphabet_chars, min_size=8, max_size=8))
    code17 = authority + kind + division + body + orgcode.calc_check_char(body)
    return code17 + uscc.calc_check_char(code17)


@st.composite
def digit_prefixed(draw: st.DrawFn) -> str:
    """A value stdnum can judge: eight digits, then mostly alphabet characters, sometimes not."""
    head = draw(st.text(digit_chars, min_size=8, max_size=8))
    tail = draw(st.text(st.sampled_from(uscc.ALPHABET + "IOSVZ"), min_size=8, max_size=12))
    return head + tail


def spell_sloppily(code: str, data: st.DataObject) -> str:
    """The code as a person might type it: lower case and spaces or hyphens between groups."""
    lowered = data.draw(st.booleans())
    separator = data.draw(st.sampled_from(["", " ", "-"]))
    text = code.lower() if lowered else code
    return separator.join([text[:2], text[2:8], text[8:17], text[17:]])


def stdnum_judges(value: str) -> bool:
    return stdnum_uscc.compact(value)[:8].isdigit()


def our_stdnum_part(value: str) -> bool:
    """Our verdict on exactly what stdnum checks: length, alphabet, final check character."""
    code = uscc.compact(value)
    return (
        len(code) == 18
        and first_bad_char(code, uscc.ALLOWED) is None
        and uscc.calc_check_char(code[:17]) == code[17]
    )


# --- properties --------------------------------------------------------------------------------


@SETTINGS
@given(st.text(alphabet_chars, min_size=17, max_size=17).filter(lambda b: b[:8].isdigit()))
def test_check_characters_agree(body: str) -> None:
    assert uscc.calc_check_char(body) == stdnum_uscc.calc_check_digit(body)


@SETTINGS
@given(digit_prefixed(), st.data())
def test_verdicts_agree_on_what_stdnum_checks(value: str, data: st.DataObject) -> None:
    if len(value) >= 17 and first_bad_char(value[:17], uscc.ALLOWED) is None and data.draw(st.booleans()):
        # Random tails almost never carry a correct check character: give half of them one.
        value = value[:17] + uscc.calc_check_char(value[:17]) + value[18:]
    assert stdnum_judges(value)
    assert stdnum_uscc.is_valid(value) == our_stdnum_part(value)
    if uscc.is_valid(value):
        assert stdnum_uscc.is_valid(value)
    if not stdnum_uscc.is_valid(value):
        assert not uscc.is_valid(value)


@SETTINGS
@given(valid_usccs(), st.data())
def test_valid_codes_pass_both_and_a_wrong_check_character_fails_both(code: str, data: st.DataObject) -> None:
    typed = spell_sloppily(code, data)
    assert uscc.validate(typed) == code
    assert stdnum_uscc.validate(typed) == code
    wrong = data.draw(st.sampled_from(uscc.ALPHABET).filter(lambda c: c != code[17]))
    corrupted = code[:17] + wrong
    assert not stdnum_uscc.is_valid(corrupted)
    with pytest.raises(InvalidCode) as caught:
        uscc.validate(corrupted)
    assert caught.value.reason == reasons.USCC_BAD_CHECK
    assert caught.value.values == {"expected": code[17]}


@SETTINGS
@given(valid_usccs(authorities="ANY"))
def test_n_a_y_codes_pass_here_where_stdnum_rejects_them(code: str) -> None:
    assert uscc.is_valid(code)
    assert not stdnum_uscc.is_valid(code)
    assert check(pa.array([code]), "auto").kind.to_pylist() == ["uscc"]


@SETTINGS
@given(st.lists(valid_usccs(authorities="123456789ANY"), min_size=1, max_size=30), st.data())
def test_vectorised_verdicts_match_stdnum_where_it_judges(codes: list[str], data: st.DataObject) -> None:
    # Corrupt some codes in ways stdnum sees (check character, one body character, length).
    values = []
    for code in codes:
        damage = data.draw(st.sampled_from(["none", "check", "body", "truncate"]))
        if damage == "check":
            code = code[:17] + ("0" if code[17] != "0" else "1")
        elif damage == "body":
            i = data.draw(st.integers(8, 16))
            code = code[:i] + ("0" if code[i] != "0" else "1") + code[i + 1 :]
        elif damage == "truncate":
            code = code[:-1]
        values.append(code)
    verdicts = check(pa.array(values), "uscc").valid.to_pylist()
    for value, ours in zip(values, verdicts, strict=True):
        if stdnum_judges(value):
            assert ours == stdnum_uscc.is_valid(value), value


@SETTINGS
@given(st.text(digit_chars, min_size=17, max_size=17))
def test_idcard_check_characters_agree(body: str) -> None:
    assert idcard.calc_check_char(body) == stdnum_ric.calc_check_digit(body + "0")


# County codes python-stdnum knows, and dates after each was created.
KNOWN_COUNTIES = ["450202", "450203", "450204", "450205", "450222", "360426", "110101"]


@SETTINGS
@given(
    st.sampled_from(KNOWN_COUNTIES),
    st.dates(min_value=datetime.date(1990, 1, 1), max_value=datetime.date(2024, 12, 31)),
    st.text(digit_chars, min_size=3, max_size=3),
)
def test_valid_idcards_pass_both(county: str, born: datetime.date, sequence: str) -> None:
    body = county + born.strftime("%Y%m%d") + sequence
    number = body + idcard.calc_check_char(body)
    assert idcard.validate(number, today=datetime.date(2025, 1, 1)) == number
    assert stdnum_ric.is_valid(number)
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    assert not idcard.is_valid(wrong) and not stdnum_ric.is_valid(wrong)


@SETTINGS
@given(st.text(digit_chars, min_size=14, max_size=14))
def test_regno_check_digits_agree(body: str) -> None:
    assert regno.calc_check_char(body) == stdnum_mod_11_10.calc_check_digit(body)
    assert stdnum_mod_11_10.is_valid(body + regno.calc_check_char(body))
