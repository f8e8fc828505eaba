"""Shared tools of the value generators: the registry of named generators, access to the row's subject,
dates, document serials, and ``fallback`` — a valid value for any field from its type, allowed
values, pattern or title.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from etl.catalog import CatalogField, Department
from etl.codes import uscc as uscc_code
from etl.demo_data import patterns, themes
from etl.demo_data.arrays import map_distinct
from etl.demo_data.settings import AS_OF, LAST_DAY, OPEN_ENDED
from etl.demo_data.subjects import make_regno

if TYPE_CHECKING:
    from etl.demo_data.table import Context


Generator = Callable[["Context", CatalogField], np.ndarray]

LAST = LAST_DAY.toordinal()
TODAY = AS_OF.toordinal()
YEAR_START = dt.date(LAST_DAY.year, 1, 1).toordinal()
OPEN = OPEN_ENDED.toordinal()
# Subject letters of penalty cases and licence kinds: natural person, 个体工商户, organisation.
PERSON, SHOP, ORGANISATION = "p", "s", "c"


def ordinal_of(year: int, month: int = 1, day: int = 1) -> int:
    return dt.date(year, month, day).toordinal()


def text_array(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=object)


def blank(n: int) -> np.ndarray:
    return np.full(n, "", dtype=object)


def wan(fen: int) -> str:
    """An amount of fen (分) as 万元 text without trailing zeros.

    >>> wan(200_000), wan(123_456), wan(100_000_000)
    ('0.2', '0.123456', '100')
    """
    return format((Decimal(fen) / Decimal(1_000_000)).normalize(), "f")


def add_years(ordinal: int, years: int, minus_one_day: bool = True) -> int:
    """The same calendar day ``years`` later (28 Feb for 29 Feb), usually minus one day.

    >>> dt.date.fromordinal(add_years(dt.date(2026, 3, 5).toordinal(), 5))
    datetime.date(2031, 3, 4)
    """
    day = dt.date.fromordinal(ordinal)
    try:
        later = day.replace(year=day.year + years)
    except ValueError:
        later = day.replace(year=day.year + years, day=28)
    return later.toordinal() - (1 if minus_one_day else 0)


def years_after(ordinals: np.ndarray, years: np.ndarray | int) -> np.ndarray:
    years = np.broadcast_to(np.asarray(years), ordinals.shape)
    pairs = ordinals.astype(np.int64) * 1000 + years
    return map_distinct(pairs, lambda p: add_years(p // 1000, p % 1000), dtype=np.int64)


def years_of(ordinals: np.ndarray) -> np.ndarray:
    return map_distinct(
        ordinals, lambda o: dt.date.fromordinal(o).year if o else LAST_DAY.year, dtype=np.int64
    )


def _rank(keys: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Position of each row when ordered by ``keys`` (ties broken at random): a sequence number."""
    order = np.lexsort((rng.random(len(keys)), keys))
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys))
    return rank


def subject_kinds(ctx: Context) -> np.ndarray:
    return ctx.pool.kind[ctx.subjects]


def subject_letters(ctx: Context) -> np.ndarray:
    """``p`` natural person, ``s`` 个体工商户, ``c`` organisation, per row."""

    def make() -> np.ndarray:
        kind = subject_kinds(ctx)
        return np.where(kind == "person", PERSON, np.where(kind == "shop", SHOP, ORGANISATION)).astype(object)

    return ctx.memo("letters", make)


def is_person(ctx: Context) -> np.ndarray:
    return subject_letters(ctx) == PERSON


def subject_attr(ctx: Context, attribute: str) -> np.ndarray:
    return getattr(ctx.pool, attribute)[ctx.subjects]


def people_attr(ctx: Context, attribute: str, index: np.ndarray) -> np.ndarray:
    """An attribute of people by index; ``""`` where the index is -1."""
    column = getattr(ctx.pool.people, attribute)
    return np.where(index >= 0, column[np.maximum(index, 0)], "").astype(object)


def rep_index(ctx: Context) -> np.ndarray:
    return subject_attr(ctx, "rep")


def finance_head_of(ctx: Context) -> np.ndarray:
    """Someone other than the legal representative, the same person for the same subject."""

    def make() -> np.ndarray:
        people = len(ctx.pool.people.name)
        index = (ctx.subjects * 7919 + 104729) % people
        index = np.where(index == rep_index(ctx), (index + 1) % people, index)
        filled = ctx.memo("finance_filled", lambda: ctx.chance(0.7))
        return np.where(is_person(ctx) | ~filled, -1, index)

    return ctx.memo("finance_head", make)


def person_index(ctx: Context) -> np.ndarray:
    return subject_attr(ctx, "person")


def uses_alt_id(ctx: Context, people: np.ndarray, type_field: str) -> np.ndarray:
    """Whether a person shows a passport or permit instead of an ID card (only where a form asks)."""
    if not ctx.has(type_field):
        return np.zeros(ctx.n, dtype=bool)
    return people_attr(ctx, "alt_id_type", people) != ""


def birth_dates(id_numbers: np.ndarray) -> np.ndarray:
    def birth(number: str) -> int:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14])).toordinal() if number else 0

    return map_distinct(id_numbers, birth, dtype=np.int64)


NAMED: dict[str, Generator] = {}


def named(*names: str) -> Callable[[Generator], Generator]:
    def register(fn: Generator) -> Generator:
        for name in names:
            NAMED[name] = fn
        return fn

    return register


def generator_for(spec: CatalogField) -> Generator:
    """The named generator of a field, else one built from its type, pattern and title."""
    return NAMED.get(spec.name, _unknown_field)


def _unknown_field(ctx: Context, spec: CatalogField) -> np.ndarray:
    """A field nobody wrote a generator for: valid values, mostly empty when optional."""
    values = fallback(ctx, spec)
    if spec.required:
        return values
    empty = np.int64(0) if spec.type == "date" else ""
    return np.where(ctx.chance(0.3), values, empty)


def recent_dates(ctx: Context, low: int = YEAR_START, scale: float = 60.0) -> np.ndarray:
    """Dates up to LAST_DAY, most of them in the last weeks (decisions are published promptly)."""
    days = LAST - ctx.rng.exponential(scale, ctx.n).astype(np.int64)
    return np.where(days < low, ctx.days_between(low, LAST), days)


def event_dates(ctx: Context) -> np.ndarray:
    return ctx.memo("event", lambda: recent_dates(ctx))


def optional_dates(ctx: Context, spec: CatalogField, share: float, values: np.ndarray) -> np.ndarray:
    if spec.required:
        return values
    return np.where(ctx.chance(share), values, 0)


def latest_dates(dates: dict[str, np.ndarray], n: int) -> np.ndarray:
    """The latest date of each row that is not in the future (validity ends usually are)."""
    latest = np.full(n, YEAR_START, dtype=np.int64)
    for values in dates.values():
        latest = np.where((values <= LAST) & (values > latest), values, latest)
    return latest


def timestamps_after(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    """ISO timestamps with the China offset, between ``days`` and LAST_DAY, mostly recent:
    a record's last change in the department's system (the watermark of incremental pulls)."""
    n = len(days)
    day = np.maximum(LAST - rng.exponential(20.0, n).astype(np.int64), days)
    seconds = rng.integers(8 * 3600, 20 * 3600, n)
    dates = map_distinct(day, lambda d: dt.date.fromordinal(d).isoformat())
    return text_array(
        [
            f"{d}T{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}+08:00"
            for d, s in zip(dates, seconds.tolist(), strict=True)
        ]
    )


def doc_prefix(department: Department) -> str:
    """柳市监, 柳环 …; for a department without one, 柳 plus its short name's core."""
    if department.id in themes.DOC_PREFIXES:
        return themes.DOC_PREFIXES[department.id]
    return "柳" + department.short_name.removeprefix("市").removesuffix("局").removesuffix("委")[:3]


def main_dates(ctx: Context) -> np.ndarray:
    for name in ("decision_date", "entry_date", "publish_date", "issue_date"):
        if ctx.has(name):
            return ctx.col(name)
    return event_dates(ctx)


def serials(ctx: Context, key: str, order: np.ndarray, start: tuple[int, int] = (1, 300)) -> np.ndarray:
    """Distinct sequence numbers in the order of ``order`` (documents are numbered as issued)."""
    return ctx.memo(key, lambda: int(ctx.rng.integers(*start)) + _rank(order, ctx.rng))


def per_subject_letter(ctx: Context, kinds: list[str], key: str) -> np.ndarray:
    """For each row, the index of an item whose kinds letters include the row's subject letter."""

    def make() -> np.ndarray:
        letters = subject_letters(ctx)
        choice = np.zeros(ctx.n, dtype=np.int64)
        for letter in (PERSON, SHOP, ORGANISATION):
            rows = np.flatnonzero(letters == letter)
            fits = [i for i, k in enumerate(kinds) if letter in k] or list(range(len(kinds)))
            choice[rows] = np.array(fits)[ctx.rng.integers(0, len(fits), len(rows))]
        return choice

    return ctx.memo(key, make)


def one_of_each(
    ctx: Context, options: list[tuple[Any, ...]], item: np.ndarray, dtype: Any = object
) -> np.ndarray:
    """Per row, one of the options of that row's item (a case's penalty types, fines …)."""
    width = max(len(o) for o in options)
    table = np.empty((len(options), width), dtype=dtype)
    for i, choices in enumerate(options):
        table[i, : len(choices)] = choices
    lengths = np.array([len(o) for o in options])
    return table[item, ctx.rng.integers(0, 1 << 30, ctx.n) % lengths[item]]


def wan_column(fen: np.ndarray) -> np.ndarray:
    return np.where(fen > 0, map_distinct(fen, wan), "").astype(object)


def serial_text(ctx: Context, spec: CatalogField) -> np.ndarray:
    """Distinct numbers in the field's pattern (D345000123), or 柳-prefixed serials without one."""
    serial = serials(ctx, f"serial_{spec.name}", ctx.rng.random(ctx.n), (1000, 5000))
    if spec.pattern and spec.pattern.startswith("^D"):
        return text_array([f"D345{s:06d}" for s in serial.tolist()])
    return text_array([f"{doc_prefix(ctx.department)}{LAST_DAY.year}{s:06d}" for s in serial.tolist()])


MEDICAL_SUFFIXES = ("医院", "卫生院", "保健院", "门诊部有限公司", "疾病预防控制中心")


def workplace_of(ctx: Context, tags: str, key: str) -> np.ndarray:
    """A workplace from the pool, the same one for the same person."""

    def make() -> np.ndarray:
        kinds = ("institution", "company") if tags == "h" else ("company",)
        places = ctx.pool.indices(kinds, tags=tags, local_only=True)
        if tags == "h":  # hospitals, health centres and clinics, not pharmacies
            medical = [i for i in places if ctx.pool.name[i].endswith(MEDICAL_SUFFIXES)]
            places = np.array(medical or places, dtype=np.int64)
        return places[(ctx.subjects * 2654435761) % len(places)]

    return ctx.memo(key, make)


def first_matching(spec: CatalogField, *candidates: str) -> str:
    """The first candidate the field's pattern accepts as a whole value (the first if none does)."""
    if spec.pattern:
        pattern = re.compile(spec.pattern)
        for candidate in candidates:
            if pattern.fullmatch(candidate):
                return candidate
    return candidates[0]


def fallback(ctx: Context, spec: CatalogField) -> np.ndarray:
    """A valid value for every row, from the field's type, allowed values, pattern or title."""
    if spec.type == "date":
        return event_dates(ctx)
    if spec.type == "decimal":
        return wan_column(ctx.rng.integers(1, 500, ctx.n) * 100_000)
    if spec.type == "integer":
        return ctx.rng.integers(1, 100, ctx.n).astype(str).astype(object)
    if spec.type == "uscc":
        own = subject_attr(ctx, "uscc")
        real = (own != "") & (own != uscc_code.PLACEHOLDER)
        return np.where(real, own, ctx.department.uscc).astype(object)
    if spec.type == "orgcode":
        own = subject_attr(ctx, "orgcode")
        return np.where(own != "", own, ctx.department.uscc[8:17]).astype(object)
    if spec.type == "regno":
        own = subject_attr(ctx, "regno")
        fresh = text_array(
            [make_regno("450200", f"9{s:07d}") for s in ctx.rng.integers(0, 10**7, ctx.n).tolist()]
        )
        return np.where(own != "", own, fresh).astype(object)
    if spec.type == "idcard":
        people = np.where(is_person(ctx), person_index(ctx), rep_index(ctx))
        return people_attr(ctx, "id_no", people)
    if spec.allowed:
        return ctx.pick(spec.allowed)
    if spec.pattern:
        return text_array([patterns.sample(spec.pattern, ctx.rng) for _ in range(ctx.n)])
    return _by_title(ctx, spec)


def _by_title(ctx: Context, spec: CatalogField) -> np.ndarray:
    title = spec.title
    if title.endswith("名称") or title.endswith("单位"):
        return (
            subject_attr(ctx, "name")
            if "相对人" in title or "企业" in title
            else np.full(ctx.n, ctx.department.name, dtype=object)
        )
    if "地址" in title or "住所" in title:
        return subject_attr(ctx, "address")
    if "电话" in title:
        return text_array([f"0772-{n}" for n in ctx.rng.integers(2_000_000, 8_999_999, ctx.n).tolist()])
    if title.endswith(("号", "编号", "编码")):
        return serial_text(ctx, spec)
    return np.full(ctx.n, f"详见{ctx.department.short_name}原始记录", dtype=object)
