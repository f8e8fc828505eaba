"""A delivery as received: the raw bytes archived by sha256, and where they came from.

Every source (landing zone, SFTP, database pull) ends in ``receive_file``, so the pipeline, the ledger
and reprocessing see one kind of thing whatever the delivery method.

>>> import tempfile, pathlib
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> (tmp / "a.csv").write_text("x\\n1\\n", encoding="utf-8")
4
>>> drop = receive_file(Storage(tmp / "store"), tmp / "a.csv", dataset="admin_penalty",
...                     department="scjg", source="admin_penalty__scjg__landing")
>>> drop.delivery_id
'admin_penalty:scjg:daff832f802000e6'
>>> drop.raw_key == Storage.raw_key(drop.sha256)
True
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from etl.storage import Storage

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    return dt.datetime.now(SHANGHAI)


@dataclass(frozen=True)
class Drop:
    """One delivered file, archived unchanged at ``raw_key`` in the storage root.

    ``refused``: the reason code (``etl.sources.names``) the file's name was refused for — unsafe or too
    long. Such a delivery is kept like any other but never read: ``process_drop`` rejects it whole,
    and ``file_name`` holds the name as ``printable`` shows it (no control character)."""

    dataset: str
    department: str
    source: str
    file_name: str
    sha256: str
    size_bytes: int
    received_at: dt.datetime
    raw_key: str
    change_date: dt.date | None = None
    refused: str | None = None

    @property
    def delivery_id(self) -> str:
        """The same bytes delivered for the same dataset by the same department are one delivery."""
        return f"{self.dataset}:{self.department}:{self.sha256[:16]}"

    def manifest(self) -> dict[str, object]:
        return {**asdict(self), "delivery_id": self.delivery_id}

    @classmethod
    def from_manifest(cls, payload: dict[str, object]) -> Drop:
        fields = {k: v for k, v in payload.items() if k in cls.__dataclass_fields__}
        fields["received_at"] = dt.datetime.fromisoformat(str(fields["received_at"]))
        if fields.get("change_date"):
            fields["change_date"] = dt.date.fromisoformat(str(fields["change_date"]))
        return cls(**fields)  # type: ignore[arg-type]


def receive_file(
    storage: Storage,
    path: Path,
    *,
    dataset: str,
    department: str,
    source: str,
    file_name: str | None = None,
    received_at: dt.datetime | None = None,
    change_date: dt.date | None = None,
    refused: str | None = None,
) -> Drop:
    """Archives ``path`` under its sha256 (once; the file is read once) and returns the Drop describing it."""
    with path.open("rb") as delivered:
        sha256, size = storage.put_raw(delivered)
    key = Storage.raw_key(sha256)
    drop = Drop(
        dataset=dataset,
        department=department,
        source=source,
        file_name=file_name or path.name,
        sha256=sha256,
        size_bytes=size,
        received_at=received_at or now(),
        raw_key=key,
        change_date=change_date,
        refused=refused,
    )
    storage.put_json(f"{key}.{dataset}.{department}.json", drop.manifest())
    return drop
