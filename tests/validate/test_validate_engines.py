"""The Arrow engine and GX judge alike: the same unexpected rows per expectation, the same reasons
with the same messages, on hand-built batches of every dataset full of edge cases (the synthetic
deliveries are in test_validate_engines_deliveries.py). Both engines run in every test here."""

from __future__ import annotations

import datetime as dt
import random

import pyarrow as pa
from validate_batches import GOOD, make_batch

from etl.catalog import Catalog, Dataset
from etl.validate import DeliveryState, arrow_engine, current_checks, current_suite, gx_runner, validate_batch
from etl.validate.columns import Columns

PLACEHOLDER = "00000000000000000X"
TODAY = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()

# Text that sits on the edges of the rules: blanks that are not null, separators full-width or
# doubled, prefixes with and without text, newlines where Python's "$" and RE2's differ, Unicode
# spaces that Python's "\s" knows and RE2's does not, full-width digits.
EDGE_TEXT = [
    "",
    " ",
    "警告",
    "警告;罚款",
    "罚款；\u3000警告",
    "警告 ; 罚款",
    "警告;;罚款",
    "警告;",
    "其他-",
    "其他-责令改正",
    "其他-责令改正;罚款",
    "警告\n",
    "警告\n罚款",
    "罚款\u00a0;\u2003警告",
    "罚金",
    "身份证",
    "护照号",
    "其他-军官证",
    "驾驶证",
    "2026-01-05",
    "2026-01-05T10:30:00+08:00",
    "2026-01-05 10:30\n",
    "2026年第一季度",
    "（2025）柳01民初1号",
    "(2025)柳01号\n",
    "D123456789",
    "J1234567890123",
    "450202",
    "４５０２０２",
    "450202\n",
    "914502006189012345",
    "91450200618901234\n",
    "abc",
]
CODES = {
    "uscc": ["91110000600037341L", "91110000600037341N", PLACEHOLDER, "9111000060003734", "", "x"],
    "regno": ["450200000012340", "450200000012341", "45020000001234"],
    "orgcode": ["600037341", "600037342", "60003734-1"],
    "idcard": ["360426199101010071", "360426199101010072", "E12345678", "44011320141005001Y"],
}


def edge_value(field, rng: random.Random, dataset: Dataset):
    """A value for ``field`` drawn to hit its rules and their edges (None a third of the time)."""
    if rng.random() < 0.3:
        return None
    if field.type == "date":
        return rng.choice([TODAY, TODAY + dt.timedelta(days=1), dt.date(2099, 1, 1), dt.date(2025, 1, 1)])
    if field.type == "decimal":
        return rng.choice(["0", "1.5", "12345.678901"])
    if field.type == "integer":
        return rng.choice([0, 7, -1])
    if field.type in CODES:
        return rng.choice(CODES[field.type] + CODES["idcard"][:1])
    choices = list(EDGE_TEXT)
    if field.allowed:
        choices += list(field.allowed) * 3
        choices += [f"{a}；{b}" for a, b in zip(field.allowed, field.allowed[1:], strict=False)]
    if field.max_length:
        choices += ["柳" * field.max_length, "柳" * (field.max_length + 1), "x" * (field.max_length + 1)]
    for rule in dataset.rules:  # values the cross-field conditions test for
        condition = getattr(rule, "when", None)
        if condition is not None and condition.field == field.name:
            choices += [v for v in (condition.equals, condition.contains, *(condition.in_ or ())) if v]
    return rng.choice(choices)


def edge_records(dataset: Dataset, n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [{f.name: edge_value(f, rng, dataset) for f in dataset.fields} for _ in range(n)]


def outcomes_by_both(batch, dataset: Dataset) -> tuple[list, list]:
    arrow = arrow_engine.outcomes(Columns.of_batch(batch.typed, dataset), current_checks(dataset))
    gx = gx_runner.outcomes(
        gx_runner.run_suite(gx_runner.gx_frame(batch.typed, dataset), current_suite(dataset))
    )
    return arrow, gx


def as_rows(outcomes) -> list[tuple]:
    return [(o.type, o.kwargs, o.rows.tolist()) for o in outcomes]


def assert_same_verdicts(batch, dataset: Dataset) -> pa.Table:
    by_gx = validate_batch(batch, dataset, DeliveryState(), engine="gx")
    by_arrow = validate_batch(batch, dataset, DeliveryState(), engine="arrow", gx_sample_rows=0)
    assert by_arrow.reasons.to_pylist() == by_gx.reasons.to_pylist()
    assert by_arrow.rejected.equals(by_gx.rejected)
    return by_gx.reasons


def test_every_dataset_on_edge_cases(catalog: Catalog):
    failing_types: set[str] = set()
    for dataset in catalog.datasets.values():
        batch = make_batch(dataset, edge_records(dataset, 300, seed=len(dataset.id)))
        arrow, gx = outcomes_by_both(batch, dataset)
        assert as_rows(arrow) == as_rows(gx), dataset.id
        failing_types |= {o.type for o in gx if len(o.rows)}
        assert_same_verdicts(batch, dataset)
    # Every kind of expectation met rows it rejects: the comparison above cannot pass by having none.
    every_type = {e["type"] for d in catalog.datasets.values() for e in current_suite(d)["expectations"]}
    assert failing_types == every_type


EDGE_PENALTIES = [
    {"decision_date": None},
    {"valid_until": None},
    {"valid_until": dt.date(2025, 1, 1)},
    {"valid_until": GOOD["decision_date"]},
    {"decision_date": None, "valid_until": None},
    {"uscc": PLACEHOLDER},
    {"uscc": PLACEHOLDER, "regno": "450200000012340"},
    {"uscc": PLACEHOLDER, "regno": "450200000012341"},
    {"uscc": PLACEHOLDER, "regno": ""},
    {"uscc": ""},
    {"authority_uscc": PLACEHOLDER},
    {"subject_category": "自然人", "uscc": None, "id_type": "身份证", "id_no": "360426199101010072"},
    {"subject_category": "自然人", "uscc": None, "id_type": "护照号", "id_no": "360426199101010072"},
    {"subject_category": "自然人", "uscc": None, "id_type": None, "id_no": "360426199101010072"},
    {"subject_category": "自然人", "uscc": None, "id_type": "身份证", "id_no": None},
    {"legal_rep_id_type": "身份证", "legal_rep_id_no": "44011320141005001Y"},
    {"legal_rep_id_type": "其他-身份证", "legal_rep_id_no": "44011320141005001Y"},
    {"penalty_types": "罚款；\u3000警告"},
    {"penalty_types": "罚款\n"},
    {"penalty_types": "警告;;罚款"},
    {"penalty_types": "其他-", "fine_amount": None},
    {"penalty_types": "其他-罚款", "fine_amount": None},
    {"penalty_types": "警告；罚款", "fine_amount": None},
    {"penalty_types": " 罚款 ", "fine_amount": None},
    {"tax_reg_no": "914502006189012345\n"},
    {"tax_reg_no": "９１４５０２００６１８９０１２３４５"},
    {"subject_category": "个体工商户", "uscc": None},
    {"subject_category": None, "uscc": None},
    {"subject_name": "柳" * 200},
    {"subject_name": "柳" * 201},
    {"decision_no": None},
    {},
]


def test_admin_penalty_edge_batch():
    from etl.catalog import load_catalog

    dataset = load_catalog().datasets["admin_penalty"]
    records = [{**GOOD, "decision_no": f"边界{i}", **edge} for i, edge in enumerate(EDGE_PENALTIES)]
    records.append(dict(records[-1]))  # a duplicate of the last row
    batch = make_batch(dataset, records)
    arrow, gx = outcomes_by_both(batch, dataset)
    assert as_rows(arrow) == as_rows(gx)
    reasons = assert_same_verdicts(batch, dataset)
    found = {(r["row"] - 2, r["rule"]) for r in reasons.to_pylist()}
    # A few that only hold if each engine applies row conditions, separators and nulls as GX does.
    assert (11, "IDCARD_BAD_CHECK") in found
    assert not any(row == 12 for row, _ in found)  # a passport number is not checked as an ID card
    assert (17, "allowed") not in found  # a full-width separator and an ideographic space are fine
    assert (18, "allowed") not in found  # Python's "$" matches before a final newline
    assert (24, "pattern") not in found
    assert (2, "valid_until_after_decision") in found and (1, "valid_until_after_decision") not in found
    assert (len(records) - 1, "duplicate") in found
