"""The GX expectation suite of each dataset, generated from the catalog.

A suite is plain JSON in Great Expectations' own format (``gx.ExpectationSuite(**suite)`` loads it),
written to ``expectations/<dataset>.json`` and committed, so a reviewer sees in the diff what a
catalog change does to the checks; ``credit-etl expectations build --check`` fails when a committed
suite drifts from the catalog. Building a suite is pure: no GX import, no clock, no randomness.

How the catalog maps to expectations (one per rule, in catalog order):

=========================  =========================================================================
catalog                    expectation
=========================  =========================================================================
``required``               ``expect_column_values_to_not_be_null``
``max_length``             ``expect_column_value_lengths_to_be_between`` (``max_value``)
``allowed``                ``expect_column_values_to_be_in_set``; with ``allowed_prefixes`` or a
                           ``separator``: ``expect_column_values_to_match_regex`` (items escaped)
``pattern``                ``expect_column_values_to_match_regex``
code types                 ``expect_column_values_to_be_valid_{uscc,orgcode,regno,idcard}``
                           (custom, backed by ``etl.codes.check``); ``type_when`` becomes the
                           expectation's ``row_condition``
event dates                ``expect_column_values_to_not_be_in_the_future`` (custom) for the date a
                           publication SLA counts from and a list's entry date
``one_of``                 ``expect_any_of_columns_to_be_filled`` (custom)
``require`` rules          ``expect_columns_to_be_filled_when`` (custom)
``compare`` rules          ``expect_column_pair_values_a_to_be_greater_than_b``
``dedup_key``              suite ``meta`` only: duplicates span batches, which a suite cannot see
=========================  =========================================================================

Every expectation's ``meta`` names the catalog ``field`` a failure is reported on, the ``rule`` id,
and the Chinese ``message`` template a clerk reads; placeholders in braces are filled per row by
``etl.validate.verdicts``: ``{value}`` (the cell as delivered, masked for personal fields),
``{length}``, ``{items}``, ``{detail}`` (the etl.codes message), ``{left}``/``{right}``, ``{first_row}``.

>>> from etl.catalog import load_catalog
>>> suite = build_suite(load_catalog().datasets["admin_penalty"])
>>> first = suite["expectations"][0]
>>> first["type"], first["kwargs"], first["meta"]["message"]
('expect_column_values_to_not_be_null', {'column': 'subject_name'}, '行政相对人名称为必填项，请补充')
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

from etl.catalog import Catalog, CatalogField, CompareRule, Condition, Dataset, RequireRule
from etl.errors import CatalogError
from etl.validate.rules import allowed_regex

DEFAULT_SUITES_DIR = Path(__file__).resolve().parent.parent.parent / "expectations"

# What a clerk calls each kind of code; a field titled exactly so needs no title before the message.
CODE_NAMES = {
    "uscc": "统一社会信用代码",
    "orgcode": "组织机构代码",
    "regno": "工商注册号",
    "idcard": "身份证号码",
}
USCC_PLACEHOLDER = "00000000000000000X"

Expectation = dict[str, Any]


def suite_path(dataset_id: str, directory: Path = DEFAULT_SUITES_DIR) -> Path:
    return directory / f"{dataset_id}.json"


def build_suite(dataset: Dataset) -> dict[str, Any]:
    """The suite of ``dataset`` as a JSON-ready dict in GX's ``ExpectationSuite`` format."""
    expectations: list[Expectation] = []
    for field in dataset.fields:
        expectations.extend(_field_expectations(dataset, field))
    for group in dataset.one_of:
        expectations.append(_one_of(dataset, group.id, group.fields, group.when, group.message))
    for rule in dataset.rules:
        if isinstance(rule, RequireRule):
            expectations.append(_require(dataset, rule))
        else:
            expectations.append(_compare(dataset, rule))
    return {
        "name": dataset.id,
        "id": None,
        "expectations": expectations,
        "meta": {
            "credit_etl": {
                "dataset": dataset.id,
                "title": dataset.title,
                "dedup": _dedup(dataset),
            },
            "great_expectations_version": version("great_expectations"),
        },
        "notes": f"{dataset.title}（{dataset.id}）的校验规则，由数据目录自动生成，请勿手工修改。",
    }


def render_suite(suite: dict[str, Any]) -> str:
    """The committed text of a suite: stable key order, Chinese left readable."""
    return json.dumps(suite, ensure_ascii=False, indent=2) + "\n"


def expected_files(catalog: Catalog) -> dict[str, str]:
    """File name → committed text, for every dataset of the catalog."""
    return {suite_path(d.id).name: render_suite(build_suite(d)) for d in catalog.datasets.values()}


def drift(catalog: Catalog, directory: Path = DEFAULT_SUITES_DIR) -> list[tuple[str, str]]:
    """Suite files that differ from the catalog: (file name, "changed" | "missing" | "stale")."""
    expected = expected_files(catalog)
    present = {p.name for p in directory.glob("*.json")} if directory.is_dir() else set()
    found = []
    for name in sorted(expected.keys() | present):
        if name not in present:
            found.append((name, "missing"))
        elif name not in expected:
            found.append((name, "stale"))
        elif (directory / name).read_text(encoding="utf-8") != expected[name]:
            found.append((name, "changed"))
    return found


def check_loadable(texts: Iterable[str]) -> None:
    """Raise if GX would not load a suite exactly as written (imports GX: seconds)."""
    import great_expectations as gx

    import etl.validate.gx_expectations  # noqa: F401  (the custom expectation types)

    for text in texts:
        suite = json.loads(text)
        loaded = gx.ExpectationSuite(**json.loads(text)).to_json_dict()
        if loaded != suite:
            raise CatalogError([f"suite '{suite['name']}': GX does not load it as generated (a bug)"])


def load_suite(dataset_id: str, directory: Path = DEFAULT_SUITES_DIR) -> dict[str, Any]:
    path = suite_path(dataset_id, directory)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(
            [f"{path}: no expectation suite for dataset '{dataset_id}'; run `credit-etl expectations build`"]
        ) from None


def literal(text: str) -> str:
    """Catalog text inside a message template: braces doubled, so only placeholders are filled.

    >>> literal("^[0-9]{6}$")
    '^[0-9]{{6}}$'
    """
    return text.replace("{", "{{").replace("}", "}}")


def _expectation(
    kind: str, kwargs: dict[str, Any], field: str, rule: str, message: str, **extra: Any
) -> Expectation:
    meta = {"field": field, "rule": rule, "message": message, **extra}
    return {"type": kind, "kwargs": kwargs, "meta": meta, "severity": "critical"}


def _field_expectations(dataset: Dataset, f: CatalogField) -> Iterator[Expectation]:
    column = {"column": f.name}
    title = literal(f.title)
    if f.required:
        yield _expectation(
            "expect_column_values_to_not_be_null", column, f.name, "required", f"{title}为必填项，请补充"
        )
    if f.max_length is not None:
        yield _expectation(
            "expect_column_value_lengths_to_be_between",
            {**column, "max_value": f.max_length},
            f.name,
            "max_length",
            f"{title}长度为{{length}}个字，超过了{f.max_length}个字的上限，请精简后重新填写",
        )
    if f.allowed:
        yield _allowed(f)
    if f.pattern is not None:
        rule_text = literal(f"格式规则：{f.pattern}")
        yield _expectation(
            "expect_column_values_to_match_regex",
            {**column, "regex": f.pattern},
            f.name,
            "pattern",
            f"{title}「{{value}}」格式不符合要求（{rule_text}），请核对后重新填写",
        )
    if f.is_code:
        yield _code(dataset, f)
    if f.name in _event_date_fields(dataset):
        yield _expectation(
            "expect_column_values_to_not_be_in_the_future",
            column,
            f.name,
            "not_future",
            f"{title}「{{value}}」晚于今天，请核对日期后重新填写",
        )


def _allowed(f: CatalogField) -> Expectation:
    assert f.allowed is not None
    title = literal(f.title)
    choices = literal("、".join(f.allowed))
    if f.allowed_prefixes:
        prefixes = literal("、".join(f"“{p}”" for p in f.allowed_prefixes))
        choices += f"，或以{prefixes}开头写明具体内容"
    if not f.allowed_prefixes and not f.separator:
        return _expectation(
            "expect_column_values_to_be_in_set",
            {"column": f.name, "value_set": list(f.allowed)},
            f.name,
            "allowed",
            f"{title}「{{value}}」不在允许值范围内（{choices}）",
        )
    if f.separator:
        message = (
            f"{title}中的「{{items}}」不在允许值范围内（{choices}）；填写多项时用“{literal(f.separator)}”分隔"
        )
    else:
        message = f"{title}「{{value}}」不在允许值范围内（{choices}）"
    return _expectation(
        "expect_column_values_to_match_regex",
        {"column": f.name, "regex": allowed_regex(f.allowed, f.allowed_prefixes, f.separator)},
        f.name,
        "allowed",
        message,
        allowed={"values": list(f.allowed), "prefixes": list(f.allowed_prefixes), "separator": f.separator},
    )


def _code(dataset: Dataset, f: CatalogField) -> Expectation:
    kwargs: dict[str, Any] = {"column": f.name}
    if f.type == "uscc" and _placeholder_judged_by_rule(dataset, f):
        kwargs["accept_placeholder"] = True
    if f.type_when is not None:
        kwargs["row_condition"] = _row_condition(dataset, f.name, f.type_when)
    message = "{detail}" if f.title == CODE_NAMES[f.type] else f"{literal(f.title)}：{{detail}}"
    return _expectation(f"expect_column_values_to_be_valid_{f.type}", kwargs, f.name, f.type, message)


def _placeholder_judged_by_rule(dataset: Dataset, f: CatalogField) -> bool:
    """Whether a rule requires a registration number when ``f`` holds the USCC placeholder.

    Then the USCC check lets the placeholder pass, so that a record with the placeholder and no
    registration number is rejected once, by that rule, and one with a bad registration number
    once, by the registration number's own check.
    """
    for rule in dataset.rules:
        if (
            isinstance(rule, RequireRule)
            and rule.when.field == f.name
            and rule.when.equals == USCC_PLACEHOLDER
            and any(dataset.field(name).type == "regno" for name in rule.require)
        ):
            return True
    return False


def _row_condition(dataset: Dataset, field: str, condition: Condition) -> dict[str, Any]:
    """A GX row condition (serialised ``ComparisonCondition``) for ``equals`` and ``in``."""
    column = {"name": condition.field}
    if condition.equals is not None:
        return {"column": column, "operator": "==", "parameter": condition.equals, "type": "comparison"}
    if condition.in_ is not None:
        return {"column": column, "operator": "IN", "parameter": list(condition.in_), "type": "comparison"}
    raise CatalogError(
        [f"dataset '{dataset.id}': field '{field}': type_when supports 'equals' and 'in', not 'contains'"]
    )


def _event_date_fields(dataset: Dataset) -> set[str]:
    """Dates of things that have happened: the publication SLA's start and a list's entry date."""
    names = set()
    if dataset.sla.publication is not None:
        names.add(dataset.sla.publication.from_field)
    if dataset.list_spec is not None:
        names.add(dataset.list_spec.entry_date_field)
    return {name for name in names if dataset.field(name).type == "date"}


def _condition(dataset: Dataset, condition: Condition) -> dict[str, Any]:
    """A catalog condition as expectation kwargs, with the separator ``contains`` splits on."""
    when: dict[str, Any] = {"field": condition.field}
    if condition.equals is not None:
        when["equals"] = condition.equals
    elif condition.in_ is not None:
        when["in"] = list(condition.in_)
    else:
        when["contains"] = condition.contains
        separator = dataset.field(condition.field).separator
        if separator:
            when["separator"] = separator
    return when


def _one_of(
    dataset: Dataset, rule_id: str, fields: tuple[str, ...], when: Condition | None, message: str
) -> Expectation:
    # Key order and omitted defaults follow GX's own serialisation, so that a suite round-trips
    # through gx.ExpectationSuite unchanged (a test holds them to it).
    columns = [*fields, *((when.field,) if when is not None and when.field not in fields else ())]
    kwargs: dict[str, Any] = {"column_list": columns, "fields": list(fields)}
    if when is not None:
        kwargs["when"] = _condition(dataset, when)
    return _expectation("expect_any_of_columns_to_be_filled", kwargs, fields[0], rule_id, literal(message))


def _require(dataset: Dataset, rule: RequireRule) -> Expectation:
    columns = [rule.when.field, *(name for name in rule.require if name != rule.when.field)]
    kwargs = {
        "column_list": columns,
        "when": _condition(dataset, rule.when),
        "required": list(rule.require),
    }
    return _expectation(
        "expect_columns_to_be_filled_when", kwargs, rule.require[0], rule.id, literal(rule.message)
    )


def _compare(dataset: Dataset, rule: CompareRule) -> Expectation:
    # GX has only "A > B" (or ">="): a "<" rule swaps its sides.
    greater, lesser = (rule.left, rule.right) if rule.op in (">", ">=") else (rule.right, rule.left)
    kwargs = {
        "column_A": greater,
        "column_B": lesser,
        "or_equal": rule.op in (">=", "<="),
        "ignore_row_if": "either_value_is_missing",
    }
    left, right = literal(dataset.field(rule.left).title), literal(dataset.field(rule.right).title)
    message = f"{literal(rule.message)}（{left}：{{left}}，{right}：{{right}}）"
    return _expectation(
        "expect_column_pair_values_a_to_be_greater_than_b",
        kwargs,
        rule.left,
        rule.id,
        message,
        compare={"left": rule.left, "right": rule.right},
    )


def _dedup(dataset: Dataset) -> dict[str, Any]:
    titles = literal("、".join(dataset.field(name).title for name in dataset.dedup_key))
    return {
        "fields": list(dataset.dedup_key),
        "field": dataset.dedup_key[0],
        "rule": "duplicate",
        "message": f"与第 {{first_row}} 行的{titles}重复；同一条记录只需报送一次，请删除重复行",
    }
