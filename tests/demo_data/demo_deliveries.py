"""Reading generated deliveries back, and an independent check of the catalog's rules.

Deliberately written apart from etl.demo_data (no imports from it): the tests compare what the
generator claims (answer keys, manifest) with what a reader of the files actually finds.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from etl.catalog import CatalogField, CompareRule, Condition, Dataset, RequireRule
from etl.codes import idcard, orgcode, regno, uscc
from etl.codes.exceptions import InvalidCode

CODE_MODULES = {"uscc": uscc, "orgcode": orgcode, "regno": regno, "idcard": idcard}
REQUIRED_SUFFIX = "（必填）"
AS_OF = dt.date(2026, 11, 28)
_DATE_FORMS = (
    re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
# Dates that name the end of a validity may lie in the future; event dates may not.
FUTURE_ALLOWED = {"valid_to", "valid_until", "publicity_until", "business_term_to"}


@dataclass
class Delivery:
    """A delivery read back: canonical field → cell text per record, and each record's row number."""

    dataset: Dataset
    records: list[dict[str, str]]
    row_numbers: list[int]
    raw_headers: list[str]


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    return str(value)


def header_map(dataset: Dataset, headers: list[str]) -> list[str]:
    known = {h: f.name for f in dataset.fields for h in (*f.headers, f.name)}
    names = []
    for header in headers:
        name = known.get(header.removesuffix(REQUIRED_SUFFIX))
        names.append(name or f"?{header}")
    return names


def read_delivery(path: Path, fmt: str, encoding: str, dataset: Dataset) -> Delivery:
    if fmt == "csv":
        text = path.read_bytes().decode(encoding)
        rows = list(csv.reader(io.StringIO(text, newline="")))
        headers, body, first = rows[0], rows[1:], 2
    elif fmt == "xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(path).active
        values = [list(r) for r in sheet.iter_rows(values_only=True)]
        headers, body, first = [cell_text(v) for v in values[1]], values[2:], 3
    elif fmt == "json":
        items = json.loads(path.read_text(encoding="utf-8"))
        headers = list(items[0]) if items else []
        body, first = [[item.get(h) for h in headers] for item in items], 1
    elif fmt == "jsonl":
        items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        headers = list(items[0]) if items else []
        body, first = [[item.get(h) for h in headers] for item in items], 1
    else:
        raise ValueError(fmt)
    names = header_map(dataset, headers)
    records = [{n: cell_text(v) for n, v in zip(names, row, strict=True)} for row in body]
    return Delivery(dataset, records, list(range(first, first + len(records))), headers)


def parse_date(text: str) -> dt.date | None:
    for form in _DATE_FORMS:
        match = form.match(text)
        if match:
            try:
                return dt.date(*(int(g) for g in match.groups()))
            except ValueError:
                return None
    return None


def normalise_code(text: str) -> str:
    return unicodedata.normalize("NFKC", text).upper()


def _holds(condition: Condition, record: dict[str, str]) -> bool:
    value = record.get(condition.field, "")
    if condition.equals is not None:
        return value == condition.equals
    if condition.in_ is not None:
        return value in condition.in_
    return condition.contains in value


def _allowed(spec: CatalogField, value: str) -> bool:
    parts = value.split(spec.separator) if spec.separator else [value]
    return all(
        part in (spec.allowed or ())
        or any(part.startswith(p) and len(part) > len(p) for p in spec.allowed_prefixes)
        for part in parts
    )


def problems(dataset: Dataset, record: dict[str, str]) -> Iterator[str]:
    """Every way ``record`` breaks the catalog (codes already normalised by the caller)."""
    for spec in dataset.fields:
        value = record.get(spec.name, "")
        if spec.required and value == "":
            yield f"{spec.name}: required"
        if value:
            yield from _value_problems(dataset, spec, record, value)
    for group in dataset.one_of:
        if (group.when is None or _holds(group.when, record)) and not any(
            record.get(f) for f in group.fields
        ):
            yield f"one_of {group.id}"
    for rule in dataset.rules:
        if isinstance(rule, RequireRule) and _holds(rule.when, record):
            yield from (f"rule {rule.id}: {name} missing" for name in rule.require if not record.get(name))
        if isinstance(rule, CompareRule) and record.get(rule.left) and record.get(rule.right):
            left, right = parse_date(record[rule.left]), parse_date(record[rule.right])
            if left and right and not COMPARE[rule.op](left, right):
                yield f"rule {rule.id}: {left} {rule.op} {right} fails"


COMPARE = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _value_problems(
    dataset: Dataset, spec: CatalogField, record: dict[str, str], value: str
) -> Iterator[str]:
    if spec.allowed and not _allowed(spec, value):
        yield f"{spec.name}: {value!r} not allowed"
    if spec.max_length and len(value) > spec.max_length and not spec.is_code:
        yield f"{spec.name}: longer than {spec.max_length}"
    if spec.pattern and not re.fullmatch(spec.pattern, value):
        yield f"{spec.name}: {value!r} does not match {spec.pattern}"
    if spec.type == "date":
        day = parse_date(value)
        if day is None:
            yield f"{spec.name}: {value!r} is not a date"
        elif day >= AS_OF and spec.name not in FUTURE_ALLOWED:
            yield f"{spec.name}: {value} is in the future"
    if spec.type == "decimal":
        try:
            if Decimal(value) < 0:
                yield f"{spec.name}: negative"
        except InvalidOperation:
            yield f"{spec.name}: {value!r} is not a number"
    if spec.type == "integer" and not value.isdigit():
        yield f"{spec.name}: {value!r} is not an integer"
    if spec.is_code and (spec.type_when is None or _holds(spec.type_when, record)):
        yield from _code_problems(dataset, spec, record, value)


def _code_problems(dataset: Dataset, spec: CatalogField, record: dict[str, str], value: str) -> Iterator[str]:
    module = CODE_MODULES[spec.type]
    try:
        if spec.type == "uscc":
            registration = next(
                (record[f.name] for f in dataset.fields if f.type == "regno" and record.get(f.name)), None
            )
            module.validate(value, regno=registration)
        elif spec.type == "idcard":
            module.validate(value, today=AS_OF)
        else:
            module.validate(value)
    except InvalidCode as exc:
        yield f"{spec.name}: {value!r} {exc.reason}"


def normalised(dataset: Dataset, record: dict[str, str]) -> dict[str, str]:
    """The record after the pipeline's unambiguous normalisation of codes."""
    out = dict(record)
    for spec in dataset.fields:
        if spec.is_code and out.get(spec.name):
            out[spec.name] = normalise_code(out[spec.name])
    return out


def dedup_key(dataset: Dataset, record: dict[str, str]) -> tuple[Any, ...]:
    key = []
    for name in dataset.dedup_key:
        value = record.get(name, "")
        if dataset.field(name).type == "date":
            key.append(parse_date(value) or value)
        elif dataset.field(name).is_code:
            key.append(normalise_code(value))
        else:
            key.append(value)
    return tuple(key)


def read_answer_key(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))
