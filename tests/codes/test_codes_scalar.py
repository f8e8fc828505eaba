"""The scalar, stdnum-shaped functions of each code module."""

from __future__ import annotations

import datetime
import subprocess
import sys

import pytest

from etl.codes import (
    DamagedCode,
    InvalidChecksum,
    InvalidCode,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    idcard,
    mod_11_10,
    orgcode,
    reasons,
    regno,
    uscc,
)
from etl.codes.normalise import normalise

TODAY = datetime.date(2025, 6, 30)

# The examples of shared/reference/codes.md.
REFERENCE_USCCS = [
    "91110000600037341L",
    "121200004013590816",
    "91310115MA1K3BTP2B",
    "92340602MA2PBMEM24",
    "9144030071526726XG",
]
REFERENCE_IDCARDS = ["360426199101010071", "44011320141005001X"]


def build_uscc(prefix: str, body: str) -> str:
    """A USCC valid in every respect from positions 1-8 and the 8-character organisation body."""
    code17 = prefix + body + orgcode.calc_check_char(body)
    return code17 + uscc.calc_check_char(code17)


@pytest.mark.parametrize("code", REFERENCE_USCCS)
def test_reference_usccs_are_valid(code: str) -> None:
    assert uscc.validate(code) == code
    assert uscc.calc_check_char(code[:17]) == code[17]
    assert orgcode.validate(code[8:17]) == code[8:17]


@pytest.mark.parametrize("code", REFERENCE_IDCARDS)
def test_reference_idcards_are_valid(code: str) -> None:
    assert idcard.validate(code, today=TODAY) == code
    assert idcard.calc_check_char(code[:17]) == code[17]


@pytest.mark.parametrize("prefix", ["N2450200", "N1450222", "A1110000", "A9100000", "Y1450205"])
def test_authorities_n_a_y_are_accepted(prefix: str) -> None:
    code = build_uscc(prefix, "MA5KXY12")
    assert uscc.is_valid(code)


@pytest.mark.parametrize(
    ("raw", "compact"),
    [
        (" ９１１１００００６０００３７３４１ｌ ", "91110000600037341L"),
        ("91 1100 0060 0037 341L", "91110000600037341L"),
        ("9111-0000-6000-3734-1L", "91110000600037341L"),
        ("\u200b91110000600037341L\ufeff", "91110000600037341L"),
        ("\u202a91110000600037341L\u202c\u200e", "91110000600037341L"),  # direction marks from web pages
        ("9111\u00ad0000600037341L", "91110000600037341L"),  # a soft hyphen from Word
        ("91110000600037341L\u3000", "91110000600037341L"),
        ("60003734\u2014１", "600037341"),
    ],
)
def test_normalisation_undoes_spreadsheet_damage(raw: str, compact: str) -> None:
    assert normalise(raw) == compact


def test_normalisation_leaves_ambiguous_characters_for_the_check() -> None:
    # O for 0 is a guess, not a normalisation: the check must report it.
    assert normalise("9111OOOO600037341L") == "9111OOOO600037341L"
    with pytest.raises(InvalidFormat) as caught:
        uscc.validate("9111OOOO600037341L")
    assert caught.value.reason == reasons.USCC_BAD_CHAR
    assert "第5位“O”" in caught.value.message


@pytest.mark.parametrize(
    ("value", "error", "reason"),
    [
        ("9111000060003734", InvalidLength, reasons.USCC_BAD_LENGTH),
        ("9111000060003734IL", InvalidFormat, reasons.USCC_BAD_CHAR),
        ("94110000600037341L", InvalidComponent, reasons.USCC_BAD_AUTHORITY_TYPE),
        ("91990000600037341L", InvalidComponent, reasons.USCC_BAD_DIVISION),
        ("91110000600037341N", InvalidChecksum, reasons.USCC_BAD_CHECK),
        ("9.14502E+17", DamagedCode, reasons.SCIENTIFIC_NOTATION),
        (uscc.PLACEHOLDER, InvalidComponent, reasons.USCC_PLACEHOLDER_WITHOUT_REGNO),
    ],
)
def test_uscc_failures(value: str, error: type[InvalidCode], reason: str) -> None:
    with pytest.raises(error) as caught:
        uscc.validate(value)
    assert caught.value.reason == reason
    assert not uscc.is_valid(value)


def test_uscc_bad_check_message_names_the_right_character() -> None:
    with pytest.raises(InvalidChecksum) as caught:
        uscc.validate("91110000600037341N")
    assert caught.value.message.startswith("统一社会信用代码校验位错误，应为 L")
    assert str(caught.value) == caught.value.message


def test_embedded_orgcode_check_is_checked_after_the_final_check() -> None:
    # A code whose final check character was computed over a bad organisation code: it passes
    # stdnum, but no registration authority could have issued it.
    code17 = "91450200" + "MA5KXY12" + "0"
    assert orgcode.calc_check_char("MA5KXY12") != "0"
    code = code17 + uscc.calc_check_char(code17)
    with pytest.raises(InvalidChecksum) as caught:
        uscc.validate(code)
    assert caught.value.reason == reasons.USCC_BAD_ORGCODE_CHECK
    assert caught.value.values == {"expected": orgcode.calc_check_char("MA5KXY12")}


def test_placeholder_needs_a_valid_registration_number() -> None:
    assert uscc.validate(uscc.PLACEHOLDER, regno="450200000012340") == uscc.PLACEHOLDER
    assert uscc.is_valid("00000000000000000x", regno="450200 00001234 0")
    assert not uscc.is_valid(uscc.PLACEHOLDER, regno="450200000012341")
    assert not uscc.is_valid(uscc.PLACEHOLDER, regno=None)


def test_central_level_registrations_are_accepted() -> None:
    assert uscc.is_valid(build_uscc("91100000", "10000396"))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("6000373", reasons.ORGCODE_BAD_LENGTH),
        ("6000373a-1", reasons.ORGCODE_BAD_CHECK),
        ("60003734-Y", reasons.ORGCODE_BAD_CHAR),
        ("6000_734-1", reasons.ORGCODE_BAD_CHAR),
        ("60003734-2", reasons.ORGCODE_BAD_CHECK),
    ],
)
def test_orgcode_failures(value: str, reason: str) -> None:
    with pytest.raises(InvalidCode) as caught:
        orgcode.validate(value)
    assert caught.value.reason == reason


def test_orgcode_check_characters_x_and_0() -> None:
    by_check = {orgcode.calc_check_char(f"{n:08d}"): f"{n:08d}" for n in range(200)}
    assert {"X", "0"} <= by_check.keys()
    assert orgcode.is_valid(by_check["X"] + "X")
    assert orgcode.format_code(by_check["X"] + "X") == by_check["X"] + "-X"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("45020000001234", reasons.REGNO_BAD_LENGTH),
        ("45020000001234O", reasons.REGNO_BAD_CHAR),
        ("990200000012340", reasons.REGNO_BAD_DIVISION),
        ("450200000012341", reasons.REGNO_BAD_CHECK),
    ],
)
def test_regno_failures(value: str, reason: str) -> None:
    with pytest.raises(InvalidCode) as caught:
        regno.validate(value)
    assert caught.value.reason == reason


def test_regno_check_digit_is_iso_7064_mod_11_10() -> None:
    from stdnum.iso7064 import mod_11_10 as stdnum_mod_11_10

    for n in range(0, 10**14, 7_919_999_999_999):
        body = f"{n:014d}"
        assert (
            regno.calc_check_char(body)
            == stdnum_mod_11_10.calc_check_digit(body)
            == mod_11_10.calc_check_digit(body)
        )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("36042619910101007", reasons.IDCARD_BAD_LENGTH),
        ("3604261991010100Y1", reasons.IDCARD_BAD_CHAR),
        ("36042691010100X", reasons.IDCARD_BAD_CHAR),
        ("990426199101010071", reasons.IDCARD_BAD_ADDRESS),
        ("360426199102300071", reasons.IDCARD_BAD_BIRTHDATE),
        ("360426189901010071", reasons.IDCARD_BAD_BIRTHDATE),
        ("360426910230007", reasons.IDCARD_BAD_BIRTHDATE),
        ("360426202601010071", reasons.IDCARD_FUTURE_BIRTHDATE),
        ("360426199101010072", reasons.IDCARD_BAD_CHECK),
    ],
)
def test_idcard_failures(value: str, reason: str) -> None:
    with pytest.raises(InvalidCode) as caught:
        idcard.validate(value, today=TODAY)
    assert caught.value.reason == reason
    assert not idcard.is_valid(value, today=TODAY)


def test_idcard_leap_days() -> None:
    leap = "360426" + "20000229" + "007"
    not_leap = "360426" + "19000229" + "007"
    assert idcard.is_valid(leap + idcard.calc_check_char(leap), today=TODAY)
    assert not idcard.is_valid(not_leap + idcard.calc_check_char(not_leap), today=TODAY)


def test_idcard_birth_date_today_is_not_in_the_future() -> None:
    body = "360426" + TODAY.strftime("%Y%m%d") + "007"
    assert idcard.is_valid(body + idcard.calc_check_char(body), today=TODAY)


def test_old_idcard_is_converted_to_18_digits() -> None:
    assert idcard.from_15("360426910101007") == "360426199101010071"
    assert idcard.validate("360426 910101 007", today=TODAY) == "360426199101010071"
    with pytest.raises(InvalidLength):
        idcard.from_15("36042691010100")


def test_idcard_is_masked_keeping_four_and_four() -> None:
    assert idcard.mask("360426199101010071") == "3604**********0071"
    assert idcard.mask("360426910101007") == "3604*******1007"
    assert idcard.mask("1234567") == "*******"


def test_idcard_messages_never_contain_the_number() -> None:
    for value in ["360426199101010072", "360426202601010071", "360426199102300071", "990426199101010071"]:
        with pytest.raises(InvalidCode) as caught:
            idcard.validate(value, today=TODAY)
        assert value[:6] not in caught.value.message
        assert value[-4:] not in caught.value.message


@pytest.mark.parametrize("module", [uscc, orgcode, regno, idcard])
def test_calc_check_char_rejects_a_body_of_the_wrong_length(module: object) -> None:
    with pytest.raises(ValueError):
        module.calc_check_char("123")  # type: ignore[attr-defined]


def test_scalar_modules_do_not_import_pyarrow() -> None:
    # The demo-data generator and DAG-level code import these; pyarrow costs a fifth of a second.
    code = "import sys, etl.codes.uscc, etl.codes.idcard; assert 'pyarrow' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
