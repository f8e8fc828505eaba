"""The quality dimensions of the NDRC report, and which quarantine reason counts against which.

Every rule a row can be rejected by belongs to exactly one dimension (``RULE_DIMENSIONS`` is the
table the report prints); consistency is judged across the warehouse (一码多名 / 一名多码, never a
reason to reject one row) and timeliness from the ledger, so no quarantine reason maps to them.

>>> from etl.catalog import load_catalog
>>> penalty = load_catalog().datasets["admin_penalty"]
>>> [dimension_of(rule, penalty) for rule in ("required", "USCC_BAD_CHECK", "allowed", "duplicate")]
['completeness', 'accuracy', 'conformity', 'uniqueness']
>>> dimension_of("subject_identifier", penalty), dimension_of("no_such_rule", penalty)
('completeness', 'conformity')
"""

from __future__ import annotations

from typing import Final

from etl.catalog import Dataset, RequireRule
from etl.codes import reasons

COMPLETENESS: Final = "completeness"
CONFORMITY: Final = "conformity"
ACCURACY: Final = "accuracy"
CONSISTENCY: Final = "consistency"
UNIQUENESS: Final = "uniqueness"
TIMELINESS: Final = "timeliness"

DIMENSIONS: Final = (COMPLETENESS, CONFORMITY, ACCURACY, CONSISTENCY, UNIQUENESS, TIMELINESS)
TITLES: Final = {
    COMPLETENESS: "完整性",
    CONFORMITY: "规范性",
    ACCURACY: "准确性",
    CONSISTENCY: "一致性",
    UNIQUENESS: "唯一性",
    TIMELINESS: "及时性",
}

# Identifier check reasons: the unified-code error rate (重错码率) counts rows rejected by these.
CODE_RULE_PREFIXES: Final = ("USCC_", "ORGCODE_", "REGNO_", "IDCARD_")
CODE_RULES: Final = frozenset({reasons.SCIENTIFIC_NOTATION, reasons.UNRECOGNISED_CODE})

# (rule or family, dimension, what it checks): the report's table, and the mapping itself.
RULE_DIMENSIONS: Final = (
    ("required", COMPLETENESS, "必填项为空"),
    ("one_of 组（如 subject_identifier）", COMPLETENESS, "主体代码等“至少填一项”的组全部为空"),
    ("require 规则", COMPLETENESS, "满足条件时应填的项为空（如占位代码须填注册号）"),
    ("max_length", CONFORMITY, "超过长度上限"),
    ("allowed", CONFORMITY, "不在允许值（代码表）范围内"),
    ("pattern", CONFORMITY, "不符合格式规则"),
    ("NOT_A_DATE / NOT_A_NUMBER / NOT_AN_INTEGER / NUMBER_OUT_OF_RANGE", CONFORMITY,
     "日期、数值格式或范围错误"),
    ("RAGGED_ROW", CONFORMITY, "整行分隔符错误，无法按列读取"),
    ("USCC_* / ORGCODE_* / REGNO_* / IDCARD_*", ACCURACY,
     "统一社会信用代码、组织机构代码、注册号、身份证号校验不通过"),
    ("SCIENTIFIC_NOTATION / UNRECOGNISED_CODE", ACCURACY, "代码被科学计数法损坏或无法识别"),
    ("not_future", ACCURACY, "决定日期、列入日期晚于当天"),
    ("compare 规则", ACCURACY, "日期先后等字段间逻辑关系不成立"),
    ("duplicate", UNIQUENESS, "同一报送中去重键重复"),
    ("ONE_CODE_MANY_NAMES / ONE_NAME_MANY_CODES / ORGCODE_MISMATCH", CONSISTENCY,
     "跨数据集：一码多名、一名多码、组织机构代码与统一社会信用代码不符（全库检查，不拒收单行）"),
    ("报送时效", TIMELINESS, "每半月至少报送一次；双公示自决定之日起7个工作日内公示"),
)  # fmt: skip

_BY_RULE: Final = {
    "required": COMPLETENESS,
    "max_length": CONFORMITY,
    "allowed": CONFORMITY,
    "pattern": CONFORMITY,
    "NOT_A_DATE": CONFORMITY,
    "NOT_A_NUMBER": CONFORMITY,
    "NOT_AN_INTEGER": CONFORMITY,
    "NUMBER_OUT_OF_RANGE": CONFORMITY,
    "RAGGED_ROW": CONFORMITY,
    "not_future": ACCURACY,
    "duplicate": UNIQUENESS,
}


def is_code_rule(rule: str) -> bool:
    """Whether ``rule`` is an identifier check's reason code."""
    return rule in CODE_RULES or rule.startswith(CODE_RULE_PREFIXES)


def dimension_of(rule: str, dataset: Dataset | None) -> str:
    """The dimension a quarantine reason counts against; a rule the table does not know (a dataset
    since removed from the catalog) counts as conformity."""
    if rule in _BY_RULE:
        return _BY_RULE[rule]
    if is_code_rule(rule):
        return ACCURACY
    if dataset is not None:
        if any(group.id == rule for group in dataset.one_of):
            return COMPLETENESS
        for catalog_rule in dataset.rules:
            if catalog_rule.id == rule:
                return COMPLETENESS if isinstance(catalog_rule, RequireRule) else ACCURACY
    return CONFORMITY
