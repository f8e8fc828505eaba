"""Which delivered file names are safe to take, and how to show an unsafe one to a person.

A name is refused when it could steer a path (separators, ``.``/``..``), hide what it is (control,
format and bidirectional-override characters: ``账单\\u202eslx.csv`` displays as ``账单vsc.xlsx``), or
is not text at all (bytes that are not UTF-8, which Python lists as lone surrogates). The files
themselves are never opened through such a name.

>>> unsafe_reason("行政处罚信息_20261127.csv") is None
True
>>> unsafe_reason("../etc/passwd"), unsafe_reason("a\\nb.csv"), unsafe_reason("x\\u202ecsv.exe")
('PATH_SEPARATOR', 'CONTROL_CHARACTER', 'CONTROL_CHARACTER')
>>> printable("a\\nb\\udcff.csv")
'a\\\\x0ab\\\\xff.csv'
"""

from __future__ import annotations

import unicodedata

from etl.errors import DeliveryRejected
from etl.warehouse.ledger import NAME_TOO_LONG, UNSAFE_FILE_NAME

# Categories no file name needs: controls, format characters (bidi overrides, zero-width), line and
# paragraph separators, unassigned code points.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cn", "Co"})
MAX_NAME_BYTES = 255
# A delivery is archived as "<sha256>__<name>", one path component: longer names are refused.
MAX_ZONE_NAME_BYTES = MAX_NAME_BYTES - 64 - len("__")

# Why an entry was refused, for the clerk (Chinese) — keyed by the reason code in reports and logs.
REFUSAL_TEXT = {
    "RESERVED_NAME": "文件名为空或为“.”“..”，平台不予接收。",
    "PATH_SEPARATOR": "文件名含有路径分隔符（/ 或 \\），平台不予接收。请使用不含斜杠的文件名重新上传。",
    "CONTROL_CHARACTER": "文件名含有控制字符或不可见字符，平台不予接收。"
                         "请将文件改为只含汉字、字母、数字和常用符号的名称后重新上传。",
    "NOT_UTF8": "文件名的编码无法识别，平台不予接收。请使用只含汉字、字母、数字和常用符号的文件名重新上传。",
    "NAME_TOO_LONG": "文件名过长，平台不予接收。请缩短文件名后重新上传。",
    "SYMLINK": "该项是符号链接（快捷方式），平台不会读取链接指向的内容。请直接上传文件本身。",
    "HARDLINK": "该文件与目录外的其他文件共用同一份数据（硬链接），平台不予读取。请上传一份普通文件。",
    "NOT_A_FILE": "该项不是普通文件（例如文件夹或设备文件），平台不予读取。"
                  "请将数据文件直接放入 incoming 目录。",
}  # fmt: skip
# The codes of a name (a regular file so named is received and rejected whole, not refused unread).
NAME_REFUSAL_CODES = frozenset(
    {"RESERVED_NAME", "PATH_SEPARATOR", "CONTROL_CHARACTER", "NOT_UTF8", "NAME_TOO_LONG"}
)


# A regular file whose name is refused is still received (its bytes kept under their sha256) and
# rejected whole with a ledger reason UNSAFE_FILE_NAME or NAME_TOO_LONG; the refusal codes above say
# which rule the name broke.

# What is wrong with the name, for the ledger and the feedback file (the name itself, escaped, precedes).
_NAME_PROBLEM = {
    "RESERVED_NAME": "为空或为“.”“..”",
    "PATH_SEPARATOR": "含有路径分隔符（/ 或 \\，在文件名中显示为 \\x2f 或 \\x5c），"
                      "可能被用来把文件写到别的目录",
    "CONTROL_CHARACTER": "含有控制字符或不可见字符（在文件名中显示为 \\xNN 或 \\uNNNN），"
                         "如换行符、从右向左显示的控制符，会让文件名看起来和实际不同",
    "NOT_UTF8": "的编码无法识别（无法识别的字节在文件名中显示为 \\xNN）",
    NAME_TOO_LONG: f"过长（超过 {MAX_ZONE_NAME_BYTES} 字节）",
    UNSAFE_FILE_NAME: "含有平台不接受的字符（路径分隔符、控制字符或不可见字符，或编码无法识别）",
}
_EXAMPLE = "例如“行政处罚信息_20261127.csv”，然后重新报送。"
_RENAME = f"请将文件改为只含汉字、字母、数字和常用符号（如 _ - .）的名称，{_EXAMPLE}"
_SHORTEN = (f"请将文件名缩短到 {MAX_ZONE_NAME_BYTES // 3} 个汉字"
            f"（或 {MAX_ZONE_NAME_BYTES} 个字母、数字）以内，{_EXAMPLE}")


def name_rejection(code: str, shown: str) -> DeliveryRejected:
    """The whole-file rejection of a regular file whose name was refused (``code``: a refusal code
    above, or a ledger reason when a rejected delivery is processed again); ``shown`` is the name as
    ``printable`` renders it.

    >>> error = name_rejection("CONTROL_CHARACTER", "行政处罚_x1b.csv")
    >>> error.reason, error.message[:29]
    ('UNSAFE_FILE_NAME', '文件名“行政处罚_x1b.csv”含有控制字符或不可见字符')
    """
    reason = NAME_TOO_LONG if code == NAME_TOO_LONG else UNSAFE_FILE_NAME
    problem = _NAME_PROBLEM.get(code, _NAME_PROBLEM[reason])
    advice = _SHORTEN if reason == NAME_TOO_LONG else _RENAME
    kept = "平台没有读取该文件中的数据，也没有入库；原文件已留存备查。"
    return DeliveryRejected(reason, f"文件名“{shown}”{problem}。{kept}{advice}")


def unsafe_reason(name: str) -> str | None:
    """The reason code a name is refused for, or None when it is safe to take."""
    if name in ("", ".", ".."):
        return "RESERVED_NAME"
    if "/" in name or "\\" in name:
        return "PATH_SEPARATOR"
    if any("\udc80" <= ch <= "\udcff" for ch in name):
        return "NOT_UTF8"
    if any(unicodedata.category(ch) in HIDDEN_CATEGORIES or unicodedata.category(ch) == "Cs" for ch in name):
        return "CONTROL_CHARACTER"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        return "NAME_TOO_LONG"
    return None


def printable(name: str) -> str:
    """The name with every hidden character or undecodable byte shown as ``\\xNN``/``\\uNNNN``."""
    shown = []
    for ch in name:
        if "\udc80" <= ch <= "\udcff":
            shown.append(f"\\x{ord(ch) - 0xDC00:02x}")
        elif ch in "/\\" or unicodedata.category(ch) in HIDDEN_CATEGORIES or unicodedata.category(ch) == "Cs":
            shown.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            shown.append(ch)
    return "".join(shown)


def file_safe(name: str, limit: int = 120) -> str:
    """A version of any name that is safe as one path component of at most ``limit`` bytes, and not
    hidden (no leading ``.``): for moving a refused entry aside, and for files a clerk must see.

    >>> file_safe("../a\\tb.csv"), file_safe("..")
    ('_a_b.csv', 'unnamed')
    """
    cleaned = "".join("_" if ch in "/\\" or unicodedata.category(ch) in (*HIDDEN_CATEGORIES, "Cs") else ch
                      for ch in name)
    cleaned = cleaned.strip().lstrip(".").strip() or "unnamed"
    while len(cleaned.encode("utf-8")) > limit:
        cleaned = cleaned[:-1]
    return cleaned if cleaned not in (".", "..") else "unnamed"
