"""What a landing zone keeps of an entry it refuses to read, and the rejection recorded for it.

A symbolic link, a hard link, a FIFO or device, or a directory in ``incoming/`` is a delivery too: the
department put it there and must be told why nothing was loaded. Its content is never read (a link is
never followed, a FIFO or device never opened, a hard link's data may be another department's file), so
what is kept under its sha256 is what was found *in the zone*:

- a symbolic link: its target text (``os.readlink``, the link itself, byte for byte);
- anything else: a small JSON description (name, kind, size, link count, when it was found). It is a
  description written by the platform, not the entry's content: ``DESCRIPTION_NOTE`` says so inside it.

The pipeline rejects such a delivery whole (``refused_rejection``), with a ledger reason of
``ENTRY_REJECTIONS`` and a Chinese message saying what was found and what to put there instead.

>>> found = description_bytes("a.csv", "HARD_LINK_REFUSED", size=12, links=2, found_at="2026-11-28")
>>> found[:40]
b'{"description_of": "a.csv", "kind": "har'
"""

from __future__ import annotations

import json
import stat

from etl.errors import DeliveryRejected
from etl.sources.names import name_rejection, printable
from etl.storage import Storage
from etl.warehouse.ledger import (
    DIRECTORY_REFUSED,
    ENTRY_REJECTIONS,
    HARD_LINK_REFUSED,
    LINK_REFUSED,
    SPECIAL_FILE_REFUSED,
)

DESCRIPTION_NOTE = "平台对落地目录中该项的描述，不是该项的内容（内容未被读取）"
# A link's target is at most PATH_MAX bytes; more in the kept raw would not be a link target.
MAX_TARGET_BYTES = 4096

_KIND = {
    LINK_REFUSED: "symbolic_link",
    HARD_LINK_REFUSED: "hard_link",
    SPECIAL_FILE_REFUSED: "fifo_or_device",
    DIRECTORY_REFUSED: "directory",
}
_NOT_READ = "平台没有读取其内容，也没有入库；"
_KEPT = "留存备查的只是平台对该项的描述（名称、大小、链接数），不是其内容。"
_WHAT = {
    HARD_LINK_REFUSED: "文件“{shown}”是硬链接（与其他位置的文件共用同一份数据，那份数据可能属于其他部门），",
    SPECIAL_FILE_REFUSED: "“{shown}”不是普通文件（是管道或设备文件），平台没有打开它；",
    DIRECTORY_REFUSED: "“{shown}”是一个文件夹，",
}
_ADVICE = {
    LINK_REFUSED: "请将数据文件本身（不是链接或快捷方式）放入 incoming 目录后重新报送。",
    HARD_LINK_REFUSED: "请复制出一份普通文件（不要创建链接）放入 incoming 目录后重新报送。",
    SPECIAL_FILE_REFUSED: "请将数据文件直接放入 incoming 目录后重新报送。",
    DIRECTORY_REFUSED: "请勿在落地目录中放置文件夹，请将文件直接放入 incoming 目录后重新报送。",
}


def entry_reason(mode: int, nlink: int) -> str | None:
    """The ledger reason for an entry of this kind (from its ``lstat``), or None for a plain file.

    >>> entry_reason(stat.S_IFLNK | 0o777, 1), entry_reason(stat.S_IFDIR | 0o755, 2)
    ('LINK_REFUSED', 'DIRECTORY_REFUSED')
    >>> entry_reason(stat.S_IFIFO | 0o644, 1), entry_reason(stat.S_IFREG | 0o644, 3)
    ('SPECIAL_FILE_REFUSED', 'HARD_LINK_REFUSED')
    """
    if stat.S_ISLNK(mode):
        return LINK_REFUSED
    if stat.S_ISDIR(mode):
        return DIRECTORY_REFUSED
    if not stat.S_ISREG(mode):
        return SPECIAL_FILE_REFUSED
    return HARD_LINK_REFUSED if nlink > 1 else None


def shown_target(target: bytes) -> str:
    """A link's target text for a person: ``/`` kept, control characters and bytes that are not UTF-8
    shown as ``\\xNN``.

    >>> shown_target(b"../other/\\x1b[31m\\xff.csv")
    '../other/\\\\x1b[31m\\\\xff.csv'
    """
    text = target.decode("utf-8", errors="surrogateescape")
    return "/".join(printable(part) for part in text.split("/"))


def description_bytes(name: str, reason: str, *, size: int, links: int, found_at: str) -> bytes:
    """The JSON kept for an entry that is not a link: what was found, never its content. ``found_at``
    makes each arrival's bytes its own (two arrivals of the same entry are two ledger rows)."""
    payload = {"description_of": printable(name), "kind": _KIND[reason], "size_bytes": size,
               "link_count": links, "found_at": found_at, "note": DESCRIPTION_NOTE}  # fmt: skip
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def refused_rejection(code: str, shown: str, storage: Storage, raw_key: str) -> DeliveryRejected:
    """The whole-delivery rejection of a delivery the source refused to read: an entry of
    ``ENTRY_REJECTIONS`` (for a link, the target shown escaped from the kept raw) or a file name
    (``etl.sources.names.name_rejection``)."""
    if code not in ENTRY_REJECTIONS:
        return name_rejection(code, shown)
    if code == LINK_REFUSED:
        with storage.open_read(raw_key) as kept:  # our own copy of the link text, not its target
            target = shown_target(kept.read(MAX_TARGET_BYTES))
        what = f"“{shown}”是一个链接（指向“{target}”），不是文件本身。落地目录中的链接不会被跟随，"
        kept_link = "留存备查的只是链接本身（它指向的路径）。"
        return DeliveryRejected(code, what + _NOT_READ + kept_link + _ADVICE[code])
    return DeliveryRejected(code, _WHAT[code].format(shown=shown) + _NOT_READ + _KEPT + _ADVICE[code])
