"""The report's tables, one per section, from the metrics dict: what the HTML page shows and what
the workbook holds (one sheet per section), so both always carry the same figures.

A column has a Chinese title and a kind that says how its value is shown: ``text``, ``int``,
``rate`` (a fraction shown as a percentage with one decimal), ``score`` (one decimal) or ``link``
(a URL, shown as 查看).

>>> cell_text(0.98765, "rate"), cell_text(None, "rate"), cell_text(1234, "int"), cell_text(87.26, "score")
('98.8%', '—', '1,234', '87.3')
>>> cell_text("", "int")    # deliberately blank (a reason's figures below its first example)
''
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

TEXT, INT, RATE, SCORE, LINK = "text", "int", "rate", "score", "link"
# A column whose rows each say their own kind (key "kind"): the overview's figures.
PER_ROW = "per_row"
EMPTY = "—"


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: str = TEXT


@dataclass(frozen=True)
class Section:
    """One table: ``id`` names it in the page, ``title`` is its heading and sheet name."""

    id: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Mapping[str, Any], ...]


def kind_of(row: Mapping[str, Any], column: Column) -> str:
    """How ``row``'s value in ``column`` is shown."""
    return str(row.get("kind", TEXT)) if column.kind == PER_ROW else column.kind


def cell_text(value: Any, kind: str) -> str:
    """A value as the page shows it."""
    if value == "":
        return ""
    if value is None:
        return EMPTY
    if kind == RATE:
        return f"{value:.1%}"
    if kind == SCORE:
        return f"{value:.1f}"
    if kind == INT:
        return f"{value:,}"
    if kind == LINK:
        return "查看"
    return str(value)


OVERVIEW_LINES = (
    ("deliveries", "报送次数（不含重复）", INT),
    ("deliveries_successful", "成功报送次数", INT),
    ("deliveries_failed", "整批拒收或处理失败次数", INT),
    ("rows_read", "报送数据行数", INT),
    ("rows_loaded", "入库行数", INT),
    ("rows_rejected", "拒收行数", INT),
    ("pass_rate", "入库通过率", RATE),
    ("datasets_reporting", "有成功报送的数据集数", INT),
    ("datasets_total", "目录数据集总数", INT),
    ("departments_reporting", "有成功报送的部门数", INT),
    ("departments_total", "负有报送责任的部门数", INT),
    ("key_domains_covered", "已覆盖的重点领域数", INT),
    ("key_domains_total", "规划重点领域数", INT),
)

DEPARTMENT_COLUMNS = (
    Column("rank", "排名", INT),
    Column("name", "部门"),
    Column("score", "综合得分", SCORE),
    Column("deliveries_successful", "成功报送次数", INT),
    Column("deliveries_required", "应报次数", INT),
    Column("on_time", "按时报送次数", INT),
    Column("on_time_rate", "按时报送率", RATE),
    Column("rows_loaded", "入库行数", INT),
    Column("rows_rejected", "拒收行数", INT),
    Column("pass_rate", "入库通过率", RATE),
    Column("publication_records", "双公示记录数", INT),
    Column("publication_rate", "双公示7日公示率", RATE),
    Column("code_errors", "错码行数", INT),
    Column("code_error_rate", "重错码率", RATE),
    Column("rows_corrected", "已纠正行数", INT),
    Column("correction_rate", "纠正率", RATE),
)

DIMENSION_COLUMNS = (
    Column("completeness", "完整性", RATE),
    Column("conformity", "规范性", RATE),
    Column("accuracy", "准确性", RATE),
    Column("consistency", "一致性", RATE),
    Column("uniqueness", "唯一性", RATE),
    Column("timeliness", "及时性", RATE),
)

DATASET_COLUMNS = (
    Column("title", "数据集"),
    Column("domain", "重点领域"),
    Column("deliveries", "报送次数", INT),
    Column("rows_read", "报送行数", INT),
    Column("rows_loaded", "入库行数", INT),
    Column("rows_rejected", "拒收行数", INT),
    Column("pass_rate", "入库通过率", RATE),
    *DIMENSION_COLUMNS,
    Column("data_docs", "校验规则（Data Docs）", LINK),
)

RULE_COLUMNS = (
    Column("dimension_title", "质量维度"),
    Column("rule", "规则"),
    Column("checks", "检查内容"),
)

REASON_COLUMNS = (
    Column("rule", "拒收规则"),
    Column("dimension_title", "质量维度"),
    Column("reasons", "出现次数", INT),
    Column("rows", "涉及行数", INT),
    Column("dataset_title", "示例：数据集"),
    Column("department_name", "部门"),
    Column("file_name", "文件"),
    Column("source_row", "行号", INT),
    Column("field_title", "字段"),
    Column("value", "原值"),
    Column("message", "拒收原因"),
)

BREACH_COLUMNS = (
    Column("department_name", "部门"),
    Column("dataset_title", "数据集"),
    Column("due", "应报事项"),
    Column("deadline", "截止日期"),
    Column("days_late", "超期工作日", INT),
    Column("first_alerted", "首次提醒日期"),
    Column("escalation_level", "督办级别", INT),
    Column("detail", "说明"),
)

TREND_COLUMNS = (
    Column("label", "统计期"),
    Column("deliveries", "报送次数", INT),
    Column("deliveries_successful", "成功报送次数", INT),
    Column("rows_loaded", "入库行数", INT),
    Column("rows_rejected", "拒收行数", INT),
    Column("pass_rate", "入库通过率", RATE),
    Column("deliveries_required", "应报次数", INT),
    Column("on_time_rate", "按时报送率", RATE),
    Column("datasets_reporting", "报送数据集数", INT),
    Column("departments_reporting", "报送部门数", INT),
)

DOMAIN_COLUMNS = (Column("domain", "重点领域"), Column("covered_text", "统计期内是否有数据"))
DEFINITION_COLUMNS = (Column("term", "指标"), Column("definition", "口径"))


def reason_rows(reasons: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], ...]:
    """One row per example, the reason's own figures on its first example only (blank below)."""
    rows = []
    for reason in reasons:
        head = {k: reason[k] for k in ("rule", "dimension_title", "reasons", "rows")}
        blank = dict.fromkeys(head, "")
        for i, example in enumerate(reason["examples"] or [{}]):
            rows.append({**(head if i == 0 else blank), **example})
    return tuple(rows)


def sections(metrics: Mapping[str, Any]) -> list[Section]:
    """Every table of the report, in page order."""
    overview = metrics["overview"]
    return [
        Section("overview", "总体情况", (Column("label", "指标"), Column("value", "数值", PER_ROW)),
                tuple({"label": title, "value": overview[key], "kind": kind}
                      for key, title, kind in OVERVIEW_LINES)),
        Section("domains", "重点领域覆盖", DOMAIN_COLUMNS,
                tuple({**d, "covered_text": "是" if d["covered"] else "否"}
                      for d in overview["key_domains"])),
        Section("departments", "部门评分与排名", DEPARTMENT_COLUMNS, tuple(metrics["departments"])),
        Section("datasets", "数据集质量（按维度）", DATASET_COLUMNS, tuple(metrics["datasets"])),
        Section("rules", "拒收规则与质量维度对照", RULE_COLUMNS, tuple(metrics["rule_dimensions"])),
        Section("reasons", "主要拒收原因及示例", REASON_COLUMNS, reason_rows(metrics["reasons"])),
        Section("breaches", "未按时报送（统计期末仍超期）", BREACH_COLUMNS, tuple(metrics["breaches"])),
        Section("trend", "近六期趋势", TREND_COLUMNS, tuple(metrics["trend"])),
        Section("definitions", "指标口径说明", DEFINITION_COLUMNS, tuple(metrics["definitions"])),
    ]  # fmt: skip
