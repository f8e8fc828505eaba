"""Landing zones: a directory per department and dataset where files are dropped.

Layout of one zone (``<landing root>/<dataset.landing_directory(source)>``, e.g.
``landing/scjg/admin_penalty``)::

    incoming/                         the department drops files here (and markers, if it sends them)
    processing/<claim>__<name>        taken by a worker; locked while it processes them
    processing/<claim>-<code>__<safe name>  the same, for a file whose name is refused (see below)
    archive/<yyyy-mm-dd>/<sha256>__<name>   processed (loaded, loaded with rejections, duplicate)
    rejected/<yyyy-mm-dd>/<sha256>__<name>  rejected whole (unreadable, no row loadable, name refused)
    rejected/<yyyy-mm-dd>/<claim>__<name>   refused unread: link, hard link, not a regular file (the entry)
    outbox/                           feedback for the department: workbook + CSV, notes in Chinese
    .credit-etl-state.json            sizes and mtimes seen by earlier polls (stability check)

A file is taken only when complete (``etl.sources.stability``): its marker is there, or its size and
mtime stayed the same over the stability interval. Names starting with ``.`` are uploads in progress
(rsync, many SFTP servers write ``.name.part`` and rename) and are left alone.

Taking a file is an atomic rename from ``incoming/`` to ``processing/`` under a unique claim name,
made while holding an exclusive ``flock`` on the file: of two workers polling at once, only one can
lock and move it, and the other skips it. The lock is held until the file has been archived, so a
claim left in ``processing/`` by a worker that died (its lock released with it) is recognised and
processed by the next poll, while one being processed right now is left alone.

A regular file whose name is unsafe (``etl.sources.names``: path separators, control or invisible
characters, bytes that are not UTF-8) or too long to archive under its sha256 (over
``MAX_ZONE_NAME_BYTES``) is a delivery all the same: it is claimed like any file (the claim names it
``<claim>-<code>__<safe name>``, so that a worker that stops is followed by a poll that still knows
it was refused), its bytes are kept under their sha256, and ``process_drop`` rejects it whole
without reading it (``Drop.refused``): a ledger row ``rejected`` with reason ``UNSAFE_FILE_NAME`` or
``NAME_TOO_LONG`` and a Chinese message saying what is wrong with the name and how to rename it,
and feedback files in ``outbox/``. The ledger, the feedback, the logs and every file name the
platform writes carry the name only as ``printable`` (``\\x1b``) or ``file_safe`` renders it.

Entries that are not a regular file of the zone's own are refused without being read: symbolic
links (never followed, wherever they point), hard links (the same data has another name, and from
inside the zone nothing tells whether that name is in the zone or in another department's directory:
reading it could take in someone else's bytes), directories, FIFOs (a reader would block for ever)
and devices. They are moved aside to ``rejected/`` (a rename moves the link itself, not its target),
logged as a warning, listed in the fetch report and explained to the department in a note in
``outbox/``. They are deliveries all the same (``etl.sources.refused_entries``): what was found in the
zone — a link's target text (``os.readlink``), or for the others a JSON description (name, kind, size,
link count), never their content — is written as a claim ``<claim>-<reason>__<safe name>`` in
``processing/`` and taken like a refused name: kept under its sha256 and rejected whole unread, with a
ledger row (``LINK_REFUSED``, ``HARD_LINK_REFUSED``, ``SPECIAL_FILE_REFUSED``, ``DIRECTORY_REFUSED``)
and feedback files in ``outbox/``. Only the poll that moved the entry out of ``incoming/`` writes the
claim, so each arrival gets one row; a worker stopping between that move and writing the claim (a few
system calls) leaves the entry in ``rejected/`` with its note but without a ledger row.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import stat
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from etl.drop import SHANGHAI, Drop, now, receive_file
from etl.errors import SourceError
from etl.sources.base import FetchOptions, FetchReport, Refusal
from etl.sources.names import (
    MAX_NAME_BYTES,
    MAX_ZONE_NAME_BYTES,
    NAME_REFUSAL_CODES,
    REFUSAL_TEXT,
    file_safe,
    printable,
    unsafe_reason,
)
from etl.sources.refused_entries import description_bytes, entry_reason
from etl.sources.stability import FileStat, Observations, settle
from etl.storage import Storage
from etl.warehouse.ledger import ENTRY_REJECTIONS, LINK_REFUSED

if TYPE_CHECKING:
    from etl.catalog import SourceRef
    from etl.pipeline import LoadResult

log = logging.getLogger(__name__)

STATE_FILE = ".credit-etl-state.json"
CLAIM_SEPARATOR = "__"


@dataclass(frozen=True)
class Zone:
    """The directories of one landing zone."""

    root: Path

    @classmethod
    def for_source(cls, landing_root: Path, ref: SourceRef) -> Zone:
        return cls(Path(landing_root) / ref.dataset.landing_directory(ref.source))

    @property
    def incoming(self) -> Path:
        return self.root / "incoming"

    @property
    def processing(self) -> Path:
        return self.root / "processing"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def rejected(self) -> Path:
        return self.root / "rejected"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def state_file(self) -> Path:
        return self.root / STATE_FILE

    def ensure(self) -> None:
        """Creates the zone's directories; refuses a zone where one of them is a link or not a
        directory: the department can write in its zone, and a link there (``incoming`` pointing at
        another department's zone, say) would make the platform read and move files elsewhere."""
        for folder in (self.incoming, self.processing, self.archive, self.rejected, self.outbox):
            with contextlib.suppress(FileExistsError):  # a file or a dangling link: refused below
                folder.mkdir(parents=True, exist_ok=True)
            mode = folder.lstat().st_mode
            if stat.S_ISLNK(mode) or not stat.S_ISDIR(mode):
                raise SourceError(
                    f"landing zone {self.root}: {folder.name}/ is a link or not a directory; nothing is "
                    "taken from this zone until it is a plain directory again"
                )


def refusal_for(mode: int, nlink: int) -> str | None:
    """Why an entry of this kind is refused (from its ``lstat``), or None for a plain file.

    >>> refusal_for(stat.S_IFREG | 0o644, 1) is None
    True
    >>> refusal_for(stat.S_IFLNK | 0o777, 1), refusal_for(stat.S_IFREG | 0o644, 2)
    ('SYMLINK', 'HARDLINK')
    """
    if stat.S_ISLNK(mode):
        return "SYMLINK"
    if not stat.S_ISREG(mode):
        return "NOT_A_FILE"
    if nlink > 1:
        return "HARDLINK"
    return None


def zone_name_refusal(name: str) -> str | None:
    """Why a name is not taken in a landing zone: unsafe (``etl.sources.names``) or too long for the
    archive's ``<sha256>__<name>``.

    >>> zone_name_refusal("行政处罚.csv") is None, zone_name_refusal("长" * 63 + ".csv")
    (True, 'NAME_TOO_LONG')
    """
    if (reason := unsafe_reason(name)) is not None:
        return reason
    return "NAME_TOO_LONG" if len(name.encode("utf-8")) > MAX_ZONE_NAME_BYTES else None


def claimed_name(claim: str) -> str | None:
    """The original file name inside a claim name ``<token>__<name>``.

    >>> claimed_name("0123456789ab__行政处罚.csv")
    '行政处罚.csv'
    >>> claimed_name("stray.csv") is None
    True
    """
    token, sep, name = claim.partition(CLAIM_SEPARATOR)
    return name if sep and len(token) == 12 and name else None


def refused_claim(claim: str) -> tuple[str, str] | None:
    """(refusal code, safe name) of a claim ``<token>-<code>__<safe name>`` of a file whose name was
    refused; None for any other claim.

    >>> refused_claim("0123456789ab-CONTROL_CHARACTER__a_x1bb.csv")
    ('CONTROL_CHARACTER', 'a_x1bb.csv')
    >>> refused_claim("0123456789ab__a.csv") is None, refused_claim("0123456789ab-SYMLINK__a") is None
    (True, True)
    """
    head, sep, name = claim.partition(CLAIM_SEPARATOR)
    token, dash, code = head.partition("-")
    known = code in NAME_REFUSAL_CODES or code in ENTRY_REJECTIONS
    return (code, name) if sep and dash and len(token) == 12 and name and known else None


def _claim_name(name: str, refused: str | None) -> str:
    token = uuid.uuid4().hex[:12]
    if refused is None:
        return f"{token}{CLAIM_SEPARATOR}{name}"
    head = f"{token}-{refused}{CLAIM_SEPARATOR}"
    return head + file_safe(printable(name), MAX_NAME_BYTES - len(head))


# ---------------------------------------------------------------------------------------------------
# Fetching


def pickups(
    ref: SourceRef, landing_root: Path, storage: Storage, options: FetchOptions, report: FetchReport
) -> Iterator[LandingPickup]:
    """Claims each complete file of the zone in turn (orphaned claims first) and archives it in the
    storage root; the caller processes each pickup before the next file is claimed."""
    zone = Zone.for_source(landing_root, ref)
    zone.ensure()
    yield from _orphaned_claims(ref, zone, storage)
    files, markers, refused = _scan(zone, ref.source.complete_marker, report)
    for entry in refused:
        yield _refused_pickup(ref, zone, storage, entry)
    complete, waiting = _complete_files(zone, files, markers, ref.source.complete_marker, options)
    report.waiting.extend(printable(name) for name in waiting)
    for name in complete:
        pickup = _claim(ref, zone, storage, name, files[name])
        if pickup is not None:
            yield pickup


@dataclass(frozen=True)
class RefusedEntry:
    """An entry this poll moved out of ``incoming/`` unread (to ``moved_to``), as ``lstat`` found it."""

    name: str
    reason: str  # a ledger reason of ENTRY_REJECTIONS
    moved_to: Path
    info: os.stat_result


def _scan(
    zone: Zone, marker: str | None, report: FetchReport
) -> tuple[dict[str, FileStat], set[str], list[RefusedEntry]]:
    """Regular files in ``incoming/`` (and the markers present); refuses links and what is not a file,
    moving them aside (the entries this poll moved come third)."""
    files: dict[str, FileStat] = {}
    markers: set[str] = set()
    refused: list[RefusedEntry] = []
    with os.scandir(zone.incoming) as entries:
        listed = sorted(entries, key=lambda e: e.name)
    for entry in listed:
        name = entry.name
        if name.startswith(".") and unsafe_reason(name) is None:
            continue  # an upload in progress under a temporary name
        try:
            info = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        reason = refusal_for(info.st_mode, info.st_nlink)
        if reason is not None:
            moved = _refuse(zone, name, reason, report)
            kind = entry_reason(info.st_mode, info.st_nlink)
            if moved is not None and kind is not None:
                refused.append(RefusedEntry(name, kind, moved, info))
        elif marker and name.endswith(marker) and len(name) > len(marker):
            markers.add(name)
        else:
            files[name] = FileStat(info.st_size, info.st_mtime_ns)
    return files, markers, refused


def _complete_files(
    zone: Zone, files: dict[str, FileStat], markers: set[str], marker: str | None, options: FetchOptions
) -> tuple[list[str], list[str]]:
    """(complete, still waiting) names: by marker, or by size and mtime unchanged over the interval."""
    if marker:
        complete = [n for n in files if f"{n}{marker}" in markers]
        return complete, [n for n in files if n not in complete]
    seen = _load_observations(zone)

    def restat(names: list[str]) -> dict[str, FileStat]:
        return {n: current for n in names if (current := _regular_stat(zone.incoming / n)) is not None}

    complete, waiting = settle(seen, files, restat, interval=options.stable_seconds,
                               wait=options.wait_seconds)  # fmt: skip
    _save_observations(zone, seen)
    return complete, waiting


def _regular_stat(path: Path) -> FileStat | None:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    return FileStat(info.st_size, info.st_mtime_ns) if stat.S_ISREG(info.st_mode) else None


def _load_observations(zone: Zone) -> Observations:
    try:
        # surrogateescape: a name that is not UTF-8 is kept as the bytes it was (see _save_observations)
        text = zone.state_file.read_text(encoding="utf-8", errors="surrogateescape")
        return Observations.load(json.loads(text))
    except (OSError, ValueError, AttributeError):
        return Observations.load({})


def _save_observations(zone: Zone, seen: Observations) -> None:
    # Written aside and renamed: a concurrent poll reads the old or the new state, never half of one.
    tmp = zone.root / f"{STATE_FILE}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.write_text(json.dumps(seen.dump(), ensure_ascii=False), encoding="utf-8", errors="surrogateescape")
    os.replace(tmp, zone.state_file)


def _claim(ref: SourceRef, zone: Zone, storage: Storage, name: str, seen: FileStat) -> LandingPickup | None:
    """Locks and moves ``incoming/<name>`` to ``processing/``; None when another worker has it or the
    file changed since it was judged complete."""
    path = zone.incoming / name
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:  # gone (another worker took it), or swapped for a link since the scan
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    info = os.fstat(fd)
    if refusal_for(info.st_mode, info.st_nlink) or FileStat(info.st_size, info.st_mtime_ns) != seen:
        os.close(fd)
        return None
    refused = zone_name_refusal(name)
    claim = zone.processing / _claim_name(name, refused)
    try:
        os.rename(path, claim)
    except FileNotFoundError:  # another worker renamed it first
        os.close(fd)
        return None
    if claim.lstat().st_ino != info.st_ino:
        # The name was replaced between our open and our rename: what we moved is not what we locked.
        # It is left unlocked in processing/, where the next poll recovers it like an orphaned claim.
        os.close(fd)
        return None
    marker = ref.source.complete_marker
    if marker:
        # Removed now, so that a later upload under the same name waits for its own marker.
        (zone.incoming / f"{name}{marker}").unlink(missing_ok=True)
    return _pickup(ref, zone, storage, claim, name if refused is None else printable(name), fd, refused)


def _orphaned_claims(ref: SourceRef, zone: Zone, storage: Storage) -> Iterator[LandingPickup]:
    """Claims whose worker stopped before archiving them: unlocked files in ``processing/``."""
    with os.scandir(zone.processing) as entries:
        listed = sorted(e.name for e in entries)
    for claim_name in listed:
        name, refused = claimed_name(claim_name), None
        if name is None and (found := refused_claim(claim_name)) is not None:
            refused, name = found  # the name as the claim kept it: shortened and made safe
        elif name is None or zone_name_refusal(name) is not None:
            continue
        path = zone.processing / claim_name
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            info = os.fstat(fd)
            current = path.lstat()
        except (BlockingIOError, FileNotFoundError):  # being processed, or just archived
            os.close(fd)
            continue
        if refusal_for(info.st_mode, info.st_nlink) or current.st_ino != info.st_ino:
            os.close(fd)
            continue
        log.warning("%s: recovering %s, left in processing/ by a worker that stopped", zone.root, name)
        yield _pickup(ref, zone, storage, path, name, fd, refused)


def _refused_pickup(ref: SourceRef, zone: Zone, storage: Storage, entry: RefusedEntry) -> LandingPickup:
    """Writes what was found of a refused entry as a locked claim in ``processing/`` and takes it: a
    link's target text (the link is not followed), or a description of anything else (not opened)."""
    if entry.reason == LINK_REFUSED:
        found = os.readlink(os.fsencode(entry.moved_to))  # the moved link itself: the text it holds
    else:
        found = description_bytes(entry.name, entry.reason, size=entry.info.st_size,
                                  links=entry.info.st_nlink, found_at=now().isoformat())  # fmt: skip
    tmp = zone.processing / f".{uuid.uuid4().hex}.tmp"
    tmp.write_bytes(found)
    fd = os.open(tmp, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    fcntl.flock(fd, fcntl.LOCK_EX)  # ours alone: no other poll knows this temporary name
    claim = zone.processing / _claim_name(entry.name, entry.reason)
    os.rename(tmp, claim)
    return _pickup(ref, zone, storage, claim, printable(entry.name), fd, entry.reason)


def _pickup(
    ref: SourceRef, zone: Zone, storage: Storage, path: Path, name: str, fd: int, refused: str | None = None
) -> LandingPickup:
    """Archives the claimed file; ``name`` is what the ledger will show (printable when ``refused``)."""
    if refused is not None:
        log.warning("%s: %r is kept and rejected unread (%s)", zone.root, name, refused)
    try:
        drop = receive_file(storage, path, dataset=ref.dataset.id, department=ref.source.department,
                            source=ref.id, file_name=name, refused=refused)  # fmt: skip
    except BaseException:
        os.close(fd)  # the claim stays in processing/ and is recovered by the next poll
        raise
    return LandingPickup(drop=drop, zone=zone, path=path, storage=storage, fd=fd)


# ---------------------------------------------------------------------------------------------------
# After processing


@dataclass
class LandingPickup:
    """A claimed file, locked until it is archived."""

    drop: Drop
    zone: Zone
    path: Path
    storage: Storage
    fd: int

    def finish(self, result: LoadResult) -> None:
        """Archives the original by outcome and copies the feedback to the department's outbox."""
        try:
            status = result.ledger.status
            if status == "failed":
                return  # left in processing/ for the next poll
            day = self.drop.received_at.astimezone(SHANGHAI).date().isoformat()
            folder = (self.zone.rejected if status == "rejected" else self.zone.archive) / day
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / archived_name(self.drop)
            if target.exists():
                self.path.unlink()  # the same bytes under the same name, archived earlier today
            else:
                os.rename(self.path, target)
            if result.feedback is not None:
                for key in (result.feedback.xlsx_key, result.feedback.csv_key):
                    _copy_to_outbox(self.storage, key, self.zone.outbox)
            if status == "duplicate":
                stem = f"{Path(self.drop.file_name).stem}.{self.drop.sha256[:8]}.重复报送说明"
                _write_note(self.zone.outbox, stem, _duplicate_note(self.drop, result))
        finally:
            self.abandon()

    def abandon(self) -> None:
        """Releases the lock; a file still in ``processing/`` is taken again by the next poll."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def archived_name(drop: Drop) -> str:
    """``<sha256>__<name>`` under ``archive/`` or ``rejected/``; a refused name made safe and short.

    >>> from etl.drop import Drop, now
    >>> drop = Drop("d", "s", "x", "..\u202e.csv", "ab" * 32, 1, now(), "raw", refused="CONTROL_CHARACTER")
    >>> archived_name(drop)[62:]
    'ab___.csv'
    """
    name = drop.file_name if drop.refused is None else file_safe(drop.file_name, MAX_ZONE_NAME_BYTES)
    return f"{drop.sha256}{CLAIM_SEPARATOR}{name}"


def _copy_to_outbox(storage: Storage, key: str, outbox: Path) -> None:
    name = key.rsplit("/", 1)[-1]
    # A short temporary name: the final one may already use all 255 bytes a name can have.
    tmp = outbox / f".{uuid.uuid4().hex}.tmp"
    with storage.open_read(key) as src, tmp.open("wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    os.replace(tmp, outbox / name)  # the department never sees a half-copied workbook


def _write_note(outbox: Path, stem: str, text: str) -> Path:
    target = outbox / f"{file_safe(stem)}.txt"
    tmp = outbox / f".{uuid.uuid4().hex}.tmp"
    tmp.write_text(text, encoding="utf-8-sig")  # with BOM: Notepad on older Windows shows it right
    os.replace(tmp, target)
    return target


def _duplicate_note(drop: Drop, result: LoadResult) -> str:
    earlier = result.ledger.notes or "与已处理的报送相同"
    return (
        f"文件“{drop.file_name}”的内容与已处理过的报送完全相同（{earlier}），本次未重复入库。\n"
        f"接收时间：{drop.received_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}\n"
        "如需更正数据，请修改后重新报送。\n"
    )


def _refuse(zone: Zone, name: str, reason: str, report: FetchReport) -> Path | None:
    """Moves an entry aside unread, and tells the department why; where it was moved, or None when
    another poll took it first."""
    shown = printable(name)
    moment = now()
    folder = zone.rejected / moment.date().isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{uuid.uuid4().hex[:12]}{CLAIM_SEPARATOR}{file_safe(name)}"
    try:
        os.rename(zone.incoming / name, target)  # a link is moved itself; its target is never touched
    except FileNotFoundError:
        return None  # gone meanwhile
    log.warning("%s: refused %r (%s), moved to %s", zone.root, shown, reason, target)
    text = (
        f"文件“{shown}”未被接收：{REFUSAL_TEXT[reason]}\n"
        f"发现时间：{moment:%Y-%m-%d %H:%M}\n"
        "平台未读取该项的内容，已将其移出 incoming 目录。请按上述说明处理后重新报送。\n"
    )
    _write_note(zone.outbox, f"{moment:%Y%m%d%H%M%S}_{file_safe(name, 60)}.未接收说明", text)
    report.refused.append(Refusal(name=shown, reason=reason, moved_to=str(target)))
    return target
