"""Sampling inspections of food and products: what was sampled, where, what failed and who tested it."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np

from etl.catalog import CatalogField
from etl.demo_data import themes, words
from etl.demo_data.arrays import map_distinct
from etl.demo_data.values.base import (
    ORGANISATION,
    event_dates,
    named,
    serials,
    subject_attr,
    subject_letters,
    text_array,
    workplace_of,
    years_of,
)

if TYPE_CHECKING:
    from etl.demo_data.table import Context


def _is_food(ctx: Context) -> bool:
    return ctx.dataset.domain == "食品药品"


def _product(ctx: Context) -> np.ndarray:
    count = len(themes.FOOD_PRODUCTS if _is_food(ctx) else themes.INDUSTRIAL_PRODUCTS)
    return ctx.memo("product", lambda: ctx.rng.integers(0, count, ctx.n))


@named("product_name")
def product_name(ctx: Context, spec: CatalogField) -> np.ndarray:
    table = themes.FOOD_PRODUCTS if _is_food(ctx) else themes.INDUSTRIAL_PRODUCTS
    return text_array([p[0] for p in table])[_product(ctx)]


@named("model_spec")
def model_spec(ctx: Context, spec: CatalogField) -> np.ndarray:
    column = 2 if _is_food(ctx) else 1
    table = themes.FOOD_PRODUCTS if _is_food(ctx) else themes.INDUSTRIAL_PRODUCTS
    return text_array([p[column] for p in table])[_product(ctx)]


@named("food_category")
def food_category(ctx: Context, spec: CatalogField) -> np.ndarray:
    return text_array([p[1] for p in themes.FOOD_PRODUCTS])[_product(ctx) % len(themes.FOOD_PRODUCTS)]


@named("failed_items")
def failed_items(ctx: Context, spec: CatalogField) -> np.ndarray:
    table = themes.FOOD_PRODUCTS if _is_food(ctx) else themes.INDUSTRIAL_PRODUCTS
    return text_array([p[-1] for p in table])[_product(ctx)]


@named("batch_no")
def batch_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    base = ctx.col("sampling_date") if ctx.has("sampling_date") else event_dates(ctx)
    made = base - ctx.rng.integers(3, 200, ctx.n)
    text = map_distinct(made, lambda d: dt.date.fromordinal(d).strftime("%Y-%m-%d"))
    return np.where(ctx.chance(0.8), text, text_array([f"批号：{d.replace('-', '')}" for d in text])).astype(
        object
    )


@named("brand")
def brand(ctx: Context, spec: CatalogField) -> np.ndarray:
    chars = words.TRADE_NAME_CHARS
    a, b = ctx.rng.integers(0, len(chars), ctx.n), ctx.rng.integers(0, len(chars), ctx.n)
    names = text_array([chars[i] + chars[j] for i, j in zip(a.tolist(), b.tolist(), strict=True)])
    return np.where(ctx.chance(0.2), "/", names).astype(object)


@named("report_no")
def report_no(ctx: Context, spec: CatalogField) -> np.ndarray:
    serial = serials(ctx, "report_serial", ctx.rng.random(ctx.n), (1000, 20000))
    prefix = "SP" if _is_food(ctx) else "CP"
    years = years_of(ctx.col("sampling_date")) if ctx.has("sampling_date") else years_of(event_dates(ctx))
    return text_array([f"{prefix}{y}45{s:07d}" for y, s in zip(years.tolist(), serial.tolist(), strict=True)])


@named("inspection_agency")
def inspection_agency(ctx: Context, spec: CatalogField) -> np.ndarray:
    return ctx.pick(themes.FOOD_AGENCIES if _is_food(ctx) else themes.PRODUCT_AGENCIES)


def _producer(ctx: Context) -> np.ndarray:
    return workplace_of(ctx, "f", "producer")


@named("producer_name")
def producer_name(ctx: Context, spec: CatalogField) -> np.ndarray:
    producer = _producer(ctx)
    own = subject_letters(ctx) == ORGANISATION
    return np.where(own & ctx.chance(0.3), subject_attr(ctx, "name"), ctx.pool.name[producer]).astype(object)


@named("producer_address")
def producer_address(ctx: Context, spec: CatalogField) -> np.ndarray:
    own = (
        ctx.col("producer_name") == subject_attr(ctx, "name")
        if ctx.has("producer_name")
        else np.zeros(ctx.n, bool)
    )
    return np.where(own, subject_attr(ctx, "address"), ctx.pool.address[_producer(ctx)]).astype(object)
