"""Reason codes of the identifier checks, each with the Chinese message a department clerk reads.

A reason code is a stable UPPER_SNAKE string: reports, feedback files and the warehouse key on it,
so a code is never renamed or reused; the message text may be improved at any time. A message
template names its fields in braces; the same template serves the scalar ``validate`` functions
(through ``message``) and the vectorised ``etl.codes.check``.

No message quotes more than a character or two of the value it is about: messages end up in
feedback files and reports, which must not carry personal identity numbers unmasked, and a
mistyped identity number may well be checked as another kind of code (``kind="auto"``).

>>> message(USCC_BAD_CHECK, expected="L")
'统一社会信用代码校验位错误，应为 L（若证照上最后一位不是 L，说明前17位有录入错误，请逐位核对）'
>>> fields(USCC_BAD_CHAR)
('pos', 'char')
"""

from __future__ import annotations

import string
from typing import Final

# Damage any code can suffer in a spreadsheet; not specific to one kind of code.
SCIENTIFIC_NOTATION: Final = "SCIENTIFIC_NOTATION"
UNRECOGNISED_CODE: Final = "UNRECOGNISED_CODE"

USCC_BAD_LENGTH: Final = "USCC_BAD_LENGTH"
USCC_BAD_CHAR: Final = "USCC_BAD_CHAR"
USCC_BAD_AUTHORITY_TYPE: Final = "USCC_BAD_AUTHORITY_TYPE"
USCC_BAD_DIVISION: Final = "USCC_BAD_DIVISION"
USCC_BAD_CHECK: Final = "USCC_BAD_CHECK"
USCC_BAD_ORGCODE_CHECK: Final = "USCC_BAD_ORGCODE_CHECK"
USCC_PLACEHOLDER_WITHOUT_REGNO: Final = "USCC_PLACEHOLDER_WITHOUT_REGNO"

ORGCODE_BAD_LENGTH: Final = "ORGCODE_BAD_LENGTH"
ORGCODE_BAD_CHAR: Final = "ORGCODE_BAD_CHAR"
ORGCODE_BAD_CHECK: Final = "ORGCODE_BAD_CHECK"

REGNO_BAD_LENGTH: Final = "REGNO_BAD_LENGTH"
REGNO_BAD_CHAR: Final = "REGNO_BAD_CHAR"
REGNO_BAD_DIVISION: Final = "REGNO_BAD_DIVISION"
REGNO_BAD_CHECK: Final = "REGNO_BAD_CHECK"

IDCARD_BAD_LENGTH: Final = "IDCARD_BAD_LENGTH"
IDCARD_BAD_CHAR: Final = "IDCARD_BAD_CHAR"
IDCARD_BAD_ADDRESS: Final = "IDCARD_BAD_ADDRESS"
IDCARD_BAD_BIRTHDATE: Final = "IDCARD_BAD_BIRTHDATE"
IDCARD_FUTURE_BIRTHDATE: Final = "IDCARD_FUTURE_BIRTHDATE"
IDCARD_BAD_CHECK: Final = "IDCARD_BAD_CHECK"

# Cross-record findings (etl.codes.consistency): about groups of records, not one value.
ONE_CODE_MANY_NAMES: Final = "ONE_CODE_MANY_NAMES"
ONE_NAME_MANY_CODES: Final = "ONE_NAME_MANY_CODES"
ORGCODE_MISMATCH: Final = "ORGCODE_MISMATCH"

_RETYPE = "请照证照原件逐位核对后重新填写"

MESSAGES: Final[dict[str, str]] = {
    SCIENTIFIC_NOTATION: (
        "代码被表格软件显示成了科学计数法，末尾几位已经丢失、无法还原；"
        "请把该列设为“文本”格式，从原始系统重新导出或照证照重新录入"
    ),
    UNRECOGNISED_CODE: (
        "无法识别的代码（{length}位）：不是18位统一社会信用代码或身份证号码、9位组织机构代码、"
        "15位工商注册号；" + _RETYPE
    ),
    USCC_BAD_LENGTH: "统一社会信用代码应为18位，实际为{length}位；" + _RETYPE,
    USCC_BAD_CHAR: (
        "统一社会信用代码第{pos}位“{char}”不是合法字符：只能是数字和除 I、O、S、V、Z 以外的大写字母"
        "（常见误写：I→1、O→0、S→5、V→U、Z→2）；" + _RETYPE
    ),
    USCC_BAD_AUTHORITY_TYPE: (
        "统一社会信用代码前两位“{pair}”不是有效的登记管理部门码和机构类别码组合"
        "（例如企业为91、个体工商户为92、事业单位为12）；" + _RETYPE
    ),
    USCC_BAD_DIVISION: (
        "统一社会信用代码第3-8位不是有效的行政区划代码（应为6位数字，前两位是省级代码，如广西为45）；"
        + _RETYPE
    ),
    USCC_BAD_CHECK: (
        "统一社会信用代码校验位错误，应为 {expected}"
        "（若证照上最后一位不是 {expected}，说明前17位有录入错误，请逐位核对）"
    ),
    USCC_BAD_ORGCODE_CHECK: (
        "统一社会信用代码第9-17位（组织机构代码部分）校验错误，第17位应为 {expected}；"
        "这样的代码不可能由登记机关赋予，" + _RETYPE
    ),
    USCC_PLACEHOLDER_WITHOUT_REGNO: (
        "统一社会信用代码填的是占位码 00000000000000000X，但本条记录没有有效的15位工商注册号；"
        "请填写真实的统一社会信用代码，或在工商注册号栏填写有效的注册号"
    ),
    ORGCODE_BAD_LENGTH: (
        "组织机构代码应为9位（8位本体代码加1位校验码，可写作 XXXXXXXX-X），实际为{length}位；" + _RETYPE
    ),
    ORGCODE_BAD_CHAR: (
        "组织机构代码第{pos}位“{char}”不是合法字符：前8位只能是数字或大写字母，第9位只能是数字或 X；"
        + _RETYPE
    ),
    ORGCODE_BAD_CHECK: (
        "组织机构代码校验码错误，应为 {expected}"
        "（若证照上最后一位不是 {expected}，说明前8位有录入错误，请逐位核对）"
    ),
    REGNO_BAD_LENGTH: "工商注册号应为15位数字，实际为{length}位；" + _RETYPE,
    REGNO_BAD_CHAR: "工商注册号只能由数字组成，第{pos}位是“{char}”；" + _RETYPE,
    REGNO_BAD_DIVISION: (
        "工商注册号前6位不是有效的登记机关行政区划代码（前两位应为省级代码，如广西为45）；" + _RETYPE
    ),
    REGNO_BAD_CHECK: (
        "工商注册号校验位错误，应为 {expected}"
        "（若执照上最后一位不是 {expected}，说明前14位有录入错误，请逐位核对）"
    ),
    IDCARD_BAD_LENGTH: "身份证号码应为18位（旧版为15位），实际为{length}位；请照身份证核对后重新填写",
    IDCARD_BAD_CHAR: (
        "身份证号码第{pos}位“{char}”不是合法字符：只能是数字，18位号码的最后一位可以是 X；"
        "请照身份证核对后重新填写"
    ),
    IDCARD_BAD_ADDRESS: "身份证号码前6位地址码不是有效的行政区划代码；请照身份证核对后重新填写",
    IDCARD_BAD_BIRTHDATE: (
        "身份证号码中的出生日期不是有效日期（18位号码第7-14位，15位号码第7-12位）；请照身份证核对后重新填写"
    ),
    IDCARD_FUTURE_BIRTHDATE: "身份证号码中的出生日期晚于今天；请照身份证核对出生日期部分后重新填写",
    IDCARD_BAD_CHECK: (
        "身份证号码校验位错误，应为 {expected}"
        "（若证件上最后一位不是 {expected}，说明前17位有录入错误，请逐位核对）"
    ),
    ONE_CODE_MANY_NAMES: (
        "同一代码对应{count}个不同名称：{names}；同一主体应使用登记证照上的全称，请核实名称或代码"
    ),
    ONE_NAME_MANY_CODES: "名称“{name}”对应{count}个不同代码；同一主体只能有一个代码，请核实代码",
    ORGCODE_MISMATCH: (
        "组织机构代码“{orgcode}”与统一社会信用代码第9-17位“{expected}”不一致；请核实两者是否属于同一主体"
    ),
}

ALL: Final[tuple[str, ...]] = tuple(MESSAGES)
"""Every reason code, in a fixed order (the vectorised checks number reasons by position here)."""


def fields(reason: str) -> tuple[str, ...]:
    """Names of the fields the message template of ``reason`` needs, in order of appearance."""
    names = (name for _, name, _, _ in string.Formatter().parse(MESSAGES[reason]) if name)
    return tuple(dict.fromkeys(names))


def message(reason: str, **values: object) -> str:
    """The Chinese message for ``reason`` with its fields filled in."""
    return MESSAGES[reason].format(**values)
