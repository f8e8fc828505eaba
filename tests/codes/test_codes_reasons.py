"""Every reason code is reachable, every message reads as Chinese advice, and no message shows an
identity number."""

from __future__ import annotations

import datetime
import re

import pyarrow as pa
import pytest

from etl.codes import check, consistency, divisions, idcard, reasons, uscc

TODAY = datetime.date(2025, 6, 30)

# kind → values that, together, produce every per-value reason of that kind.
FIXTURE = {
    "uscc": [
        "9111000060003734",
        "9111OOOO600037341L",
        "94110000600037341L",
        "91990000600037341L",
        "91110000600037341N",
        "91450200MA5KXY120" + uscc.calc_check_char("91450200MA5KXY120"),
        uscc.PLACEHOLDER,
        "9.14502E+17",
    ],
    "orgcode": ["6000373", "60003734-Y", "60003734-2"],
    "regno": ["45020000001234", "45020000001234O", "990200000012340", "450200000012341"],
    "idcard": [
        "36042619910101007",
        "3604261991010100Y1",
        "990426199101010071",
        "360426199102300071",
        "360426202601010071",
        "360426199101010072",
    ],
    "auto": ["hello"],
}


def reasons_reached() -> set[str]:
    reached = set()
    for kind, values in FIXTURE.items():
        reached |= set(check(pa.array(values), kind, today=TODAY).reason.to_pylist())
    codes = pa.array(["91110000600037341L", "91110000600037341L", "91450200MA5KXY12XM"])
    names = pa.array(["甲公司", "乙公司", "甲公司"])
    reached |= set(consistency.one_code_many_names(codes, names)["reason"].to_pylist())
    reached |= set(consistency.one_name_many_codes(names, codes)["reason"].to_pylist())
    mismatch = consistency.orgcode_mismatch_table(codes, pa.array(["600037342", None, None]))
    reached |= set(mismatch["reason"].to_pylist())
    return reached - {None}


def test_every_reason_code_is_reached() -> None:
    assert reasons_reached() == set(reasons.ALL)


def test_reason_codes_are_stable_upper_snake_strings() -> None:
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)+", code) for code in reasons.ALL)
    assert len(set(reasons.ALL)) == len(reasons.ALL)


@pytest.mark.parametrize("reason", reasons.ALL)
def test_messages_are_chinese_and_fill_their_fields(reason: str) -> None:
    text = reasons.message(reason, **dict.fromkeys(reasons.fields(reason), "1"))
    assert re.search(r"[\u4e00-\u9fff]{4}", text)
    assert "{" not in text
    # Each message says what to do, not only what is wrong.
    assert re.search("请|应为", text), text


def idcard_inputs() -> list[str]:
    """Identity numbers from every province, valid and damaged in every way: with kind="auto"
    many of the damaged ones are checked as USCCs (12…, 31…, 51… are valid USCC prefixes)."""
    numbers = []
    for province in sorted(divisions.RESIDENCE):
        for born in ["19800101", "19801301", "20991231"]:
            body = f"{province}0101{born}123"
            numbers.append(body + idcard.calc_check_char(body))
    wrong_check = [n[:17] + ("0" if n[17] != "0" else "1") for n in numbers]
    damaged = [n[:6] + "A" + n[7:] for n in numbers] + [n[:17] for n in numbers] + [n[2:17] for n in numbers]
    return [*numbers, *wrong_check, *damaged, *FIXTURE["idcard"], "450202198001011", "4502021980010112345"]


@pytest.mark.parametrize("kind", ["idcard", "auto", "uscc", "regno", "orgcode"])
def test_idcard_messages_never_contain_the_number(kind: str) -> None:
    values = idcard_inputs()
    verdicts = check(pa.array(values), kind, today=TODAY)
    for value, message in zip(values, verdicts.message.to_pylist(), strict=True):
        if message is None:
            continue
        digits_in_message = re.findall(r"\d{4,}", message)
        assert not any(run in value for run in digits_in_message), (idcard.mask(value), message)
