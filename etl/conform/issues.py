"""Cell issues found while typing: one row per cell, with a Chinese message a clerk can act on.

An issue names the column by its catalog title and quotes the value, and says how to write it:
``处罚决定日期「2026年13月1日」不是有效日期，请按 2026-10-08 格式填写``. Values of personal fields
(identity numbers) are masked in both the ``value`` column and the message, because issues end up in
feedback files and reports.

Messages are assembled with Arrow string kernels, so a column that is normalised on every row (a
department that writes codes in lower case) costs no Python loop.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from etl.catalog import CatalogField
from etl.conform import values as v
from etl.feedback import show_controls

CODE_NORMALISED = "CODE_NORMALISED"
ERROR, NORMALISED = "error", "normalised"

ISSUE_SCHEMA = pa.schema(
    [
        ("row", pa.int64()),
        ("field", pa.string()),
        ("value", pa.string()),
        ("rule", pa.string()),
        ("message", pa.string()),
        ("severity", pa.string()),
    ]
)

SEVERITY = {
    v.NOT_A_DATE: ERROR,
    v.NOT_A_NUMBER: ERROR,
    v.NOT_AN_INTEGER: ERROR,
    v.NUMBER_OUT_OF_RANGE: ERROR,
    v.DECIMAL_ROUNDED: NORMALISED,
    v.CONTROL_CHARACTERS: ERROR,
    CODE_NORMALISED: NORMALISED,
}


def empty_issues() -> pa.Table:
    return ISSUE_SCHEMA.empty_table()


def typing_issues(rows: pa.Array, catalog_field: CatalogField, raw: pa.Array, reasons: pa.Array) -> pa.Table:
    """Issues for the cells whose ``reasons`` entry is set (see ``etl.conform.values``)."""
    flagged = pc.is_valid(reasons)
    if not pc.any(flagged).as_py():
        return empty_issues()
    rows, raw, reasons = rows.filter(flagged), raw.filter(flagged), reasons.filter(flagged)
    shown = _shown(raw, catalog_field)
    messages = pa.nulls(len(rows), pa.string())
    for reason in pc.unique(reasons).to_pylist():
        before, after = _template(reason, catalog_field)
        text = pc.binary_join_element_wise(before, shown, after, "")
        messages = pc.if_else(pc.equal(reasons, reason), text, messages)
    severity = pc.if_else(pc.equal(reasons, v.DECIMAL_ROUNDED), NORMALISED, ERROR)
    value = shown if catalog_field.is_personal else raw
    return _table(rows, catalog_field, value, reasons, messages, severity)


def normalised_code_issues(
    rows: pa.Array, catalog_field: CatalogField, raw: pa.Array, normalised: pa.Array, changed: pa.Array
) -> pa.Table:
    """Severity-``normalised`` issues for codes that normalisation changed (full-width, case, blanks)."""
    changed = pc.fill_null(changed, False)
    if not pc.any(changed).as_py():
        return empty_issues()
    rows, raw, normalised = rows.filter(changed), raw.filter(changed), normalised.filter(changed)
    title = catalog_field.title
    fixed = "含全角字符、小写字母、空格或连字符，已自动规范"
    ask = "；请在源系统中一并更正"
    if catalog_field.is_personal:
        messages = pa.array([f"{title}{fixed}{ask}"] * len(rows), pa.string())
        shown = _shown(raw, catalog_field)
    else:
        shown = raw
        messages = pc.binary_join_element_wise(
            f"{title}「", pc.utf8_trim_whitespace(raw), f"」{fixed}为「", normalised, f"」{ask}", ""
        )
    reasons = pa.array([CODE_NORMALISED] * len(rows), pa.string())
    severity = pa.array([NORMALISED] * len(rows), pa.string())
    return _table(rows, catalog_field, shown, reasons, messages, severity)


def control_character_issues(
    rows: pa.Array, catalog_field: CatalogField, raw: pa.Array, flagged: pa.Array
) -> pa.Table:
    """Error issues for cells holding control characters (``etl.conform.values.control_characters``).

    The value is quoted with each control character written out (``\\x00``): the character itself
    cannot go into a feedback workbook, and the clerk needs to see where it is.
    """
    rows, raw = rows.filter(flagged), raw.filter(flagged)
    shown = _shown(raw, catalog_field).to_pylist()
    visible = pa.array([show_controls(text) for text in shown], pa.string())
    message = (
        f"{catalog_field.title}含有不可见的控制字符（如 NUL、ESC，原值中以 \\x00 等形式标出），"
        "通常来自系统导出或复制粘贴；请删除这些字符后重新报送该行"
    )
    messages = pa.array([message] * len(rows), pa.string())
    reasons = pa.array([v.CONTROL_CHARACTERS] * len(rows), pa.string())
    severity = pa.array([ERROR] * len(rows), pa.string())
    return _table(rows, catalog_field, visible, reasons, messages, severity)


def _table(
    rows: pa.Array,
    catalog_field: CatalogField,
    shown: pa.Array,
    reasons: pa.Array,
    messages: pa.Array,
    severity: pa.Array,
) -> pa.Table:
    fields = pa.array([catalog_field.name] * len(rows), pa.string())
    return pa.Table.from_arrays([rows, fields, shown, reasons, messages, severity], schema=ISSUE_SCHEMA)


def _shown(raw: pa.Array, catalog_field: CatalogField) -> pa.Array:
    """The value as quoted in a message: trimmed, and masked for personal fields."""
    if catalog_field.is_personal:
        from etl.codes import mask_idcards

        return mask_idcards(raw)
    return pc.utf8_trim_whitespace(raw)


def _template(reason: str, catalog_field: CatalogField) -> tuple[str, str]:
    """The text before and after the quoted value in the message for ``reason``."""
    title = catalog_field.title
    optional = "" if catalog_field.required else "；如无此项请留空"
    unit = catalog_field.unit
    if unit == "万元":
        unit_hint = "（单位为万元，如 5000 元填 0.5）"
    elif unit:
        unit_hint = f"（单位为{unit}）"
    else:
        unit_hint = ""
    after = {
        v.NOT_A_DATE: f"」不是有效日期，请按 2026-10-08 格式填写{optional}",
        v.NOT_A_NUMBER: f"」不是有效数字，请只填写阿拉伯数字{unit_hint}{optional}",
        v.NOT_AN_INTEGER: f"」不是整数，请只填写阿拉伯数字，如 2026{optional}",
        v.NUMBER_OUT_OF_RANGE: "」数值过大，超出可以存储的范围（整数部分最多14位）；请核对数值和单位",
        v.DECIMAL_ROUNDED: f"」超过{v.DECIMAL_PLACES}位小数，已四舍五入保留{v.DECIMAL_PLACES}位小数",
    }[reason]
    return f"{title}「", after
