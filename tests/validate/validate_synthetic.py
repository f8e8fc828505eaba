"""Synthetic typed 行政处罚 batches for throughput measurements: mostly clean, a few per cent bad.

Built with Arrow kernels from small pools of values, so a million rows take about a second.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.catalog import Dataset
from etl.codes import orgcode, uscc
from etl.conform import ISSUE_SCHEMA, ConformedBatch


def valid_usccs(count: int, seed: int = 1) -> list[str]:
    """Valid USCCs of Liuzhou enterprises: 91 + 450202 + organisation code + check character."""
    rng = np.random.default_rng(seed)
    codes = []
    for number in rng.integers(10_000_000, 99_999_999, size=count):
        org = str(number)
        body = f"91450202{org}{orgcode.calc_check_char(org)}"
        codes.append(body + uscc.calc_check_char(body))
    return codes


def admin_penalty_batch(
    dataset: Dataset, n: int, *, start_row: int = 2, seed: int = 0, bad: float = 0.02
) -> tuple[ConformedBatch, int]:
    """``n`` typed rows of admin_penalty, and how many of them (about ``bad``) break one rule each."""
    rng = np.random.default_rng(seed)
    ids = pa.array(np.arange(start_row, start_row + n), pa.int64())
    text_ids = pc.cast(ids, pa.string())
    pool = pa.array(valid_usccs(500))
    pick = pa.array(rng.integers(0, len(pool), n))

    def constant(value: str) -> pa.Array:
        return pa.array(np.full(n, value, dtype=object), pa.string())

    def choose(values: list[str]) -> pa.Array:
        return pa.array(values, pa.string()).take(pa.array(rng.integers(0, len(values), n)))

    decision = rng.integers(0, 365, n) + (dt.date(2025, 1, 1) - dt.date(1970, 1, 1)).days
    columns: dict[str, pa.Array] = {name: pa.nulls(n, pa.string()) for name in dataset.field_names}
    columns.update(
        subject_name=pc.binary_join_element_wise("柳州市", text_ids, "号商贸有限公司", ""),
        subject_category=choose(["法人及非法人组织", "个体工商户"]),
        uscc=pool.take(pick),
        legal_rep=choose(["张三", "李四", "王五", "赵六"]),
        decision_no=pc.binary_join_element_wise("柳市监罚〔2025〕", text_ids, "号", ""),
        violation_type=choose(["虚假宣传", "无证经营", "产品质量不合格", "未按规定公示信息"]),
        violation_facts=choose(["当事人在其经营场所内销售不符合食品安全标准的食品，货值金额较小，" * 3]),
        legal_basis=choose(
            ["《中华人民共和国食品安全法》第一百二十四条第一款", "《中华人民共和国广告法》第五十五条"]
        ),
        penalty_types=choose(["警告;罚款", "罚款", "警告", "罚款;没收违法所得"]),
        penalty_content=choose(["罚款人民币壹万元整", "警告并罚款五千元"]),
        fine_amount=pa.array(np.full(n, 1, dtype=np.int32)).cast(pa.decimal128(20, 6)),
        decision_date=pa.array(decision, pa.int32()).cast(pa.date32()),
        valid_until=pa.array(decision + 180, pa.int32()).cast(pa.date32()),
        authority=constant("柳州市市场监督管理局"),
        authority_uscc=constant(pool[0].as_py()),
        source_unit=constant("柳州市市场监督管理局"),
        source_unit_uscc=constant(pool[1].as_py()),
    )
    columns["confiscated_amount"] = pa.nulls(n, pa.decimal128(20, 6))
    columns["publicity_until"] = pa.nulls(n, pa.date32())
    typed, broken = _inject_errors(pa.table(columns), rng, bad)
    raw = pa.table(
        {
            name: typed[name] if typed[name].type == pa.string() else pc.cast(typed[name], pa.string())
            for name in typed.column_names
        }
    )
    return ConformedBatch(rows=ids, raw=raw, typed=typed, issues=ISSUE_SCHEMA.empty_table()), broken


def _inject_errors(table: pa.Table, rng: np.random.Generator, bad: float) -> tuple[pa.Table, int]:
    """Breaks about ``bad`` of the rows, each in one of four ways that each give one reason."""
    n = len(table)
    kinds = rng.integers(0, 4, n)
    broken = rng.random(n) < bad
    edits = {
        "uscc": ("91450200MA5K12345Y", 0),
        "decision_date": (None, 1),
        "subject_category": ("法人", 2),
        "penalty_types": ("罚金", 3),
    }
    for name, (value, kind) in edits.items():
        where = pa.array(broken & (kinds == kind))
        column = table[name]
        replacement = pa.scalar(value, column.type)
        table = table.set_column(table.column_names.index(name), name, pc.if_else(where, replacement, column))
    return table, int(broken.sum())
