"""Realistic values for catalog fields: by canonical field name, else by type, pattern or title.

A generator takes the delivery ``Context`` (see ``etl.demo_data.table``) and the field, and returns
one value per row: text (``""`` for empty) or, for date fields, day ordinals (0 for empty). Named
generators know what a field means (``decision_no`` is 柳市监罚〔2026〕123号 at the market regulator
and 柳环罚〔2026〕45号 at the environment bureau); anything the catalog adds later without a named
generator still gets valid values from ``fallback``, which honours allowed values, patterns and types.

Values that belong together are drawn together: a penalty's violation, legal basis, penalty types,
fine and content come from one case of the department's (``themes.PENALTY_CASES``); a subject's
name, codes, legal representative and address come from the shared pool.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from etl.catalog import CatalogField, Dataset, Department
from etl.codes import uscc as uscc_code
from etl.demo_data import patterns, themes, words
from etl.demo_data.arrays import map_distinct, test_distinct
from etl.demo_data.settings import AS_OF, LAST_DAY, OPEN_ENDED
from etl.demo_data.subjects import KINDS_OF_CATEGORY, SubjectPool, make_regno

if TYPE_CHECKING:
    from etl.demo_data.table import Context

Generator = Callable[["Context", CatalogField], np.ndarray]

LAST = LAST_DAY.toordinal()
TODAY = AS_OF.toordinal()
YEAR_START = dt.date(LAST_DAY.year, 1, 1).toordinal()
OPEN = OPEN_ENDED.toordinal()
PERSON, SHOP, ORGANISATION = "p", "s", "c"


def _day(year: int, month: int = 1, day: int = 1) -> int:
    return dt.date(year, month, day).toordinal()


def _text(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=object)


def _blank(n: int) -> np.ndarray:
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


def _years_after(ordinals: np.ndarray, years: np.ndarray | int) -> np.ndarray:
    years = np.broadcast_to(np.asarray(years), ordinals.shape)
    pairs = ordinals.astype(np.int64) * 1000 + years
    return map_distinct(pairs, lambda p: add_years(p // 1000, p % 1000), dtype=np.int64)


def _year_of(ordinals: np.ndarray) -> np.ndarray:
    return map_distinct(
        ordinals, lambda o: dt.date.fromordinal(o).year if o else LAST_DAY.year, dtype=np.int64
    )


def _rank(keys: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Position of each row when ordered by ``keys`` (ties broken at random): a sequence number."""
    order = np.lexsort((rng.random(len(keys)), keys))
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys))
    return rank


# ---------------------------------------------------------------------------------------------------
# Which subjects a delivery is about

# Share of each kind of subject per dataset or per department; restricted to the dataset's
# subject_types. Tags pick subjects whose trade fits (words.TRADES).
DEFAULT_KINDS = {"company": 0.72, "shop": 0.12, "person": 0.10, "cooperative": 0.02, "collective": 0.01,
                 "social_org": 0.01, "institution": 0.02}  # fmt: skip
DATASET_SUBJECTS: dict[str, tuple[dict[str, float], str]] = {
    "legal_entity_basic": ({"company": 0.8, "shop": 0.15, "cooperative": 0.05}, ""),
    "public_institution": ({"institution": 1.0}, ""),
    "social_organization": ({"social_org": 1.0}, ""),
    "dishonest_judgment_debtor": ({"company": 0.5, "person": 0.5}, ""),
    "major_tax_violation": ({"company": 0.75, "shop": 0.1, "person": 0.15}, ""),
    "construction_enterprise_qualification": ({"company": 1.0}, "c"),
    "food_safety_sampling_failed": ({"company": 0.45, "shop": 0.55}, "f"),
    "product_quality_spot_check": ({"company": 1.0}, "m"),
    "enterprise_environmental_credit": ({"company": 1.0}, "e"),
    "safety_production_dishonest": ({"company": 0.85, "shop": 0.15}, "mce"),
    "wage_arrears_dishonest": ({"company": 0.95, "shop": 0.05}, "c"),
    "contract_honouring_enterprise": ({"company": 1.0}, ""),
    "basic_deposit_account": ({"company": 0.8, "shop": 0.1, "cooperative": 0.05, "social_org": 0.05}, ""),
    "tax_credit_grade_a": ({"company": 0.9, "shop": 0.05, "cooperative": 0.05}, ""),
}
DEPARTMENT_SUBJECTS: dict[str, tuple[dict[str, float], str]] = {
    "jt": ({"company": 0.5, "shop": 0.15, "person": 0.35}, "t"),
    "wjw": ({"company": 0.35, "shop": 0.25, "person": 0.15, "institution": 0.25}, "h"),
    "sthj": ({"company": 0.9, "shop": 0.1}, "em"),
    "yjgl": ({"company": 0.85, "shop": 0.1, "person": 0.05}, "mce"),
    "tax": ({"company": 0.8, "shop": 0.2}, ""),
    "scjg": ({"company": 0.6, "shop": 0.35, "person": 0.05}, "rfm"),
    "xzsp": ({"company": 0.55, "shop": 0.4, "person": 0.05}, "rfhs"),
    "zj": ({"company": 1.0}, "c"),
}


def _subject_profile(dataset: Dataset, department: str) -> tuple[dict[str, float], str]:
    eligible = {kind for category in dataset.subject_types for kind in KINDS_OF_CATEGORY[category]}
    shares, tags = (
        DATASET_SUBJECTS.get(dataset.id) or DEPARTMENT_SUBJECTS.get(department) or (DEFAULT_KINDS, "")
    )
    kept = {k: w for k, w in shares.items() if k in eligible}
    if not kept:
        kept = {k: w for k, w in DEFAULT_KINDS.items() if k in eligible}
    return kept, tags


def lists_each_subject_once(dataset: Dataset) -> bool:
    """Registries and lists name a subject once; penalties and licences are events that recur."""
    return dataset.category not in ("penalty", "licensing")


def choose_subjects(
    dataset: Dataset, department: Department, pool: SubjectPool, rows: int, rng: np.random.Generator
) -> np.ndarray:
    """Pool indices of the subjects of ``rows`` records, popular subjects more often."""
    shares, tags = _subject_profile(dataset, department.id)
    types = {f.name: f.type for f in dataset.fields}
    # Without a registration-number column, a 个体工商户 under the placeholder code could not be clean.
    real_uscc = types.get("uscc") == "uscc" and "regno" not in types.values()
    local = dataset.category == "basic"
    replace = not lists_each_subject_once(dataset)
    kinds = list(shares)
    counts = rng.multinomial(rows, np.array([shares[k] for k in kinds]) / sum(shares.values()))
    parts = []
    for kind, count in zip(kinds, counts, strict=True):
        candidates = pool.indices((kind,), tags=tags, local_only=local, real_uscc=real_uscc)
        if count == 0 or len(candidates) == 0:
            continue
        weights = pool.popularity[candidates] / pool.popularity[candidates].sum()
        size = int(count) if replace else min(int(count), len(candidates))
        parts.append(rng.choice(candidates, size=size, replace=replace, p=weights))
    chosen = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    return rng.permutation(chosen)


def _kind(ctx: Context) -> np.ndarray:
    return ctx.pool.kind[ctx.subjects]


def _letters(ctx: Context) -> np.ndarray:
    """``p`` natural person, ``s`` 个体工商户, ``c`` organisation, per row."""

    def make() -> np.ndarray:
        kind = _kind(ctx)
        return np.where(kind == "person", PERSON, np.where(kind == "shop", SHOP, ORGANISATION)).astype(object)

    return ctx.memo("letters", make)


def _is_person(ctx: Context) -> np.ndarray:
    return _letters(ctx) == PERSON


def _subject(ctx: Context, attribute: str) -> np.ndarray:
    return getattr(ctx.pool, attribute)[ctx.subjects]


def _people(ctx: Context, attribute: str, index: np.ndarray) -> np.ndarray:
    """An attribute of people by index; ``""`` where the index is -1."""
    column = getattr(ctx.pool.people, attribute)
    return np.where(index >= 0, column[np.maximum(index, 0)], "").astype(object)


def _rep(ctx: Context) -> np.ndarray:
    return _subject(ctx, "rep")


def _finance_head(ctx: Context) -> np.ndarray:
    """Someone other than the legal representative, the same person for the same subject."""

    def make() -> np.ndarray:
        people = len(ctx.pool.people.name)
        index = (ctx.subjects * 7919 + 104729) % people
        index = np.where(index == _rep(ctx), (index + 1) % people, index)
        filled = ctx.memo("finance_filled", lambda: ctx.chance(0.7))
        return np.where(_is_person(ctx) | ~filled, -1, index)

    return ctx.memo("finance_head", make)


def _person(ctx: Context) -> np.ndarray:
    return _subject(ctx, "person")


def _uses_alt_id(ctx: Context, people: np.ndarray, type_field: str) -> np.ndarray:
    """Whether a person shows a passport or permit instead of an ID card (only where a form asks)."""
    if not ctx.has(type_field):
        return np.zeros(ctx.n, dtype=bool)
    return _people(ctx, "alt_id_type", people) != ""


def _birth(id_numbers: np.ndarray) -> np.ndarray:
    def birth(number: str) -> int:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14])).toordinal() if number else 0

    return map_distinct(id_numbers, birth, dtype=np.int64)


# ---------------------------------------------------------------------------------------------------
# Registry of named generators

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


# -- the subject ------------------------------------------------------------------------------------


@named("subject_name", "person_name")
def subject_name(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _subject(ctx, "name")


@named("subject_category")
def subject_category(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _subject(ctx, "category")


@named("uscc")
def subject_uscc(ctx: Context, spec: CatalogField) -> np.ndarray:
    if spec.type != "uscc":
        return fallback(ctx, spec)
    return _subject(ctx, "uscc")


@named("regno")
def subject_regno(ctx: Context, spec: CatalogField) -> np.ndarray:
    regno = _subject(ctx, "regno")
    needed = _subject(ctx, "uscc") == uscc_code.PLACEHOLDER
    share = 1.0 if ctx.dataset.category == "basic" else 0.25
    return np.where(needed | ctx.chance(share), regno, "").astype(object)


@named("orgcode")
def subject_orgcode(ctx: Context, spec: CatalogField) -> np.ndarray:
    share = {"basic": 1.0, "black_list": 0.6}.get(ctx.dataset.category, 0.1)
    return np.where(ctx.chance(share), _subject(ctx, "orgcode"), "").astype(object)


@named("tax_reg_no")
def tax_reg_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    """纳税人识别号: the USCC of organisations, else the registration or identity number."""
    code = _subject(ctx, "uscc")
    real = (code != "") & (code != uscc_code.PLACEHOLDER)
    number = np.where(real, code, _subject(ctx, "regno"))
    number = np.where(_is_person(ctx), _people(ctx, "id_no", _person(ctx)), number)
    if spec.required:
        return number.astype(object)
    share = 0.3 if ctx.department.id == "tax" else 0.03
    return np.where(ctx.chance(share) & real, number, "").astype(object)


@named("institution_cert_no")
def institution_cert_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    share = 0.9 if ctx.dataset.category == "basic" else 0.3
    return np.where(ctx.chance(share), _subject(ctx, "cert_no"), "").astype(object)


@named("social_org_reg_no")
def social_org_reg_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    share = 0.7 if ctx.dataset.category == "basic" else 0.2
    return np.where(ctx.chance(share), _subject(ctx, "social_reg_no"), "").astype(object)


@named("legal_rep")
def legal_rep(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _people(ctx, "name", _rep(ctx))


@named("legal_rep_gender")
def legal_rep_gender(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _people(ctx, "gender", _rep(ctx))


def _id_type(ctx: Context, people: np.ndarray, type_field: str, share: float) -> np.ndarray:
    alt = _uses_alt_id(ctx, people, type_field)
    kind = np.where(alt, _people(ctx, "alt_id_type", people), "身份证")
    return np.where((people >= 0) & ctx.memo(f"{type_field}_filled", lambda: ctx.chance(share)), kind, "")


def _id_number(ctx: Context, people: np.ndarray, type_field: str) -> np.ndarray:
    number = np.where(
        _uses_alt_id(ctx, people, type_field),
        _people(ctx, "alt_id_no", people),
        _people(ctx, "id_no", people),
    )
    if ctx.has(type_field):
        number = np.where(ctx.col(type_field) != "", number, "")
    return number.astype(object)


def _rep_id_share(ctx: Context) -> float:
    return {"black_list": 0.9}.get(ctx.dataset.category, 0.3)


@named("legal_rep_id_type")
def legal_rep_id_type(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _id_type(ctx, _rep(ctx), spec.name, _rep_id_share(ctx)).astype(object)


@named("legal_rep_id_no")
def legal_rep_id_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    if not ctx.has("legal_rep_id_type"):
        return np.where(ctx.chance(_rep_id_share(ctx)), _people(ctx, "id_no", _rep(ctx)), "").astype(object)
    return _id_number(ctx, _rep(ctx), "legal_rep_id_type")


@named("finance_head")
def finance_head(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _people(ctx, "name", _finance_head(ctx))


@named("finance_head_gender")
def finance_head_gender(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _people(ctx, "gender", _finance_head(ctx))


@named("finance_head_id_type")
def finance_head_id_type(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _id_type(ctx, _finance_head(ctx), spec.name, 1.0).astype(object)


@named("finance_head_id_no")
def finance_head_id_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _id_number(ctx, _finance_head(ctx), "finance_head_id_type")


@named("id_type")
def id_type(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _id_type(ctx, _person(ctx), spec.name, 1.0).astype(object)


@named("id_no")
def id_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    if not ctx.has("id_type"):
        return _people(ctx, "id_no", _person(ctx))
    return _id_number(ctx, _person(ctx), "id_type")


@named("gender")
def gender(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _people(ctx, "gender", _person(ctx))


@named("address")
def address(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _subject(ctx, "address")


@named("division")
def division(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _subject(ctx, "division")


@named("entity_type")
def entity_type(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _subject(ctx, "entity_type")


@named("business_scope")
def business_scope(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _subject(ctx, "scope")


@named("registered_capital")
def registered_capital(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _subject(ctx, "capital")


@named("social_org_type")
def social_org_type(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _subject(ctx, "social_type")


@named("supervisor_unit")
def supervisor_unit(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _subject(ctx, "supervisor")


@named("sponsor_unit")
def sponsor_unit(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _subject(ctx, "sponsor")


@named("funding_source")
def funding_source(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _subject(ctx, "funding")


@named("status")
def registration_status(ctx: Context, spec: CatalogField) -> np.ndarray:
    registered_by_state = np.isin(_kind(ctx), ["institution", "social_org"])
    return np.where(
        registered_by_state,
        ctx.pick(("正常", "存续", "注销", "撤销"), (0.85, 0.1, 0.04, 0.01)),
        ctx.pick(("存续", "在业", "注销", "吊销", "停业", "迁出"), (0.8, 0.08, 0.06, 0.03, 0.02, 0.01)),
    ).astype(object)


# -- dates ------------------------------------------------------------------------------------------


def _recent(ctx: Context, low: int = YEAR_START, scale: float = 60.0) -> np.ndarray:
    """Dates up to LAST_DAY, most of them in the last weeks (decisions are published promptly)."""
    days = LAST - ctx.rng.exponential(scale, ctx.n).astype(np.int64)
    return np.where(days < low, ctx.days_between(low, LAST), days)


def _event(ctx: Context) -> np.ndarray:
    return ctx.memo("event", lambda: _recent(ctx))


def _optional(ctx: Context, spec: CatalogField, share: float, values: np.ndarray) -> np.ndarray:
    if spec.required:
        return values
    return np.where(ctx.chance(share), values, 0)


@named("decision_date")
def decision_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _event(ctx)


@named("valid_until")
def valid_until(ctx: Context, spec: CatalogField) -> np.ndarray:
    base = ctx.col("decision_date") if ctx.has("decision_date") else _event(ctx)
    return _years_after(base, ctx.pick((1, 3), (0.6, 0.4)).astype(np.int64))


@named("publicity_until")
def publicity_until(ctx: Context, spec: CatalogField) -> np.ndarray:
    base = ctx.col("valid_until") if ctx.has("valid_until") else _years_after(_event(ctx), 3)
    return _optional(ctx, spec, 0.4, base)


@named("valid_from")
def valid_from(ctx: Context, spec: CatalogField) -> np.ndarray:
    if ctx.has("decision_date"):
        values = ctx.col("decision_date") + ctx.pick((0, 0, 1)).astype(np.int64)
    elif ctx.has("issue_date"):
        values = ctx.col("issue_date")
    elif ctx.has("list_year"):
        values = _list_announcement(ctx)
    elif ctx.has("established_date"):
        values = ctx.days_between(np.maximum(ctx.col("established_date"), _day(2021)), LAST)
    elif ctx.has("first_issue_date"):
        values = ctx.days_between(np.maximum(ctx.col("first_issue_date"), _day(2020)), LAST)
    else:
        values = ctx.days_between(_day(2021), LAST)
    return _optional(ctx, spec, 0.9, np.minimum(values, LAST))


def _validity_years(ctx: Context) -> np.ndarray:
    if ctx.dataset.category == "licensing":
        return np.array([k.years for k in _licence_kinds(ctx)], dtype=np.int64)[_licence(ctx)]
    if ctx.has("list_year"):
        return np.full(ctx.n, 1 if ctx.dataset.category == "red_list" and ctx.department.id == "tax" else 2)
    if ctx.has("qualification_category"):
        return np.full(ctx.n, 6)
    return np.full(ctx.n, 5)


@named("valid_to")
def valid_to(ctx: Context, spec: CatalogField) -> np.ndarray:
    start = next(
        (
            ctx.col(name)
            for name in ("valid_from", "issue_date", "entry_date", "decision_date")
            if ctx.has(name)
        ),
        _event(ctx),
    )
    years = _validity_years(ctx)
    values = np.where(years == 0, OPEN, _years_after(np.maximum(start, 1), np.maximum(years, 1)))
    values = np.where(start == 0, 0, values)
    return _optional(ctx, spec, 0.8, values)


def _list_announcement(ctx: Context) -> np.ndarray:
    """The day a yearly list (评定年度 N) was announced: spring to autumn of year N+1."""

    def make() -> np.ndarray:
        year = ctx.col("list_year").astype(np.int64) + 1
        # One announcement per list year, on a working-looking day between spring and autumn.
        day = {
            int(y): min(_day(int(y), 3, 20) + int(ctx.rng.integers(0, 200)), LAST) for y in np.unique(year)
        }
        return np.array([day[int(y)] for y in year], dtype=np.int64)

    return ctx.memo("announcement", make)


@named("entry_date")
def entry_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    if ctx.has("list_year"):
        return _list_announcement(ctx)
    return _recent(ctx, low=_day(LAST_DAY.year - 1), scale=220.0)


@named("exit_date")
def exit_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    anchor = next((ctx.col(n) for n in ("entry_date", "publish_date") if ctx.has(n)), _event(ctx))
    later = anchor + ctx.days_between(90, 900)
    share = 0.05 if ctx.has("list_year") else 0.15
    return np.where(ctx.chance(share) & (later <= LAST) & (anchor > 0), later, 0)


@named("publish_date")
def publish_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    if ctx.has("filing_date"):
        filing = ctx.col("filing_date")
        return np.maximum(np.minimum(filing + ctx.days_between(20, 400), LAST), filing)
    if ctx.has("sampling_date"):
        return ctx.col("sampling_date") + ctx.days_between(15, 45)
    if ctx.has("list_year"):
        return _list_announcement(ctx)
    return _event(ctx)


@named("filing_date")
def filing_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _recent(ctx, low=_day(2019), scale=500.0) - 25


@named("sampling_date")
def sampling_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.days_between(YEAR_START + 4, LAST - 45)


@named("issue_date")
def issue_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _recent(ctx, low=_day(2021), scale=500.0)


@named("registration_date")
def registration_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    birth = _birth(_people(ctx, "id_no", _person(ctx)))
    earliest = np.maximum(_years_after(np.maximum(birth, 1), 24) + 1, _day(1995))
    return ctx.days_between(np.minimum(earliest, LAST), LAST)


@named("first_issue_date")
def first_issue_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    birth = _birth(_people(ctx, "id_no", _person(ctx)))
    earliest = np.minimum(np.maximum(_years_after(np.maximum(birth, 1), 21) + 1, _day(2000)), LAST)
    latest = np.minimum(np.maximum(earliest, _day(2022, 12, 31)), LAST)
    return _optional(ctx, spec, 0.85, ctx.days_between(earliest, latest))


@named("established_date")
def established_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _subject(ctx, "established").astype(np.int64)


@named("business_term_from")
def business_term_from(ctx: Context, spec: CatalogField) -> np.ndarray:
    start = ctx.col("established_date") if ctx.has("established_date") else _subject(ctx, "established")
    return _optional(ctx, spec, 0.9, np.asarray(start, dtype=np.int64))


@named("business_term_to")
def business_term_to(ctx: Context, spec: CatalogField) -> np.ndarray:
    start = ctx.col("business_term_from") if ctx.has("business_term_from") else _subject(ctx, "established")
    years = ctx.pick((0, 20, 30, 50), (0.6, 0.15, 0.15, 0.1)).astype(np.int64)
    values = np.where(years == 0, OPEN, _years_after(np.maximum(start, 1), np.maximum(years, 1)))
    return np.where(start == 0, 0, values)


@named("approval_date")
def approval_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    start = ctx.col("established_date") if ctx.has("established_date") else _subject(ctx, "established")
    start = np.maximum(start, 1)
    lag = ((LAST - start) * (1 - ctx.rng.random(ctx.n) ** 0.25)).astype(np.int64)
    return _optional(ctx, spec, 0.9, np.minimum(start + lag, LAST))


@named("opening_date")
def opening_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    start = np.maximum(_subject(ctx, "established").astype(np.int64), _day(2003))
    return ctx.days_between(np.minimum(start + 3, LAST), np.minimum(start + 60, LAST))


@named("closing_date")
def closing_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    opened = ctx.col("opening_date") if ctx.has("opening_date") else _event(ctx)
    closed = ctx.days_between(np.minimum(opened + 30, LAST), LAST)
    if ctx.has("account_status"):
        return np.where(ctx.col("account_status") == "撤销", closed, 0)
    return _optional(ctx, spec, 0.1, closed)


@named("updated_at")
def updated_at(ctx: Context, spec: CatalogField) -> np.ndarray:
    """The record's last change in the department's system: always in database tables; in files
    only some systems export it (the catalog says a file delivery may leave it empty)."""
    dates = {f.name: ctx.col(f.name) for f in ctx.dataset.fields if f.type == "date"}
    stamps = timestamps_after(ctx.rng, latest_dates(dates, ctx.n))
    if spec.required or ctx.source.method == "database" or ctx.rng.random() < 0.5:
        return stamps
    return _blank(ctx.n)


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
    return _text(
        [
            f"{d}T{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}+08:00"
            for d, s in zip(dates, seconds.tolist(), strict=True)
        ]
    )


# -- document numbers -------------------------------------------------------------------------------


def doc_prefix(department: Department) -> str:
    """柳市监, 柳环 …; for a department without one, 柳 plus its short name's core."""
    if department.id in themes.DOC_PREFIXES:
        return themes.DOC_PREFIXES[department.id]
    return "柳" + department.short_name.removeprefix("市").removesuffix("局").removesuffix("委")[:3]


def _main_date(ctx: Context) -> np.ndarray:
    for name in ("decision_date", "entry_date", "publish_date", "issue_date"):
        if ctx.has(name):
            return ctx.col(name)
    return _event(ctx)


def _serials(ctx: Context, key: str, order: np.ndarray, start: tuple[int, int] = (1, 300)) -> np.ndarray:
    """Distinct sequence numbers in the order of ``order`` (documents are numbered as issued)."""
    return ctx.memo(key, lambda: int(ctx.rng.integers(*start)) + _rank(order, ctx.rng))


@named("decision_no")
def decision_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    prefix = doc_prefix(ctx.department)
    if ctx.has("list_year"):
        return _announcement_no(ctx, prefix)
    dates = _main_date(ctx)
    years = _year_of(dates)
    serial = _serials(ctx, "doc_serial", dates)
    word = {"penalty": "罚", "licensing": "许", "black_list": "失信"}.get(ctx.dataset.category, "")
    numbers = _text(
        [f"{prefix}{word}〔{y}〕{s}号" for y, s in zip(years.tolist(), serial.tolist(), strict=True)]
    )
    if ctx.dataset.category == "licensing" and ctx.has("licence_no"):
        # "没有文书号的，填写许可证书编号": some departments number decisions by the licence.
        licence = ctx.col("licence_no")
        numbers = np.where(ctx.chance(0.4) & (licence != ""), licence, numbers)
    if not spec.required and ctx.dataset.category not in ("penalty", "licensing"):
        numbers = np.where(ctx.chance(0.85), numbers, "")
    return numbers.astype(object)


def _announcement_no(ctx: Context, prefix: str) -> np.ndarray:
    """Yearly lists are published under one document: the same number on every row of a year."""
    years = ctx.col("list_year").astype(np.int64) + 1
    number = int(ctx.rng.integers(2, 60))
    if ctx.department.id == "tax":
        return _text([f"国家税务总局柳州市税务局公告{y}年第{number}号" for y in years.tolist()])
    return _text([f"{prefix}发〔{y}〕{number}号" for y in years.tolist()])


@named("case_no")
def case_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    years = _year_of(ctx.col("filing_date")) if ctx.has("filing_date") else _year_of(_event(ctx))
    serial = _serials(ctx, "case_serial", years * 1000 + ctx.rng.integers(0, 1000, ctx.n), (80, 400))
    courts = _court_codes(ctx)
    kind = ctx.pick(("执", "执", "执", "执恢"))
    return _text(
        [
            f"（{y}）{c}{k}{s}号"
            for y, c, k, s in zip(years.tolist(), courts, kind, serial.tolist(), strict=True)
        ]
    )


def _court_codes(ctx: Context) -> np.ndarray:
    codes = tuple(themes.COURTS)
    return ctx.memo(
        "courts", lambda: ctx.pick(codes, (0.2, 0.1, 0.13, 0.17, 0.12, 0.08, 0.05, 0.05, 0.04, 0.03, 0.03))
    )


@named("court")
def court(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _text([themes.COURTS[c] for c in _court_codes(ctx)])


@named("basis_doc_no")
def basis_doc_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    years = _year_of(ctx.col("filing_date")) if ctx.has("filing_date") else _year_of(_event(ctx))
    arbitration = ctx.memo("arbitration", lambda: ctx.chance(0.12))
    kind = ctx.pick(("民初", "民初", "民终", "民特"))
    serial = ctx.rng.integers(100, 9000, ctx.n)
    courts = _court_codes(ctx)
    return _text(
        [
            f"柳仲裁字〔{y - 1}〕第{s % 900}号" if a else f"（{y - 1}）{c}{k}{s}号"
            for y, c, k, s, a in zip(years.tolist(), courts, kind, serial.tolist(), arbitration, strict=True)
        ]
    )


@named("basis_issuer")
def basis_issuer(ctx: Context, spec: CatalogField) -> np.ndarray:
    arbitration = ctx.memo("arbitration", lambda: ctx.chance(0.12))
    return np.where(arbitration, "柳州仲裁委员会", _text([themes.COURTS[c] for c in _court_codes(ctx)]))


@named("obligation")
def obligation(ctx: Context, spec: CatalogField) -> np.ndarray:
    amounts = ctx.rng.integers(5_000, 3_000_000, ctx.n)
    templates = ctx.pick(themes.OBLIGATIONS)
    return _text(
        [t.format(amount=f"{a:,}".replace(",", "")) for t, a in zip(templates, amounts, strict=True)]
    )


@named("performance")
def performance(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.pick(("全部未履行", "部分未履行"), (0.8, 0.2))


@named("dishonest_behaviour")
def dishonest_behaviour(ctx: Context, spec: CatalogField) -> np.ndarray:
    if ctx.department.id == "court":
        return ctx.pick(themes.COURT_DISHONEST, themes.COURT_WEIGHTS)
    if ctx.department.id == "rs":
        return ctx.pick(themes.WAGE_DISHONEST)
    return ctx.pick(themes.SAFETY_DISHONEST)


# -- authorities ------------------------------------------------------------------------------------


def _district_bureau(division: str, bureau: str, city: str) -> str:
    if division in words.DISTRICTS:
        name = words.DISTRICTS[division]
        return f"柳州市{name}{bureau}" if division < "450222" else f"{name}{bureau}"
    return city


AUTHORITIES: dict[str, Callable[[Context], np.ndarray]] = {
    "legal_entity_basic": lambda ctx: map_distinct(
        _subject(ctx, "division"), lambda d: _district_bureau(d, "市场监督管理局", "柳州市市场监督管理局")
    ),
    "public_institution": lambda ctx: np.full(ctx.n, "柳州市事业单位登记管理局", dtype=object),
    "major_tax_violation": lambda ctx: np.full(ctx.n, "国家税务总局柳州市税务局稽查局", dtype=object),
    "tax_credit_grade_a": lambda ctx: map_distinct(
        _subject(ctx, "division"), lambda d: "国家税务总局" + _district_bureau(d, "税务局", "柳州市税务局")
    ),
    "licensed_physician": lambda ctx: map_distinct(
        ctx.pool.division[_employer(ctx, "h", "workplace")],
        lambda d: _district_bureau(d, "卫生健康局", "柳州市卫生健康委员会"),
    ),
    "construction_enterprise_qualification": lambda ctx: ctx.pick(
        ("柳州市住房和城乡建设局", "广西壮族自治区住房和城乡建设厅"), (0.7, 0.3)
    ),
    "food_safety_sampling_failed": lambda ctx: ctx.pick(
        ("柳州市市场监督管理局", "广西壮族自治区市场监督管理局"), (0.8, 0.2)
    ),
    "product_quality_spot_check": lambda ctx: ctx.pick(
        ("柳州市市场监督管理局", "广西壮族自治区市场监督管理局"), (0.7, 0.3)
    ),
}


@named("authority")
def authority(ctx: Context, spec: CatalogField) -> np.ndarray:
    """The deciding or registering body: the department itself unless the dataset says otherwise."""
    pick = AUTHORITIES.get(ctx.dataset.id)
    if pick is not None:
        return pick(ctx)
    return np.full(ctx.n, ctx.department.name, dtype=object)


@named("authority_uscc", "source_unit_uscc")
def department_uscc(ctx: Context, spec: CatalogField) -> np.ndarray:
    return np.full(ctx.n, ctx.department.uscc, dtype=object)


@named("source_unit")
def source_unit(ctx: Context, spec: CatalogField) -> np.ndarray:
    return np.full(ctx.n, ctx.department.name, dtype=object)


# -- penalties --------------------------------------------------------------------------------------


def _cases(ctx: Context) -> tuple[themes.PenaltyCase, ...]:
    return themes.PENALTY_CASES.get(ctx.department.id, themes.GENERIC_CASES)


def _by_letter(ctx: Context, kinds: list[str], key: str) -> np.ndarray:
    """For each row, the index of an item whose kinds letters include the row's subject letter."""

    def make() -> np.ndarray:
        letters = _letters(ctx)
        choice = np.zeros(ctx.n, dtype=np.int64)
        for letter in (PERSON, SHOP, ORGANISATION):
            rows = np.flatnonzero(letters == letter)
            fits = [i for i, k in enumerate(kinds) if letter in k] or list(range(len(kinds)))
            choice[rows] = np.array(fits)[ctx.rng.integers(0, len(fits), len(rows))]
        return choice

    return ctx.memo(key, make)


def _case(ctx: Context) -> np.ndarray:
    return _by_letter(ctx, [c.kinds for c in _cases(ctx)], "case")


def _fill_facts(template: str, rng: np.random.Generator) -> str:
    return template.format(
        goods=int(rng.choice([1280, 3600, 5840, 12600, 23500, 48000, 136000])),
        pieces=int(rng.integers(2, 40)),
        pct=int(rng.integers(8, 160)),
        year=LAST_DAY.year - int(rng.integers(0, 2)),
        month=int(rng.integers(1, 10)),
    )


@named("violation_type")
def violation_type(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _text([c.violation for c in _cases(ctx)])[_case(ctx)]


def _one_of_each(
    ctx: Context, options: list[tuple[Any, ...]], item: np.ndarray, dtype: Any = object
) -> np.ndarray:
    """Per row, one of the options of that row's item (a case's penalty types, fines …)."""
    width = max(len(o) for o in options)
    table = np.empty((len(options), width), dtype=dtype)
    for i, choices in enumerate(options):
        table[i, : len(choices)] = choices
    lengths = np.array([len(o) for o in options])
    return table[item, ctx.rng.integers(0, 1 << 30, ctx.n) % lengths[item]]


@named("violation_facts")
def violation_facts(ctx: Context, spec: CatalogField) -> np.ndarray:
    if ctx.has("case_nature"):
        return _tax_texts(ctx)[1]
    variants = [tuple(_fill_facts(t, ctx.rng) for t in c.facts for _ in range(4)) for c in _cases(ctx)]
    return _one_of_each(ctx, variants, _case(ctx))


@named("legal_basis")
def legal_basis(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _text([c.basis for c in _cases(ctx)])[_case(ctx)]


def _penalty_types(ctx: Context) -> np.ndarray:
    return ctx.memo("penalty_types", lambda: _one_of_each(ctx, [c.types for c in _cases(ctx)], _case(ctx)))


@named("penalty_types")
def penalty_types(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _penalty_types(ctx)


def _fine_fen(ctx: Context) -> np.ndarray:
    """Fine in fen per row, 0 where the penalty types carry no fine."""

    def make() -> np.ndarray:
        yuan = _one_of_each(ctx, [c.fines for c in _cases(ctx)], _case(ctx), dtype=np.int64)
        fined = test_distinct(_penalty_types(ctx), lambda t: "罚款" in t.split(";"))
        return np.where(fined, yuan * 100, 0).astype(np.int64)

    return ctx.memo("fine", make)


def _confiscated_fen(ctx: Context) -> np.ndarray:
    def make() -> np.ndarray:
        confiscates = test_distinct(_penalty_types(ctx), lambda t: "没收" in t)
        amounts = ctx.rng.integers(20_000, 5_000_000, 400)  # illegal gains: a few hundred distinct sums
        return np.where(confiscates, amounts[ctx.rng.integers(0, len(amounts), ctx.n)], 0).astype(np.int64)

    return ctx.memo("confiscated", make)


def _wan_column(fen: np.ndarray) -> np.ndarray:
    return np.where(fen > 0, map_distinct(fen, wan), "").astype(object)


@named("fine_amount")
def fine_amount(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _wan_column(_fine_fen(ctx))


@named("confiscated_amount")
def confiscated_amount(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _wan_column(_confiscated_fen(ctx))


def _yuan(fen: int) -> str:
    return f"{fen // 100}" if fen % 100 == 0 else f"{fen / 100:.2f}"


def _content(types: str, fine: int, taken: int) -> str:
    """处罚内容 written out from the penalty types and amounts: 1.警告；2.罚款人民币5000元。"""
    parts = []
    for kind in types.split(";"):
        if kind == "罚款":
            parts.append(f"罚款人民币{_yuan(fine)}元")
        elif kind == "没收违法所得":
            parts.append(f"没收违法所得人民币{_yuan(taken)}元")
        elif kind == "没收非法财物":
            parts.append("没收涉案物品")
        elif kind == "责令停产停业":
            parts.append("责令停产停业整顿")
        else:
            parts.append(kind)
    if len(parts) == 1:
        return parts[0] + "。"
    return "；".join(f"{i}.{p}" for i, p in enumerate(parts, 1)) + "。"


@named("penalty_content")
def penalty_content(ctx: Context, spec: CatalogField) -> np.ndarray:
    import pandas as pd

    codes, kinds = pd.factorize(_penalty_types(ctx))
    # One integer per (types, fine, confiscated) combination, so each text is written once.
    key = codes.astype(np.int64) * 10**16 + _fine_fen(ctx) * 10**8 + _confiscated_fen(ctx)
    return map_distinct(key, lambda k: _content(kinds[k // 10**16], k // 10**8 % 10**8, k % 10**8))


@named("licence_suspended")
def licence_suspended(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _blank(ctx.n)


@named("remarks")
def remarks(ctx: Context, spec: CatalogField) -> np.ndarray:
    if ctx.dataset.category == "penalty":
        return ctx.pick(themes.REMARKS, (0.88, 0.04, 0.06, 0.02))
    return ctx.pick(("", "无"), (0.95, 0.05))


# -- licences ---------------------------------------------------------------------------------------


def _licence_kinds(ctx: Context) -> tuple[themes.LicenceKind, ...]:
    return themes.LICENCE_KINDS.get(ctx.department.id, themes.GENERIC_LICENCES)


def _licence(ctx: Context) -> np.ndarray:
    return _by_letter(ctx, [k.kinds for k in _licence_kinds(ctx)], "licence")


@named("decision_doc_name")
def decision_doc_name(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _text([k.doc_name for k in _licence_kinds(ctx)])[_licence(ctx)]


@named("licence_category")
def licence_category(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _text([k.category for k in _licence_kinds(ctx)])[_licence(ctx)]


@named("licence_cert_name")
def licence_cert_name(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _text([k.cert_name for k in _licence_kinds(ctx)])[_licence(ctx)]


def _licence_number(style: str, row: dict[str, Any]) -> str:
    """A licence number in the style of its kind (食品经营许可证 JY…, 排污许可证 = USCC + 001P …)."""
    serial, division, year = row["serial"], row["division"] or "450200", row["year"]
    numbers: dict[str, Callable[[], str]] = {
        "jy": lambda: f"JY{1 + serial % 3}{division}{serial:07d}",
        "sc": lambda: f"SC{(101, 107, 124, 103)[serial % 4]}{division}{serial % 100000:05d}",
        "public_health": lambda: f"柳卫公证字〔{year}〕第{serial:04d}号",
        "drug": lambda: f"桂DA77{serial:05d}",
        "hr": lambda: f"{division}{year}{serial:06d}",
        "publishing": lambda: f"新出发柳字第{serial:05d}号",
        "special_equipment": lambda: f"梯11桂B{serial:05d}（{year % 100}）",
        "construction": lambda: f"{division}{year}{serial:08d}",
        "presale": lambda: f"柳预售许字〔{year}〕第{serial:03d}号",
        "qualification": lambda: f"D345{serial:06d}",
        "road_transport": lambda: f"桂交运管许可柳字{division}{serial:06d}号",
        "pollutant": lambda: (
            f"{row['uscc']}001{'PVQU'[serial % 4]}" if row["uscc"] else f"{division}{serial:08d}001P"
        ),
        "hazardous": lambda: f"GX{division}{serial:04d}",
        "driver": lambda: f"桂交运从{division}{serial:06d}",
    }
    return numbers[style]() if style in numbers else ""


@named("licence_no")
def licence_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    kinds = _licence_kinds(ctx)
    if ctx.dataset.category != "licensing":
        return _serial_text(ctx, spec)
    styles = [kinds[k].number for k in _licence(ctx).tolist()]
    serial = _serials(ctx, "licence_serial", ctx.rng.random(ctx.n), (100, 5000))
    code = _subject(ctx, "uscc")
    rows = zip(
        styles,
        serial.tolist(),
        _subject(ctx, "division"),
        _year_of(_main_date(ctx)).tolist(),
        code,
        strict=True,
    )
    return _text(
        [
            _licence_number(
                s, {"serial": n, "division": d, "year": y, "uscc": c if c != uscc_code.PLACEHOLDER else ""}
            )
            for s, n, d, y, c in rows
        ]
    )


@named("content")
def licence_content(ctx: Context, spec: CatalogField) -> np.ndarray:
    kinds = _licence_kinds(ctx)
    roads = [r for roads in words.ROADS.values() for r in roads]
    out = []
    for k in _licence(ctx).tolist():
        template = kinds[k].contents[int(ctx.rng.integers(len(kinds[k].contents)))]
        out.append(template.format(
            road=roads[int(ctx.rng.integers(len(roads)))], area=int(ctx.rng.integers(800, 60000)),
            pieces=int(ctx.rng.integers(1, 30)),
        ))  # fmt: skip
    return _text(out)


@named("licence_status")
def licence_status(ctx: Context, spec: CatalogField) -> np.ndarray:
    if not ctx.has("valid_to"):
        return ctx.pick(("1", "2"), (0.95, 0.05))
    return np.where(ctx.col("valid_to") >= TODAY, "1", "2").astype(object)


# -- registries and lists ---------------------------------------------------------------------------


@named("list_year")
def list_year(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.pick((str(LAST_DAY.year - 1), str(LAST_DAY.year - 2)), (0.85, 0.15))


@named("credit_grade")
def credit_grade(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.pick(spec.allowed or ("A",))


@named("env_credit_grade")
def env_credit_grade(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.pick(("环保诚信企业", "环保良好企业", "环保警示企业", "环保不良企业"), (0.15, 0.6, 0.18, 0.07))


@named("exit_reason")
def exit_reason(ctx: Context, spec: CatalogField) -> np.ndarray:
    exited = ctx.col("exit_date") > 0 if ctx.has("exit_date") else np.zeros(ctx.n, dtype=bool)
    return np.where(exited, ctx.pick(themes.CONTRACT_EXIT_REASONS), "").astype(object)


@named("cert_status")
def cert_status(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.pick(("有效", "注销", "撤回", "撤销"), (0.9, 0.05, 0.03, 0.02))


@named("qualification_scope")
def qualification_scope(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.pick(themes.QUALIFICATION_SCOPES)


@named("qualification_cert_no")
def qualification_cert_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    """建筑业企业资质证书 D…, 医师资格证书 and 从业资格证 numbers.

    Real certificates often embed the holder's identity number; these never do, because the
    certificate number is not marked personal in the catalog and may be shown unmasked.
    """
    serial = _serials(ctx, "qualification_serial", ctx.rng.random(ctx.n), (1000, 90000))
    if ctx.has("qualification_category"):
        return _text([f"4502{LAST_DAY.year - s % 6}{s:08d}" for s in serial.tolist()])
    if ctx.has("physician_level"):
        years = ctx.rng.integers(1995, 2024, ctx.n)
        numbers = _text([f"{y}245110{s:08d}" for y, s in zip(years.tolist(), serial.tolist(), strict=True)])
        return np.where(ctx.chance(0.85), numbers, "").astype(object)
    return _serial_text(ctx, spec)


def _serial_text(ctx: Context, spec: CatalogField) -> np.ndarray:
    """Distinct numbers in the field's pattern (D345000123), or 柳-prefixed serials without one."""
    serial = _serials(ctx, f"serial_{spec.name}", ctx.rng.random(ctx.n), (1000, 5000))
    if spec.pattern and spec.pattern.startswith("^D"):
        return _text([f"D345{s:06d}" for s in serial.tolist()])
    return _text([f"{doc_prefix(ctx.department)}{LAST_DAY.year}{s:06d}" for s in serial.tolist()])


@named("physician_level")
def physician_level(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.pick(("执业医师", "执业助理医师"), (0.82, 0.18))


def _practice_category(ctx: Context) -> np.ndarray:
    return ctx.memo(
        "practice", lambda: ctx.pick(("临床", "中医", "口腔", "公共卫生"), (0.7, 0.12, 0.1, 0.08))
    )


@named("practice_category")
def practice_category(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _practice_category(ctx)


@named("practice_scope")
def practice_scope(ctx: Context, spec: CatalogField) -> np.ndarray:
    pick = ctx.rng.integers(0, 1000, ctx.n)
    return _text(
        [
            themes.PRACTICE_SCOPES[c][p % len(themes.PRACTICE_SCOPES[c])]
            for c, p in zip(_practice_category(ctx), pick.tolist(), strict=True)
        ]
    )


@named("practising_cert_no")
def practising_cert_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    category = {"临床": 1, "中医": 2, "口腔": 3, "公共卫生": 4}
    serial = _serials(ctx, "practising_serial", ctx.rng.random(ctx.n), (100, 3000))
    years = _year_of(ctx.col("registration_date")) if ctx.has("registration_date") else _year_of(_event(ctx))
    return _text(
        [
            f"{category[c]}10450200{y % 100:02d}{s:04d}"
            for c, y, s in zip(_practice_category(ctx), years.tolist(), serial.tolist(), strict=True)
        ]
    )


MEDICAL_SUFFIXES = ("医院", "卫生院", "保健院", "门诊部有限公司", "疾病预防控制中心")


def _employer(ctx: Context, tags: str, key: str) -> np.ndarray:
    """A workplace from the pool, the same one for the same person."""

    def make() -> np.ndarray:
        kinds = ("institution", "company") if tags == "h" else ("company",)
        places = ctx.pool.indices(kinds, tags=tags, local_only=True)
        if tags == "h":  # hospitals, health centres and clinics, not pharmacies
            medical = [i for i in places if ctx.pool.name[i].endswith(MEDICAL_SUFFIXES)]
            places = np.array(medical or places, dtype=np.int64)
        return places[(ctx.subjects * 2654435761) % len(places)]

    return ctx.memo(key, make)


@named("practice_institution")
def practice_institution(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.pool.name[_employer(ctx, "h", "workplace")]


@named("practice_institution_uscc")
def practice_institution_uscc(ctx: Context, spec: CatalogField) -> np.ndarray:
    return np.where(ctx.chance(0.8), ctx.pool.uscc[_employer(ctx, "h", "workplace")], "").astype(object)


@named("employer_name")
def employer_name(ctx: Context, spec: CatalogField) -> np.ndarray:
    return np.where(ctx.chance(0.8), ctx.pool.name[_employer(ctx, "t", "employer")], "").astype(object)


@named("qualification_category")
def qualification_category(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.pick(themes.QUALIFICATION_CATEGORIES, (0.4, 0.2, 0.1, 0.05, 0.2, 0.05))


@named("credit_rating")
def credit_rating(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.pick(("AAA", "AA", "A", "B", ""), (0.35, 0.3, 0.15, 0.05, 0.15))


@named("basic_account_no")
def basic_account_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    serial = _serials(ctx, "account_serial", ctx.rng.random(ctx.n), (10_000, 900_000))
    return _text([f"J6140{s:09d}" for s in serial.tolist()])


def _bank(ctx: Context) -> np.ndarray:
    return ctx.memo("bank", lambda: ctx.rng.integers(0, len(words.BANKS), ctx.n))


@named("bank_name")
def bank_name(ctx: Context, spec: CatalogField) -> np.ndarray:
    branch = ctx.pick(words.BANK_BRANCHES)
    return _text(
        [words.BANKS[b][0] + (br if words.BANKS[b][0].endswith("柳州") else br.removeprefix("分行"))
         for b, br in zip(_bank(ctx).tolist(), branch, strict=True)]
    )  # fmt: skip


@named("bank_code")
def bank_code(ctx: Context, spec: CatalogField) -> np.ndarray:
    branch = ctx.rng.integers(0, 100_000, ctx.n)
    return _text(
        [f"{words.BANKS[b][1]}6140{s:05d}" for b, s in zip(_bank(ctx).tolist(), branch.tolist(), strict=True)]
    )


@named("account_status")
def account_status(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.pick(("正常", "久悬", "撤销"), (0.85, 0.05, 0.1))


# -- inspections ------------------------------------------------------------------------------------


def _is_food(ctx: Context) -> bool:
    return ctx.dataset.domain == "食品药品"


def _product(ctx: Context) -> np.ndarray:
    count = len(themes.FOOD_PRODUCTS if _is_food(ctx) else themes.INDUSTRIAL_PRODUCTS)
    return ctx.memo("product", lambda: ctx.rng.integers(0, count, ctx.n))


@named("product_name")
def product_name(ctx: Context, spec: CatalogField) -> np.ndarray:
    table = themes.FOOD_PRODUCTS if _is_food(ctx) else themes.INDUSTRIAL_PRODUCTS
    return _text([p[0] for p in table])[_product(ctx)]


@named("model_spec")
def model_spec(ctx: Context, spec: CatalogField) -> np.ndarray:
    column = 2 if _is_food(ctx) else 1
    table = themes.FOOD_PRODUCTS if _is_food(ctx) else themes.INDUSTRIAL_PRODUCTS
    return _text([p[column] for p in table])[_product(ctx)]


@named("food_category")
def food_category(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _text([p[1] for p in themes.FOOD_PRODUCTS])[_product(ctx) % len(themes.FOOD_PRODUCTS)]


@named("failed_items")
def failed_items(ctx: Context, spec: CatalogField) -> np.ndarray:
    table = themes.FOOD_PRODUCTS if _is_food(ctx) else themes.INDUSTRIAL_PRODUCTS
    return _text([p[-1] for p in table])[_product(ctx)]


@named("batch_no")
def batch_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    base = ctx.col("sampling_date") if ctx.has("sampling_date") else _event(ctx)
    made = base - ctx.rng.integers(3, 200, ctx.n)
    text = map_distinct(made, lambda d: dt.date.fromordinal(d).strftime("%Y-%m-%d"))
    return np.where(ctx.chance(0.8), text, _text([f"批号：{d.replace('-', '')}" for d in text])).astype(
        object
    )


@named("brand")
def brand(ctx: Context, spec: CatalogField) -> np.ndarray:
    chars = words.TRADE_NAME_CHARS
    a, b = ctx.rng.integers(0, len(chars), ctx.n), ctx.rng.integers(0, len(chars), ctx.n)
    names = _text([chars[i] + chars[j] for i, j in zip(a.tolist(), b.tolist(), strict=True)])
    return np.where(ctx.chance(0.2), "/", names).astype(object)


@named("report_no")
def report_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    serial = _serials(ctx, "report_serial", ctx.rng.random(ctx.n), (1000, 20000))
    prefix = "SP" if _is_food(ctx) else "CP"
    years = _year_of(ctx.col("sampling_date")) if ctx.has("sampling_date") else _year_of(_event(ctx))
    return _text([f"{prefix}{y}45{s:07d}" for y, s in zip(years.tolist(), serial.tolist(), strict=True)])


@named("inspection_agency")
def inspection_agency(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.pick(themes.FOOD_AGENCIES if _is_food(ctx) else themes.PRODUCT_AGENCIES)


def _producer(ctx: Context) -> np.ndarray:
    return _employer(ctx, "f", "producer")


@named("producer_name")
def producer_name(ctx: Context, spec: CatalogField) -> np.ndarray:
    producer = _producer(ctx)
    own = _letters(ctx) == ORGANISATION
    return np.where(own & ctx.chance(0.3), _subject(ctx, "name"), ctx.pool.name[producer]).astype(object)


@named("producer_address")
def producer_address(ctx: Context, spec: CatalogField) -> np.ndarray:
    own = (
        ctx.col("producer_name") == _subject(ctx, "name")
        if ctx.has("producer_name")
        else np.zeros(ctx.n, bool)
    )
    return np.where(own, _subject(ctx, "address"), ctx.pool.address[_producer(ctx)]).astype(object)


# -- tax, wages ------------------------------------------------------------------------------------


def _tax_texts(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """案件性质, 主要违法事实, 法律依据及处理处罚情况 of major tax violations, drawn together."""

    def make() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        natures, facts, bases = [], [], []
        case = ctx.rng.integers(0, len(themes.TAX_CASES), ctx.n)
        amounts = ctx.rng.integers(1_000_000, 500_000_000, ctx.n)
        for c, fen in zip(case.tolist(), amounts.tolist(), strict=True):
            nature, template = themes.TAX_CASES[c]
            amount = wan(fen)
            pieces = 5 + fen % 120
            body = template.format(amount=amount, pieces=pieces, tax=wan(fen * 13 // 100))
            natures.append(nature)
            period = f"{LAST_DAY.year - 2}年1月1日至{LAST_DAY.year - 1}年12月31日"
            facts.append(f"经国家税务总局柳州市税务局稽查局检查，发现其在{period}期间，{body}。")
            bases.append(
                "依照《中华人民共和国税收征收管理法》等相关法律法规的有关规定，对其处以追缴税款"
                f"{amount}万元的行政处理、处以罚款{wan(fen // 2)}万元的行政处罚。"
            )
        return _text(natures), _text(facts), _text(bases)

    return ctx.memo("tax_texts", make)


@named("case_nature")
def case_nature(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _tax_texts(ctx)[0]


@named("legal_basis_and_penalty")
def legal_basis_and_penalty(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _tax_texts(ctx)[2]


@named("report_period")
def report_period(ctx: Context, spec: CatalogField) -> np.ndarray:
    """案件上报期 (2026年第三季度), or the nearest form the field's pattern accepts."""
    dates = ctx.col("entry_date") if ctx.has("entry_date") else _event(ctx)

    def period(ordinal: int) -> str:
        day = dt.date.fromordinal(ordinal)
        quarter = (day.month - 1) // 3
        return first_matching(
            spec, f"{day.year}年第{'一二三四'[quarter]}季度", f"{day.year}-Q{quarter + 1}", f"{day.year}年"
        )

    return map_distinct(dates, period)


def first_matching(spec: CatalogField, *candidates: str) -> str:
    """The first candidate the field's pattern accepts as a whole value (the first if none does)."""
    if spec.pattern:
        pattern = re.compile(spec.pattern)
        for candidate in candidates:
            if pattern.fullmatch(candidate):
                return candidate
    return candidates[0]


@named("arrears_amount")
def arrears_amount(ctx: Context, spec: CatalogField) -> np.ndarray:
    return _wan_column(ctx.rng.integers(50_000_00, 3_000_000_00, ctx.n) // 100 * 100)


@named("worker_count")
def worker_count(ctx: Context, spec: CatalogField) -> np.ndarray:
    return np.where(ctx.chance(0.9), ctx.rng.integers(3, 180, ctx.n).astype(str), "").astype(object)


# ---------------------------------------------------------------------------------------------------
# By type, pattern and title: valid values for any field


def fallback(ctx: Context, spec: CatalogField) -> np.ndarray:
    """A valid value for every row, from the field's type, allowed values, pattern or title."""
    if spec.type == "date":
        return _event(ctx)
    if spec.type == "decimal":
        return _wan_column(ctx.rng.integers(1, 500, ctx.n) * 100_000)
    if spec.type == "integer":
        return ctx.rng.integers(1, 100, ctx.n).astype(str).astype(object)
    if spec.type == "uscc":
        own = _subject(ctx, "uscc")
        real = (own != "") & (own != uscc_code.PLACEHOLDER)
        return np.where(real, own, ctx.department.uscc).astype(object)
    if spec.type == "orgcode":
        own = _subject(ctx, "orgcode")
        return np.where(own != "", own, ctx.department.uscc[8:17]).astype(object)
    if spec.type == "regno":
        own = _subject(ctx, "regno")
        fresh = _text([make_regno("450200", f"9{s:07d}") for s in ctx.rng.integers(0, 10**7, ctx.n).tolist()])
        return np.where(own != "", own, fresh).astype(object)
    if spec.type == "idcard":
        people = np.where(_is_person(ctx), _person(ctx), _rep(ctx))
        return _people(ctx, "id_no", people)
    if spec.allowed:
        return ctx.pick(spec.allowed)
    if spec.pattern:
        return _text([patterns.sample(spec.pattern, ctx.rng) for _ in range(ctx.n)])
    return _by_title(ctx, spec)


def _by_title(ctx: Context, spec: CatalogField) -> np.ndarray:
    title = spec.title
    if title.endswith("名称") or title.endswith("单位"):
        return (
            _subject(ctx, "name")
            if "相对人" in title or "企业" in title
            else np.full(ctx.n, ctx.department.name, dtype=object)
        )
    if "地址" in title or "住所" in title:
        return _subject(ctx, "address")
    if "电话" in title:
        return _text([f"0772-{n}" for n in ctx.rng.integers(2_000_000, 8_999_999, ctx.n).tolist()])
    if title.endswith(("号", "编号", "编码")):
        return _serial_text(ctx, spec)
    return np.full(ctx.n, f"详见{ctx.department.short_name}原始记录", dtype=object)
