"""``etl.codes.check`` over Arrow arrays: shapes, nulls, auto-detection, and agreement with the
scalar functions on hand-picked values (the property tests cover random ones)."""

from __future__ import annotations

import datetime

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.codes import (
    CodeVerdicts,
    InvalidCode,
    check,
    idcard,
    mask_idcards,
    normalise_array,
    orgcode,
    regno,
    uscc,
)

TODAY = datetime.date(2025, 6, 30)
MODULES = {"uscc": uscc, "orgcode": orgcode, "regno": regno, "idcard": idcard}

SAMPLES = [
    "91110000600037341L",
    "９１１１００００６０００３７３４１ｌ",
    "９１１１００００－６０００３７３４－１Ｌ",
    "－91110000600037341L",
    "91110000600037341N",
    "9111000060003734",
    "9111OOOO600037341L",
    "94110000600037341L",
    "91990000600037341L",
    "914502000000000000",
    "9.14502E+17",
    "00000000000000000X",
    "60003734-1",
    "600037342",
    "450200000012340",
    "450200000012341",
    "360426199101010071",
    "360426199101010072",
    "360426910101007",
    "360426202601010071",
    "柳州市某某公司",
    "91110000600037341中",
    " ",
    "",
    None,
]


def scalar_verdict(kind: str, value: str | None) -> tuple[object, ...]:
    """What the scalar functions say about ``value``, in the shape of one verdict row."""
    module = MODULES[kind]
    if value is None or not module.compact(value):
        return (None, None, None, None, None)
    kwargs = {"today": TODAY} if kind == "idcard" else {}
    try:
        normalised = module.validate(value, **kwargs)
    except InvalidCode as exc:
        return (module.compact(value), False, module.compact(value) != value, exc.reason, exc.message)
    return (normalised, True, normalised != value, None, None)


@pytest.mark.parametrize("kind", sorted(MODULES))
def test_vectorised_agrees_with_scalar(kind: str) -> None:
    verdicts = check(pa.array(SAMPLES), kind, today=TODAY)
    rows = verdicts.to_table().to_pylist()
    for value, row in zip(SAMPLES, rows, strict=True):
        got = (row["normalised"], row["valid"], row["normalised_changed"], row["reason"], row["message"])
        assert got == scalar_verdict(kind, value), value


# Characters people and spreadsheets put into code columns, ASCII and not.
DIRTY = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcilosxyz -.+_'．９Ｘｌａ－　"
DIRTY += "\u00a0\u2014\u200b\ufeff\u200e\u00ad中無¼ǆ"


@st.composite
def dirty_values(draw: st.DrawFn) -> str | None:
    """A sample code (or random text) with up to four random edits."""
    bases = [v for v in SAMPLES if v] + ["44011320141005001X", "9144030071526726XG", "N2450200MA5KXY12XT"]
    value = draw(st.one_of(st.sampled_from(bases), st.text(st.sampled_from(DIRTY), max_size=20)))
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, len(value)))
        edit = draw(st.sampled_from(["insert", "replace", "delete"]))
        char = draw(st.sampled_from(DIRTY))
        if edit == "insert":
            value = value[:i] + char + value[i:]
        elif edit == "replace":
            value = value[:i] + char + value[i + 1 :]
        else:
            value = value[:i] + value[i + 1 :]
    return draw(st.sampled_from([value, value, value, None]))


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(MODULES)), st.lists(dirty_values(), max_size=40))
def test_vectorised_agrees_with_scalar_on_dirty_text(kind: str, values: list[str | None]) -> None:
    rows = check(pa.array(values, pa.string()), kind, today=TODAY).to_table().to_pylist()
    for value, row in zip(values, rows, strict=True):
        got = (row["normalised"], row["valid"], row["normalised_changed"], row["reason"], row["message"])
        assert got == scalar_verdict(kind, value), repr(value)


@st.composite
def nearly_valid_usccs(draw: st.DrawFn) -> str:
    """A USCC right in most respects: each part is drawn right or, now and then, wrong."""
    authority = draw(st.sampled_from(sorted(uscc.AUTHORITY_TYPES) * 4 + ["0", "B", "I"]))
    kind = draw(st.sampled_from(uscc.AUTHORITY_TYPES.get(authority, "1") * 8 + "0459A"))
    province = draw(st.sampled_from(["45", "11", "10", "66"] * 4 + ["83", "99", "00", "4A"]))
    division = province + draw(st.text(st.sampled_from("0123456789" * 8 + "O"), min_size=4, max_size=4))
    body = draw(st.text(st.sampled_from(uscc.ALPHABET * 8 + "IOSVZa"), min_size=8, max_size=8))
    right = orgcode.calc_check_char(body) if all(c in orgcode.BODY_ALPHABET for c in body) else "0"
    org_check = draw(st.sampled_from([right] * 6 + ["X", "0", "A", "Y"]))
    code17 = authority + kind + division + body + org_check
    check_char = uscc.calc_check_char(code17) if all(c in uscc.ALPHABET for c in code17) else "0"
    return code17 + draw(st.sampled_from([check_char] * 6 + ["0", "X", "L"]))


@settings(max_examples=150, deadline=None)
@given(st.lists(nearly_valid_usccs(), min_size=1, max_size=60))
def test_fast_path_and_guard_clauses_agree_with_scalar(values: list[str]) -> None:
    # Each check alone fails some of these codes: the vectorised fast path must accept exactly the
    # codes the scalar function accepts, and the guard clauses must name the same first failure.
    rows = check(pa.array(values), "uscc").to_table().to_pylist()
    for value, row in zip(values, rows, strict=True):
        got = (row["normalised"], row["valid"], row["normalised_changed"], row["reason"], row["message"])
        assert got == scalar_verdict("uscc", value), value


def test_sliced_input_with_nulls_that_needs_normalising() -> None:
    values = pa.array(["x", "ab c", None, "91110000600037341l", None, " 91110000600037341L"]).slice(1)
    verdicts = check(values, "uscc")
    assert verdicts.normalised.to_pylist() == ["ABC", None, "91110000600037341L", None, "91110000600037341L"]
    assert verdicts.valid.to_pylist() == [False, None, True, None, True]


@pytest.mark.parametrize("kind", sorted(MODULES))
def test_rare_normalisations_among_absent_values_agree_with_scalar(kind: str) -> None:
    # NFKC makes "¼" and "ǆ" longer ("1⁄4", "dž"): those values take the general route; non-ASCII
    # characters left after normalisation are laid out as one byte each, also between nulls.
    values = [None, "９１１１００００６０００３７３４１ｌ", "", "¼91110000600037341L", None, "ǆ"]
    values += [
        "91110000600037341L",
        "中91110000600037341",
        None,
        "  ",
        "91110000-60003734-1L",
        "柳州市某某公司",
        "600037341",
    ]
    rows = check(pa.array(values * 3, pa.string()), kind, today=TODAY).to_table().to_pylist()
    for value, row in zip(values * 3, rows, strict=True):
        got = (row["normalised"], row["valid"], row["normalised_changed"], row["reason"], row["message"])
        assert got == scalar_verdict(kind, value), repr(value)


def test_verdicts_are_equal_length_arrays_with_a_table_view() -> None:
    verdicts = check(pa.array(SAMPLES), "uscc")
    assert isinstance(verdicts, CodeVerdicts)
    assert len(verdicts) == len(SAMPLES)
    table = verdicts.to_table()
    assert table.column_names == ["kind", "normalised", "valid", "normalised_changed", "reason", "message"]
    assert table.schema.field("valid").type == pa.bool_()
    assert all(table.column(name).type == pa.string() for name in ["kind", "normalised", "reason", "message"])


def test_absent_values_give_null_verdicts() -> None:
    row = check(pa.array([None, "  ", "\u3000"]), "uscc").to_table().to_pylist()
    assert all(set(r.values()) == {None} for r in row)


@pytest.mark.parametrize(
    "values",
    [
        pa.chunked_array([["91110000600037341L"], [None, "91110000600037341N"]]),
        pa.array(["91110000600037341L", None, "91110000600037341N"], pa.large_string()),
        ["91110000600037341L", None, "91110000600037341N"],
        pa.array(["x", "91110000600037341L", None, "91110000600037341N"]).slice(1),
    ],
)
def test_input_forms(values: object) -> None:
    assert check(values, "uscc").valid.to_pylist() == [True, None, False]


def test_empty_input() -> None:
    assert len(check(pa.array([], pa.string()), "auto")) == 0


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        check(pa.array(["1"]), "vat")


def test_placeholder_with_regno_column() -> None:
    codes = pa.array([uscc.PLACEHOLDER, uscc.PLACEHOLDER, uscc.PLACEHOLDER, "91110000600037341L"])
    regnos = pa.array(["450200000012340", "450200000012341", None, None])
    verdicts = check(codes, "uscc", regno=regnos)
    assert verdicts.valid.to_pylist() == [True, False, False, True]
    assert verdicts.reason.to_pylist()[1:3] == ["USCC_PLACEHOLDER_WITHOUT_REGNO"] * 2
    with pytest.raises(ValueError, match="regno has 1 values for 4 codes"):
        check(codes, "uscc", regno=regnos.slice(3))


def test_old_idcard_is_upgraded_and_flagged_as_changed() -> None:
    verdicts = check(pa.array(["360426910101007", "360426199101010071"]), "idcard")
    assert verdicts.normalised.to_pylist() == ["360426199101010071", "360426199101010071"]
    assert verdicts.normalised_changed.to_pylist() == [True, False]


@pytest.mark.parametrize(
    ("value", "kind", "valid"),
    [
        ("91110000600037341L", "uscc", True),
        ("91110000600037341N", "uscc", False),
        ("9144030071526726XG", "uscc", True),
        ("121200004013590816", "uscc", True),
        ("00000000000000000X", "uscc", False),
        ("60003734-1", "orgcode", True),
        ("600037342", "orgcode", False),
        ("450200000012340", "regno", True),
        ("450200000012341", "regno", False),
        ("360426910101007", "idcard", True),
        ("360426199101010071", "idcard", True),
        ("44011320141005001X", "idcard", True),
        # Only the check character is wrong: still shaped like an identity number, so masked.
        ("360426199101010072", "idcard", False),
        ("9111000060003734", "unknown", False),
        ("9.14502E+17", "unknown", False),
    ],
)
def test_auto_detection(value: str, kind: str, valid: bool) -> None:
    verdicts = check(pa.array([value]), "auto")
    assert (verdicts.kind[0].as_py(), verdicts.valid[0].as_py()) == (kind, valid)


def test_auto_prefers_idcard_when_a_value_passes_both_checks() -> None:
    # An all-digit USCC that is also a valid identity number: taken as personal data, so masked.
    code = find_uscc_that_is_also_an_idcard()
    assert uscc.is_valid(code) and idcard.is_valid(code)
    assert check(pa.array([code]), "auto").kind.to_pylist() == ["idcard"]


def find_uscc_that_is_also_an_idcard() -> str:
    # 12 (institution) + 4502 19 reads as address 124502 and a birth date 19YYMMDD, which continues
    # into the organisation code; search the sequence for a check character both standards share.
    for day in range(1, 29):
        for sequence in range(100):
            org_body = f"8001{day:02d}{sequence:02d}"
            code17 = "12450219" + org_body + orgcode.calc_check_char(org_body)
            code = code17 + uscc.calc_check_char(code17)
            if idcard.is_valid(code) and uscc.is_valid(code):
                return code
    raise AssertionError("no ambiguous code found")


def test_auto_regno_wins_over_old_idcard_when_both_pass() -> None:
    for n in range(10000):
        body = f"45020280010{n:03d}"[:14]
        value = body + regno.calc_check_char(body)
        if idcard.is_valid(value):
            break
    else:
        raise AssertionError("no ambiguous value found")
    assert check(pa.array([value]), "auto").kind.to_pylist() == ["regno"]


def test_mask_idcards() -> None:
    masked = mask_idcards(pa.array(["360426199101010071", "360426 910101 007", "1234", None]))
    assert masked.to_pylist() == ["3604**********0071", "3604*******1007", "****", None]
    assert masked.to_pylist()[:3] == [
        idcard.mask(v) for v in ["360426199101010071", "360426 910101 007", "1234"]
    ]


def test_normalise_array() -> None:
    assert normalise_array(pa.array(["ａｂ- c", None])).to_pylist() == ["ABC", None]


def test_many_rows_with_every_kind_of_damage() -> None:
    values = [v for v in SAMPLES if v is not None] * 5000
    verdicts = check(pa.array(values), "uscc")
    expected = [scalar_verdict("uscc", v)[3] for v in SAMPLES if v is not None] * 5000
    assert verdicts.reason.to_pylist() == expected


def _empty_forms() -> dict[str, object]:
    import pandas as pd

    all_null = pa.table({"c": pa.nulls(3, pa.string())}).to_pandas(types_mapper=pd.ArrowDtype)["c"]
    return {
        "array": pa.array([], pa.string()),
        "no chunks": pa.chunked_array([], pa.string()),
        # What pandas hands over after dropping the nulls of an all-null column (as GX does).
        "filtered pandas column": pa.array(all_null[all_null.notna()].array),
        "sliced to nothing": pa.array(["91110000600037341L", None]).slice(2),
        "filtered to nothing": pa.array(["91110000600037341L", None]).filter(pa.array([False, False])),
        "list": [],
    }


@pytest.mark.parametrize("kind", [*sorted(MODULES), "auto"])
@pytest.mark.parametrize("form", list(_empty_forms()))
def test_empty_input_of_every_form(kind: str, form: str) -> None:
    values = _empty_forms()[form]
    regnos = pa.array([], pa.string()) if kind == "uscc" else None
    table = check(values, kind, regno=regnos).to_table()
    assert table.num_rows == 0
    assert table.schema.field("valid").type == pa.bool_()


def test_nulls_and_blanks_are_not_laid_out_or_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    import etl.codes._verdicts as verdicts_module

    checked: list[int] = []
    real = uscc.validate_matrix

    def spy(m, length, regno_valid=None):
        checked.append(len(m))
        return real(m, length, regno_valid)

    monkeypatch.setattr(uscc, "validate_matrix", spy)
    values = [None] * 5000 + ["91110000600037341L", "  ", "91110000600037341N"] + [""] * 1000
    verdicts = verdicts_module.check(pa.array(values, pa.string()), "uscc")
    assert checked == [2]
    assert verdicts.valid.to_pylist() == [None] * 5000 + [True, None, False] + [None] * 1000
    assert verdicts.reason.to_pylist()[5000:5003] == [None, None, "USCC_BAD_CHECK"]


def test_sparse_columns_agree_with_each_value_checked_alone() -> None:
    # Present values among nulls and blanks, at positions that differ between codes and regnos.
    codes = [None, uscc.PLACEHOLDER, "", uscc.PLACEHOLDER, None, "91110000600037341N", uscc.PLACEHOLDER]
    regnos = ["450200000012340", "450200000012340", None, None, "x", None, "450200000012341"]
    together = check(pa.array(codes, pa.string()), "uscc", regno=pa.array(regnos, pa.string()))
    alone = [
        check([c], "uscc", regno=[r]).to_table().to_pylist()[0] for c, r in zip(codes, regnos, strict=True)
    ]
    assert together.to_table().to_pylist() == alone
    assert together.valid.to_pylist() == [None, True, None, False, None, False, False]

    mixed = [None, "360426910101007", "", "60003734-1", None, "9.14502E+17", "360426199101010071", None]
    together = check(pa.array(mixed, pa.string()), "auto", today=TODAY)
    alone = [check([v], "auto", today=TODAY).to_table().to_pylist()[0] for v in mixed]
    assert together.to_table().to_pylist() == alone
    assert together.normalised.to_pylist()[1] == "360426199101010071"  # the old number, upgraded
