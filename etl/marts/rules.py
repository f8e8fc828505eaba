"""What makes a penalty serious and a subject a key supervision target (重点监管对象).

A penalty is **serious** when its 处罚类别 includes one of the heavier kinds for which the
Administrative Penalty Law (行政处罚法 2021, art. 63) gives the party a hearing — 降低资质等级,
吊销许可证件, 责令停产停业, 责令关闭, 限制从业, 限制开展生产经营活动 — or 行政拘留 or 暂扣许可证件, or when
the fine and the confiscated amount together reach ``SERIOUS_AMOUNT`` 万元 (a "较大数额" fine; the
provinces set the exact threshold, 10 万元 for organisations is common). Only penalty datasets with
the fields ``penalty_types`` (multi-valued, the catalog's separator), ``fine_amount`` and
``confiscated_amount`` can have serious penalties; a field it lacks contributes nothing.

A subject is a **key supervision target** on a date when it is on black lists of two or more key
domains that day, or when more than N of its penalties decided in the twelve months up to that
day are serious (N: ``--serious-penalties`` or ``CREDIT_ETL_KEY_TARGET_PENALTIES``, default 2).

>>> twelve_months_before(dt.date(2026, 2, 28)), twelve_months_before(dt.date(2024, 2, 29))
(datetime.date(2025, 2, 28), datetime.date(2023, 2, 28))
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

from etl.errors import UsageError

SERIOUS_PENALTY_TYPES = (
    "暂扣许可证件", "降低资质等级", "吊销许可证件", "限制开展生产经营活动", "责令停产停业", "责令关闭",
    "限制从业", "行政拘留",
)  # fmt: skip
SERIOUS_AMOUNT = Decimal(10)  # 万元, fine + confiscated
PENALTY_TYPES_FIELD = "penalty_types"
AMOUNT_FIELDS = ("fine_amount", "confiscated_amount")

KEY_TARGET_PENALTIES_ENV = "CREDIT_ETL_KEY_TARGET_PENALTIES"
DEFAULT_KEY_TARGET_PENALTIES = 2
MIN_BLACK_LIST_DOMAINS = 2  # also written in sql/marts/key_targets.sql


def key_target_penalties(value: int | None = None) -> int:
    """N of "more than N serious penalties": ``value``, else the environment, else 2."""
    if value is None:
        text = os.environ.get(KEY_TARGET_PENALTIES_ENV, "").strip()
        if not text:
            return DEFAULT_KEY_TARGET_PENALTIES
        try:
            value = int(text)
        except ValueError:
            raise UsageError(f"{KEY_TARGET_PENALTIES_ENV} must be a whole number, not {text!r}") from None
    if value < 0:
        raise UsageError(f"the number of serious penalties must not be negative, not {value}")
    return value


def twelve_months_before(day: dt.date) -> dt.date:
    """The day twelve months before ``day`` (29 February falls back to the 28th); penalties decided
    after it and up to ``day`` are the ones of the last twelve months."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)
