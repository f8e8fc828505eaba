"""What the source DAGs' tasks run: discover deliveries, process each, record the run.

The DAG (``dags/credit_sources.py``) maps ``process`` over what ``discover`` found, so each
delivery is its own task instance with its own retries and log. Tasks may run on different workers,
so what passes between them is plain JSON (an *item*): the archived delivery's manifest (its bytes
are in the storage root under ``raw/``, where every worker finds them) and what the source needs to
put the original where its outcome says once it is processed:

- landing zone: the claim in ``processing/``. ``discover`` claims and archives the file, then
  releases its lock; ``process`` locks the claim again, processes the delivery and archives the
  original (or leaves it for the next poll when processing failed, as ``run_source`` does). A claim
  whose processing never finished is recovered by the next poll;
- SFTP: the remote file (name, size, mtime) and its directory; ``process`` moves it into the
  archive folder on the server, or remembers it;
- database pull: the window ``[since, until)`` (the run's data interval); once processed, the
  source's covered span moves past it.

Everything here is the same code ``credit-etl fetch`` runs (``etl.sources`` and
``etl.pipeline.process_drop``); the configuration comes from the environment (``etl.settings``), plus
``CREDIT_ETL_STABLE_SECONDS``: how long a file without a completion marker must stay unchanged
before a poll takes it (default 30; a run waits that long for files it has just seen).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from etl.catalog import Catalog, SourceRef
    from etl.drop import Drop
    from etl.pipeline import LoadResult
    from etl.sources.base import Pickup
    from etl.storage import Storage
    from etl.warehouse import Warehouse

log = logging.getLogger(__name__)

STABLE_SECONDS_ENV = "CREDIT_ETL_STABLE_SECONDS"


# ---------------------------------------------------------------------------------------------------
# Items: what passes from discover to process (pure)


def drop_item(drop: Drop) -> dict[str, Any]:
    """A drop's manifest as JSON values.

    >>> from etl.drop import Drop, SHANGHAI
    >>> drop = Drop("admin_penalty", "scjg", "admin_penalty__scjg__landing", "a.csv", "ab" * 32, 10,
    ...             dt.datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI), "raw/ab/" + "ab" * 32)
    >>> item = drop_item(drop)
    >>> item["received_at"], item["change_date"]
    ('2026-11-02T09:00:00+08:00', None)
    >>> Drop.from_manifest(item) == drop
    True
    """
    return json.loads(json.dumps(drop.manifest(), default=_json_value))


def _json_value(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def window_of(method: str, start: dt.datetime | None, end: dt.datetime | None,
              conf: Mapping[str, Any] | None = None) -> Any:  # fmt: skip
    """The pull window of a run: its data interval, or the ``since``/``until`` a run was triggered with
    (``since`` empty: from the beginning, a new source's initial load). None for file sources.

    >>> from etl.drop import SHANGHAI
    >>> w = window_of("database", dt.datetime(2026, 11, 1, tzinfo=SHANGHAI),
    ...               dt.datetime(2026, 11, 2, tzinfo=SHANGHAI))
    >>> w.label()
    '20261101T000000-20261102T000000'
    >>> window_of("database", None, None, {"since": None, "until": "2026-11-28T12:00:00+08:00"}).label()
    'start-20261128T120000'
    >>> window_of("landing", None, None) is None
    True
    """
    from etl.sources import Window

    if method != "database":
        return None
    if conf and conf.get("until"):
        since = conf.get("since")
        return Window(since=_moment(since) if since else None, until=_moment(conf["until"]))
    if end is None:
        return None
    return Window(since=_aware(start) if start is not None else None, until=_aware(end))


def _moment(text: str) -> dt.datetime:
    from etl.drop import SHANGHAI

    moment = dt.datetime.fromisoformat(str(text))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=SHANGHAI)


def _aware(value: dt.datetime) -> dt.datetime:
    # Airflow hands pendulum datetimes; the pull only needs the instant.
    return dt.datetime.fromisoformat(value.isoformat())


def result_item(result: LoadResult, storage: Storage) -> dict[str, Any]:
    """A load result as JSON values, feedback files as locations in the storage root."""
    row = result.as_dict()
    row["feedback_paths"] = [storage.location(key) for key in row["feedback_paths"]]
    return json.loads(json.dumps(row, default=_json_value))


def summarise(source_id: str, results: Iterable[Mapping[str, Any]], report: Mapping[str, Any] | None = None
              ) -> dict[str, Any]:  # fmt: skip
    """What one run did: deliveries by status, rows read, loaded and rejected, feedback files.

    >>> summarise("s", [{"status": "loaded", "rows_read": 3, "rows_loaded": 3, "rows_rejected": 0,
    ...                  "file_name": "a.csv", "feedback_paths": ["f.xlsx"]},
    ...                 {"status": "skipped", "file_name": "b.csv"}])["statuses"]
    {'loaded': 1, 'skipped': 1}
    """
    results = list(results)
    summary: dict[str, Any] = {
        "source": source_id,
        "deliveries": len(results),
        "statuses": dict(sorted(Counter(str(r.get("status")) for r in results).items())),
        "rows_read": sum(int(r.get("rows_read") or 0) for r in results),
        "rows_loaded": sum(int(r.get("rows_loaded") or 0) for r in results),
        "rows_rejected": sum(int(r.get("rows_rejected") or 0) for r in results),
        "files": [r.get("file_name") for r in results],
        "feedback": [p for r in results for p in r.get("feedback_paths") or ()],
    }
    for key in ("refused", "waiting", "skipped", "notes"):
        summary[key] = list((report or {}).get(key) or [])
    return summary


# ---------------------------------------------------------------------------------------------------
# Tasks


def discover(
    source_id: str,
    data_interval_start: dt.datetime | None = None,
    data_interval_end: dt.datetime | None = None,
    conf: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Claims and archives what the source has for this run; returns ``{"items": [...], "report": {...}}``.

    Nothing is processed here; each item is processed by ``process``. A database pull covers the data
    interval, or the window in the run's ``conf`` (see ``window_of``).
    """
    from etl import settings
    from etl.catalog import load_catalog
    from etl.errors import UsageError
    from etl.sources import FetchOptions, FetchReport, fetch
    from etl.storage import Storage

    catalog = load_catalog(settings.catalog_dir())
    ref = catalog.source(source_id)
    storage = Storage(settings.storage_root())
    stable = _stable_seconds()
    try:
        window = window_of(ref.source.method, data_interval_start, data_interval_end, conf)
    except ValueError as exc:  # an empty window, or a conf date that is not one
        raise UsageError(f"{source_id}: {exc}") from None
    options = FetchOptions(window=window, stable_seconds=stable, wait_seconds=stable)
    report = FetchReport()
    # SFTP sources look up in the ledger whether a file left on the server was processed already.
    warehouse = _warehouse(catalog) if ref.source.method == "sftp" else None
    items = []
    pickups = fetch(ref, storage=storage, warehouse=warehouse, options=options,  # type: ignore[arg-type]
                    report=report)  # fmt: skip
    # closing(): the source's clean-up (connections, state files) runs even when a claim fails.
    with closing(pickups):  # type: ignore[type-var]
        for pickup in pickups:
            items.append(_item(ref, pickup))
            # The lock of a landing claim dies with this process anyway; process takes it again.
            pickup.abandon()
    for refusal in report.refused:
        log.warning("%s: refused %s (%s)", source_id, refusal.name, refusal.reason)
    log.info("%s: %d deliveries to process; waiting %s; skipped %s; %s", source_id, len(items),
             report.waiting, report.skipped, "; ".join(report.notes))  # fmt: skip
    return {"items": items, "report": _report(report)}


def process(item: Mapping[str, Any]) -> dict[str, Any]:
    """Processes one discovered delivery, then lets its source put the original where the outcome says.

    Returns the ledger row (status ``skipped`` when another worker holds or already took the claim).
    """
    from etl import settings
    from etl.catalog import load_catalog
    from etl.drop import Drop
    from etl.pipeline import process_drop
    from etl.storage import Storage

    catalog = load_catalog(settings.catalog_dir())
    ref = catalog.source(str(item["source"]))
    storage = Storage(settings.storage_root())
    drop = Drop.from_manifest(dict(item["drop"]))
    pickup = _resume(ref, item, drop, storage)
    if pickup is None:
        log.info("%s: %s is no longer waiting in processing/ (taken by another poll)", ref.id, drop.file_name)
        return {"status": "skipped", "delivery_id": drop.delivery_id, "file_name": drop.file_name}
    warehouse = _warehouse(catalog)
    try:
        result = process_drop(drop, catalog=catalog, warehouse=warehouse, storage=storage)
    except BaseException:
        pickup.abandon()
        raise
    pickup.finish(result)
    row = result_item(result, storage)
    log.info("%s: %s %s: read %s, loaded %s, rejected %s", ref.id, drop.file_name, row["status"],
             row["rows_read"], row["rows_loaded"], row["rows_rejected"])  # fmt: skip
    return row


def audit(items: Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """GX's audit of each discovered delivery's sample (``etl.gx_audit``), after ``process``: kept in
    the storage root for the report; fails when the Arrow engine disagreed with GX on any of them."""
    from etl import settings
    from etl.catalog import load_catalog
    from etl.drop import Drop
    from etl.errors import CreditEtlError
    from etl.gx_audit import audit_drop
    from etl.storage import Storage

    catalog = load_catalog(settings.catalog_dir())
    storage = Storage(settings.storage_root())
    audits = []
    for item in items or []:
        result = audit_drop(Drop.from_manifest(dict(item["drop"])), catalog=catalog, storage=storage)
        if result is not None:
            audits.append({k: result[k] for k in ("delivery_id", "file_name", "success", "agrees")})
    disagreeing = [a["delivery_id"] for a in audits if not a["agrees"]]
    if disagreeing:
        raise CreditEtlError(f"the Arrow engine disagrees with GX on the sample of {', '.join(disagreeing)}; "
                             "see the log and the audits under gx_audit/")  # fmt: skip
    return audits


def record(source_id: str, results: Iterable[Mapping[str, Any]] | None,
           report: Mapping[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """Summarises the run (the ledger rows are written by ``process``) and logs it."""
    summary = summarise(source_id, results or [], report)
    log.info(
        "%s: %d deliveries %s; rows read %d, loaded %d, rejected %d", source_id, summary["deliveries"],
        summary["statuses"], summary["rows_read"], summary["rows_loaded"], summary["rows_rejected"],
    )  # fmt: skip
    for path in summary["feedback"]:
        log.info("%s: feedback %s", source_id, path)
    return summary


# ---------------------------------------------------------------------------------------------------
# Helpers (I/O)


def _stable_seconds() -> float:
    from etl.sources.stability import DEFAULT_STABLE_SECONDS

    value = os.environ.get(STABLE_SECONDS_ENV)
    return float(value) if value else DEFAULT_STABLE_SECONDS


def _warehouse(catalog: Catalog) -> Warehouse:
    from etl.warehouse import open_warehouse

    warehouse = open_warehouse()
    warehouse.init(catalog)  # creates what a new dataset needs; a no-op otherwise
    return warehouse


def _report(report: Any) -> dict[str, Any]:
    return {
        "refused": [f"{r.name} ({r.reason})" for r in report.refused],
        "waiting": list(report.waiting),
        "skipped": list(report.skipped),
        "notes": list(report.notes),
    }


def _item(ref: SourceRef, pickup: Pickup) -> dict[str, Any]:
    item: dict[str, Any] = {"source": ref.id, "method": ref.source.method, "drop": drop_item(pickup.drop)}
    if ref.source.method == "landing":
        item["claim"] = str(pickup.path)  # type: ignore[attr-defined]
    elif ref.source.method == "sftp":
        remote = pickup.remote  # type: ignore[attr-defined]
        item["remote"] = {"name": remote.name, "size": remote.size, "mtime": remote.mtime,
                          "directory": pickup.directory}  # type: ignore[attr-defined]  # fmt: skip
    else:
        window = pickup.window  # type: ignore[attr-defined]
        item["window"] = {"since": window.since.isoformat() if window.since else None,
                          "until": window.until.isoformat()}  # fmt: skip
    return item


def _resume(ref: SourceRef, item: Mapping[str, Any], drop: Drop, storage: Storage) -> Pickup | None:
    """The source's pickup for a discovered item, in this process; None when the claim is gone."""
    method = ref.source.method
    if method == "landing":
        return _resume_landing(ref, Path(str(item["claim"])), drop, storage)
    if method == "sftp":
        from etl.sources.connections import get_connection
        from etl.sources.sftp import RemoteFile, Session, SftpPickup, SftpState

        remote = dict(item["remote"])
        assert ref.source.conn_id is not None  # the catalog requires it for SFTP sources
        session = Session(get_connection(ref.source.conn_id), timeout=15.0)
        original = RemoteFile(remote["name"], int(remote["size"]), int(remote["mtime"]))
        pickup = SftpPickup(drop=drop, ref=ref, remote=original, directory=remote["directory"],
                            session=session, state=SftpState.load(storage, ref), storage=storage)  # fmt: skip
        return _ClosingPickup(pickup, session.close)
    from etl.sources import Window
    from etl.sources.database import PullPickup

    window = dict(item["window"])
    since = dt.datetime.fromisoformat(window["since"]) if window.get("since") else None
    return PullPickup(drop=drop, storage=storage, ref=ref,
                      window=Window(since, dt.datetime.fromisoformat(window["until"])))  # fmt: skip


def _resume_landing(ref: SourceRef, claim: Path, drop: Drop, storage: Storage) -> Pickup | None:
    """Locks the claim again, as the landing source does while it processes a file."""
    from etl import settings
    from etl.sources.landing import LandingPickup, Zone

    try:
        fd = os.open(claim, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None  # archived by a poll that recovered it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None  # another worker is processing it
    if not claim.exists():  # archived between our open and our lock
        os.close(fd)
        return None
    zone = Zone.for_source(settings.landing_root(), ref)
    return LandingPickup(drop=drop, zone=zone, path=claim, storage=storage, fd=fd)


class _ClosingPickup:
    """A pickup whose connection is closed once it is finished or abandoned."""

    def __init__(self, pickup: Any, close: Any) -> None:
        self.pickup = pickup
        self.drop = pickup.drop
        self._close = close

    def finish(self, result: LoadResult) -> None:
        try:
            self.pickup.finish(result)
        finally:
            self._close()

    def abandon(self) -> None:
        try:
            self.pickup.abandon()
        finally:
            self._close()
