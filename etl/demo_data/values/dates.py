"""Dates that hang together: decisions are recent, validity runs from the decision, lists are
announced once a year, registrations follow the subject's founding, nothing happens after LAST_DAY.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from etl.catalog import CatalogField
from etl.demo_data.settings import LAST_DAY
from etl.demo_data.values.base import (
    LAST,
    OPEN,
    YEAR_START,
    birth_dates,
    blank,
    event_dates,
    latest_dates,
    named,
    optional_dates,
    ordinal_of,
    people_attr,
    person_index,
    recent_dates,
    subject_attr,
    timestamps_after,
    years_after,
)
from etl.demo_data.values.licences import licence_index, licence_kinds

if TYPE_CHECKING:
    from etl.demo_data.table import Context


@named("decision_date")
def decision_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    return event_dates(ctx)


@named("valid_until")
def valid_until(ctx: Context, spec: CatalogField) -> np.ndarray:
    base = ctx.col("decision_date") if ctx.has("decision_date") else event_dates(ctx)
    return years_after(base, ctx.pick((1, 3), (0.6, 0.4)).astype(np.int64))


@named("publicity_until")
def publicity_until(ctx: Context, spec: CatalogField) -> np.ndarray:
    base = ctx.col("valid_until") if ctx.has("valid_until") else years_after(event_dates(ctx), 3)
    return optional_dates(ctx, spec, 0.4, base)


@named("valid_from")
def valid_from(ctx: Context, spec: CatalogField) -> np.ndarray:
    if ctx.has("decision_date"):
        values = ctx.col("decision_date") + ctx.pick((0, 0, 1)).astype(np.int64)
    elif ctx.has("issue_date"):
        values = ctx.col("issue_date")
    elif ctx.has("list_year"):
        values = _list_announcement(ctx)
    elif ctx.has("established_date"):
        values = ctx.days_between(np.maximum(ctx.col("established_date"), ordinal_of(2021)), LAST)
    elif ctx.has("first_issue_date"):
        values = ctx.days_between(np.maximum(ctx.col("first_issue_date"), ordinal_of(2020)), LAST)
    else:
        values = ctx.days_between(ordinal_of(2021), LAST)
    return optional_dates(ctx, spec, 0.9, np.minimum(values, LAST))


def _validity_years(ctx: Context) -> np.ndarray:
    if ctx.dataset.category == "licensing":
        return np.array([k.years for k in licence_kinds(ctx)], dtype=np.int64)[licence_index(ctx)]
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
        event_dates(ctx),
    )
    years = _validity_years(ctx)
    values = np.where(years == 0, OPEN, years_after(np.maximum(start, 1), np.maximum(years, 1)))
    values = np.where(start == 0, 0, values)
    return optional_dates(ctx, spec, 0.8, values)


def _list_announcement(ctx: Context) -> np.ndarray:
    """The day a yearly list (评定年度 N) was announced: spring to autumn of year N+1."""

    def make() -> np.ndarray:
        year = ctx.col("list_year").astype(np.int64) + 1
        # One announcement per list year, on a working-looking day between spring and autumn.
        day = {
            int(y): min(ordinal_of(int(y), 3, 20) + int(ctx.rng.integers(0, 200)), LAST)
            for y in np.unique(year)
        }
        return np.array([day[int(y)] for y in year], dtype=np.int64)

    return ctx.memo("announcement", make)


@named("entry_date")
def entry_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    if ctx.has("list_year"):
        return _list_announcement(ctx)
    return recent_dates(ctx, low=ordinal_of(LAST_DAY.year - 1), scale=220.0)


@named("exit_date")
def exit_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    anchor = next((ctx.col(n) for n in ("entry_date", "publish_date") if ctx.has(n)), event_dates(ctx))
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
    return event_dates(ctx)


@named("filing_date")
def filing_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    return recent_dates(ctx, low=ordinal_of(2019), scale=500.0) - 25


@named("sampling_date")
def sampling_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.days_between(YEAR_START + 4, LAST - 45)


@named("issue_date")
def issue_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    return recent_dates(ctx, low=ordinal_of(2021), scale=500.0)


@named("registration_date")
def registration_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    birth = birth_dates(people_attr(ctx, "id_no", person_index(ctx)))
    earliest = np.maximum(years_after(np.maximum(birth, 1), 24) + 1, ordinal_of(1995))
    return ctx.days_between(np.minimum(earliest, LAST), LAST)


@named("first_issue_date")
def first_issue_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    birth = birth_dates(people_attr(ctx, "id_no", person_index(ctx)))
    earliest = np.minimum(np.maximum(years_after(np.maximum(birth, 1), 21) + 1, ordinal_of(2000)), LAST)
    latest = np.minimum(np.maximum(earliest, ordinal_of(2022, 12, 31)), LAST)
    return optional_dates(ctx, spec, 0.85, ctx.days_between(earliest, latest))


@named("established_date")
def established_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    return subject_attr(ctx, "established").astype(np.int64)


@named("business_term_from")
def business_term_from(ctx: Context, spec: CatalogField) -> np.ndarray:
    start = ctx.col("established_date") if ctx.has("established_date") else subject_attr(ctx, "established")
    return optional_dates(ctx, spec, 0.9, np.asarray(start, dtype=np.int64))


@named("business_term_to")
def business_term_to(ctx: Context, spec: CatalogField) -> np.ndarray:
    start = (
        ctx.col("business_term_from") if ctx.has("business_term_from") else subject_attr(ctx, "established")
    )
    years = ctx.pick((0, 20, 30, 50), (0.6, 0.15, 0.15, 0.1)).astype(np.int64)
    values = np.where(years == 0, OPEN, years_after(np.maximum(start, 1), np.maximum(years, 1)))
    return np.where(start == 0, 0, values)


@named("approval_date")
def approval_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    start = ctx.col("established_date") if ctx.has("established_date") else subject_attr(ctx, "established")
    start = np.maximum(start, 1)
    lag = ((LAST - start) * (1 - ctx.rng.random(ctx.n) ** 0.25)).astype(np.int64)
    return optional_dates(ctx, spec, 0.9, np.minimum(start + lag, LAST))


@named("opening_date")
def opening_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    start = np.maximum(subject_attr(ctx, "established").astype(np.int64), ordinal_of(2003))
    return ctx.days_between(np.minimum(start + 3, LAST), np.minimum(start + 60, LAST))


@named("closing_date")
def closing_date(ctx: Context, spec: CatalogField) -> np.ndarray:
    opened = ctx.col("opening_date") if ctx.has("opening_date") else event_dates(ctx)
    closed = ctx.days_between(np.minimum(opened + 30, LAST), LAST)
    if ctx.has("account_status"):
        return np.where(ctx.col("account_status") == "撤销", closed, 0)
    return optional_dates(ctx, spec, 0.1, closed)


@named("updated_at")
def updated_at(ctx: Context, spec: CatalogField) -> np.ndarray:
    """The record's last change in the department's system: always in database tables; in files
    only some systems export it (the catalog says a file delivery may leave it empty)."""
    dates = {f.name: ctx.col(f.name) for f in ctx.dataset.fields if f.type == "date"}
    stamps = timestamps_after(ctx.rng, latest_dates(dates, ctx.n))
    if spec.required or ctx.source.method == "database" or ctx.rng.random() < 0.5:
        return stamps
    return blank(ctx.n)
