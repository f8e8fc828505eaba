"""One delivery's clean rows, generated column by column from the catalog and made to obey it.

A ``Table`` holds typed columns: dates as day ordinals (0 = empty), everything else as text
(``""`` = empty). Columns are generated lazily, so a generator may ask for another column it
depends on (the fine amount for the penalty content, the decision date for the validity). After
generation the catalog's rules are enforced generically — required fields, ``require`` rules,
``one_of`` groups, ``compare`` rules, allowed values, patterns, lengths and a unique dedup key — so
that every row of the table is clean by the catalog's own definition, whatever dataset it is.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from etl.catalog import CatalogField, CompareRule, Condition, Dataset, Department, RequireRule, Source
from etl.demo_data import values
from etl.demo_data.arrays import mask_distinct
from etl.demo_data.subjects import SubjectPool

log = logging.getLogger(__name__)

EMPTY_DATE = 0


@dataclass
class Context:
    """What every value generator sees: the delivery, its subjects and the columns made so far."""

    dataset: Dataset
    department: Department
    source: Source
    pool: SubjectPool
    rng: np.random.Generator
    subjects: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    _memo: dict[str, Any] = field(default_factory=dict)
    _building: set[str] = field(default_factory=set)

    @property
    def n(self) -> int:
        return len(self.subjects)

    def has(self, name: str) -> bool:
        return name in self.dataset.field_names

    def col(self, name: str) -> np.ndarray:
        """The column of dataset field ``name``, generated on first use."""
        if name not in self.columns:
            if name in self._building:
                raise RuntimeError(f"value generators depend on each other in a cycle through {name!r}")
            self._building.add(name)
            spec = self.dataset.field(name)
            self.columns[name] = _checked(values.generator_for(spec)(self, spec), spec, self.n)
            self._building.discard(name)
        return self.columns[name]

    def memo(self, key: str, make: Callable[[], Any]) -> Any:
        """A hidden per-delivery value shared by several generators (e.g. the penalty case)."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    # Small vectorised helpers --------------------------------------------------------------------

    def pick(self, options: tuple[Any, ...] | list[Any], p: tuple[float, ...] | None = None) -> np.ndarray:
        """One of ``options`` per row."""
        weights = None if p is None else np.asarray(p, dtype=float) / np.sum(p)
        index = self.rng.choice(len(options), size=self.n, p=weights)
        return np.array([*options, None], dtype=object)[:-1][index]

    def chance(self, probability: float) -> np.ndarray:
        return self.rng.random(self.n) < probability

    def days_between(self, low: int | np.ndarray, high: int | np.ndarray) -> np.ndarray:
        """A uniform day ordinal in [low, high] per row (bounds may be per row)."""
        low = np.asarray(low, dtype=np.int64)
        high = np.maximum(np.asarray(high, dtype=np.int64), low)
        return low + (self.rng.random(self.n) * (high - low + 1)).astype(np.int64)


def _checked(column: np.ndarray, spec: CatalogField, n: int) -> np.ndarray:
    if len(column) != n:
        raise RuntimeError(f"generator for {spec.name!r} returned {len(column)} values for {n} rows")
    if spec.type == "date":
        return np.asarray(column, dtype=np.int64)
    return np.asarray(column, dtype=object)


@dataclass
class Table:
    """The clean rows of one delivery, by canonical field name, and each row's subject."""

    dataset: Dataset
    columns: dict[str, np.ndarray]
    subjects: np.ndarray

    def __len__(self) -> int:
        return len(self.subjects)

    def filled(self, name: str) -> np.ndarray:
        column = self.columns[name]
        return column != EMPTY_DATE if column.dtype != object else column != ""

    def take(self, index: np.ndarray) -> Table:
        return Table(self.dataset, {k: v[index] for k, v in self.columns.items()}, self.subjects[index])


def build_table(
    dataset: Dataset,
    department: Department,
    source: Source,
    pool: SubjectPool,
    rows: int,
    rng: np.random.Generator,
) -> Table:
    """Generates ``rows`` clean rows (fewer when the dataset lists each subject once and the pool
    has fewer eligible subjects, or when duplicates of the dedup key had to be dropped)."""
    subjects = values.choose_subjects(dataset, department, pool, rows, rng)
    context = Context(dataset, department, source, pool, rng, subjects)
    for name in dataset.field_names:
        context.col(name)
    table = Table(dataset, dict(context.columns), subjects)
    _enforce(table, context)
    return _drop_duplicate_keys(table)


# ---------------------------------------------------------------------------------------------------
# Rules


def holds(condition: Condition, table: Table) -> np.ndarray:
    """Rows where ``condition`` holds (conditions test text fields)."""
    column = table.columns[condition.field]
    if condition.equals is not None:
        return column == condition.equals
    if condition.in_ is not None:
        return np.isin(column, list(condition.in_))
    separator = table.dataset.field(condition.field).separator
    wanted = condition.contains
    if separator:
        return mask_distinct(column, lambda v: wanted in v.split(separator))
    return mask_distinct(column, lambda v: wanted in v)


def _enforce(table: Table, context: Context) -> None:
    dataset = table.dataset
    for spec in dataset.fields:
        if spec.required:
            _fill(table, context, spec.name, ~table.filled(spec.name))
    for rule in dataset.rules:
        if isinstance(rule, RequireRule):
            when = holds(rule.when, table)
            for name in rule.require:
                _fill(table, context, name, when & ~table.filled(name))
    for group in dataset.one_of:
        applies = holds(group.when, table) if group.when else np.ones(len(table), dtype=bool)
        none = np.logical_and.reduce([~table.filled(name) for name in group.fields])
        _fill(table, context, group.fields[0], applies & none)
    for spec in dataset.fields:
        _conform(table, context, spec)
    for rule in dataset.rules:
        if isinstance(rule, CompareRule):
            _order(table, rule)


def _fill(table: Table, context: Context, name: str, rows: np.ndarray) -> None:
    """Fills empty cells a named generator left where a rule wants a value."""
    if not rows.any():
        return
    spec = table.dataset.field(name)
    log.debug("filling %d empty %s.%s cells", int(rows.sum()), table.dataset.id, name)
    table.columns[name] = np.where(rows, values.fallback(context, spec), table.columns[name])
    if spec.type == "date":
        table.columns[name] = table.columns[name].astype(np.int64)


def _conform(table: Table, context: Context, spec: CatalogField) -> None:
    """Allowed values, patterns and lengths: replaces what a named generator got wrong."""
    if spec.type == "date" or spec.is_code:
        return
    column = table.columns[spec.name]
    filled = column != ""
    bad = np.zeros(len(column), dtype=bool)
    if spec.allowed:
        ok = set(spec.allowed)
        bad |= filled & ~mask_distinct(
            column, lambda v: _allowed(v, ok, spec.allowed_prefixes, spec.separator)
        )
    if spec.pattern:
        pattern = re.compile(spec.pattern)
        bad |= filled & ~mask_distinct(column, lambda v: pattern.fullmatch(v) is not None)
    if bad.any():
        log.warning(
            "%s.%s: %d generated values broke the catalog; replaced", table.dataset.id, spec.name, bad.sum()
        )
        column = np.where(bad, values.fallback(context, spec), column)
    if spec.max_length:
        limit = spec.max_length
        long = np.fromiter(map(len, column), dtype=np.int64, count=len(column)) > limit
        if long.any():
            column = column.copy()
            column[long] = [v[:limit] for v in column[long]]
    table.columns[spec.name] = column


def _allowed(value: str, allowed: set[str], prefixes: tuple[str, ...], separator: str | None) -> bool:
    parts = value.split(separator) if separator else [value]
    return all(
        p in allowed or (p.startswith(prefixes) and len(p) > len(min(prefixes, key=len))) for p in parts
    )


def _order(table: Table, rule: CompareRule) -> None:
    """Moves the later date of a violated ``compare`` rule to the earlier one."""
    left, right = table.columns[rule.left], table.columns[rule.right]
    if left.dtype == object:
        return  # numbers compared as text would need parsing; no catalog rule needs it yet
    both = (left != EMPTY_DATE) & (right != EMPTY_DATE)
    ok = {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[rule.op]
    broken = both & ~ok
    if not broken.any():
        return
    log.debug("%s: %d rows broke %s; reordered", table.dataset.id, broken.sum(), rule.id)
    strict = 1 if rule.op in ("<", ">") else 0
    if rule.op in ("<", "<="):
        table.columns[rule.right] = np.where(broken, left + strict, right)
    else:
        table.columns[rule.left] = np.where(broken, right + strict, left)


def dedup_keys(table: Table, rows: np.ndarray | None = None) -> list[tuple[Any, ...]]:
    """The dedup key of each row (or of ``rows``)."""
    columns = [table.columns[name] for name in table.dataset.dedup_key]
    if rows is not None:
        columns = [c[rows] for c in columns]
    return list(zip(*columns, strict=True))


def _drop_duplicate_keys(table: Table) -> Table:
    seen: set[tuple[Any, ...]] = set()
    keep = np.ones(len(table), dtype=bool)
    for i, key in enumerate(dedup_keys(table)):
        if key in seen:
            keep[i] = False
        seen.add(key)
    if keep.all():
        return table
    log.debug("%s: dropped %d rows with a repeated dedup key", table.dataset.id, (~keep).sum())
    return table.take(np.flatnonzero(keep))
