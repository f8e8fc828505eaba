"""The ledger: one row per delivery attempt, in table ``deliveries``.

Every file that arrives gets a row, whatever happens to it: ``loaded`` (all rows accepted),
``loaded_with_rejections`` (some rows quarantined), ``rejected`` (nothing loaded: the file was
rejected whole, or every row was), ``duplicate`` (the same bytes arrived again for the same dataset
and department; nothing is done), ``failed`` (an error stopped it; it can be processed again).

Rows are keyed by ``ledger_id``, assigned by the warehouse when a row is first written; the same
``delivery_id`` may appear several times (a duplicate arrival, a reprocess recorded as a new row
with ``reprocess_of`` pointing at the attempt it redoes). Writing a row that already has a
``ledger_id`` updates that row (a failed attempt processed again in place).

For loaded deliveries nothing is lost: ``rows_read = rows_loaded + rows_rejected``.

>>> import datetime as dt
>>> row = LedgerRow(delivery_id="admin_penalty:scjg:0123456789abcdef", dataset="admin_penalty",
...                 department="scjg", source="admin_penalty__scjg__landing", file_name="x.csv",
...                 sha256="0123456789abcdef" * 4, size_bytes=10,
...                 received_at=dt.datetime(2026, 10, 8, 9, 30, tzinfo=SHANGHAI), status="loaded",
...                 rows_read=3, rows_loaded=3)
>>> row.is_processed
True
>>> LedgerRow(**{**row.__dict__, "rows_read": 4})
Traceback (most recent call last):
    ...
ValueError: ledger row for admin_penalty:scjg:0123456789abcdef: rows_read 4 != rows_loaded 3 + rows_rejected 0
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any, Final
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

STATUSES: Final = ("loaded", "loaded_with_rejections", "rejected", "duplicate", "failed")
# Statuses of a processed delivery: every row read is accounted for as loaded or rejected.
LOAD_STATUSES: Final = ("loaded", "loaded_with_rejections", "rejected")
# Reasons of a delivery rejected whole, unread, for its file name (``etl.sources.names``). Its bytes were
# never judged: it makes no later arrival of the same bytes (renamed) a duplicate, nor is it one.
UNSAFE_FILE_NAME: Final = "UNSAFE_FILE_NAME"
NAME_TOO_LONG: Final = "NAME_TOO_LONG"
# Reasons of an entry of a landing zone rejected whole without reading it (``etl.sources.refused_entries``):
# what is kept is the link's target text or a description, never content to judge. They count with the
# name rejections above: unread, neither duplicates nor making a later arrival one; reprocess keeps them.
LINK_REFUSED: Final = "LINK_REFUSED"
HARD_LINK_REFUSED: Final = "HARD_LINK_REFUSED"
SPECIAL_FILE_REFUSED: Final = "SPECIAL_FILE_REFUSED"
DIRECTORY_REFUSED: Final = "DIRECTORY_REFUSED"
ENTRY_REJECTIONS: Final = (LINK_REFUSED, HARD_LINK_REFUSED, SPECIAL_FILE_REFUSED, DIRECTORY_REFUSED)
# Every rejection made without reading the delivered content.
UNREAD_REJECTIONS: Final = (UNSAFE_FILE_NAME, NAME_TOO_LONG, *ENTRY_REJECTIONS)


@dataclass(frozen=True)
class LedgerRow:
    delivery_id: str
    dataset: str
    department: str
    source: str
    file_name: str
    sha256: str
    size_bytes: int
    received_at: dt.datetime
    status: str
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    error_reason: str | None = None
    error_message: str | None = None
    feedback_paths: tuple[str, ...] = ()
    change_date: dt.date | None = None
    reprocess_of: int | None = None
    notes: str | None = None
    ledger_id: int | None = None

    def __post_init__(self) -> None:
        label = f"ledger row for {self.delivery_id}"
        if self.status not in STATUSES:
            raise ValueError(f"{label}: status {self.status!r} is not one of {', '.join(STATUSES)}")
        for name in ("received_at", "started_at", "finished_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{label}: {name} must carry its time zone")
        if min(self.rows_read, self.rows_loaded, self.rows_rejected, self.size_bytes) < 0:
            raise ValueError(f"{label}: counts and sizes cannot be negative")
        if self.is_processed and self.rows_read != self.rows_loaded + self.rows_rejected:
            raise ValueError(
                f"{label}: rows_read {self.rows_read} != rows_loaded {self.rows_loaded}"
                f" + rows_rejected {self.rows_rejected}"
            )
        if isinstance(self.feedback_paths, list):
            object.__setattr__(self, "feedback_paths", tuple(self.feedback_paths))

    @property
    def is_processed(self) -> bool:
        """Loaded, loaded with rejections or rejected: every row read is accounted for."""
        return self.status in LOAD_STATUSES

    def replace(self, **changes: Any) -> LedgerRow:
        return LedgerRow(**{**self.as_dict(), **changes})

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# Column order of table ``deliveries`` (ledger_id first, then the fields above).
LEDGER_COLUMNS: Final = ("ledger_id", *(f.name for f in fields(LedgerRow) if f.name != "ledger_id"))
TIMESTAMP_COLUMNS: Final = ("received_at", "started_at", "finished_at")
