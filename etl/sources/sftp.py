"""SFTP sources: files a department leaves on its SFTP server, fetched with paramiko.

The Airflow connection (``conn_id`` of the source) gives host, port, login and password or private key
(``extra.private_key`` as text, ``extra.key_file`` as a path, ``extra.private_key_passphrase``), and
the server's public host key, pinned in ``extra.host_key`` as ``"ssh-ed25519 AAAA…"`` or just the
base64 blob, as Airflow's SSH/SFTP connections write it. The key is loaded into a paramiko
``SSHClient`` with ``RejectPolicy``: a server presenting any other key — unknown, changed, or a
man in the middle — is refused, and a connection without a pinned key is never opened
(``no_host_key_check`` is ignored: it would accept any server).

One fetch lists the source's ``remote_path`` glob (``/outgoing/xzcf/*.csv``) and, for each complete
file (its ``<file>.ok``/``.done`` marker is there, or size and mtime stayed the same over the
stability interval — ``etl.sources.stability``), downloads it to a local temporary file, resuming
where it stopped after a dropped connection (a new session, ``seek`` to the bytes already received),
checks the size against the listing and that the remote file did not change meanwhile, and only then
archives it in the storage root (``receive_file``). A file that cannot be downloaded completely is
never processed.

After processing, the remote file (and its marker) is moved into ``archive_path`` when the source
has one. Where there is no archive folder, or the account may not write there, the file stays and is
remembered: by name, size and mtime in ``sources/<source id>/sftp-state.json`` in the storage root
(so it is not downloaded again), and by sha256 in the ledger (a copy already processed is skipped
without a new ledger row). Feedback files stay in the storage root; the ledger row names them.

Entries with unsafe names, links and anything not a regular file are refused unread: logged, and
listed in the fetch report (they are left on the server; the account may not be able to move them).
"""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import io
import logging
import posixpath
import shutil
import stat
import struct
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etl.drop import Drop, receive_file
from etl.errors import SourceError
from etl.sources.base import FetchOptions, FetchReport, Refusal
from etl.sources.connections import Connection, get_connection
from etl.sources.names import printable, unsafe_reason
from etl.sources.stability import FileStat, Observations, settle
from etl.storage import Storage, sha256_of

if TYPE_CHECKING:
    import paramiko

    from etl.catalog import SourceRef
    from etl.pipeline import LoadResult
    from etl.warehouse import Warehouse

log = logging.getLogger(__name__)

# Read in SFTP-request-sized pieces and write each as it comes, so that after a dropped connection
# nearly everything received is on disk to resume from (a large read returns nothing until it is full).
CHUNK = 32768
GLOB_CHARACTERS = frozenset("*?[")


class Unreachable(SourceError):
    """The server could not be reached or the connection broke: worth another attempt."""


class RemoteFileChanged(Exception):
    """The remote file changed while it was downloaded: it is not complete after all."""


@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int
    mtime: int  # seconds: SFTP v3 carries no finer time

    @property
    def stat(self) -> FileStat:
        return FileStat(self.size, self.mtime * 1_000_000_000)


# ---------------------------------------------------------------------------------------------------
# Decisions (pure)


def split_remote_path(remote_path: str) -> tuple[str, str]:
    """The directory to list and the pattern names must match.

    >>> split_remote_path("/outgoing/xzcf/*.csv"), split_remote_path("/credit/jbzh")
    (('/outgoing/xzcf', '*.csv'), ('/credit/jbzh', '*'))
    """
    directory, name = posixpath.split(remote_path.rstrip("/") or "/")
    if GLOB_CHARACTERS & set(name):
        return directory or "/", name
    return remote_path.rstrip("/") or "/", "*"


def host_key_blob(text: str) -> tuple[str, bytes]:
    """(key type, raw key) from ``"ssh-ed25519 AAAA… [comment]"`` or the bare base64 blob, whose
    first field names its type.

    >>> blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + bytes(32)
    >>> host_key_blob(base64.b64encode(blob).decode())[0]
    'ssh-ed25519'
    >>> host_key_blob("ssh-rsa " + base64.b64encode(blob).decode())
    Traceback (most recent call last):
        ...
    ValueError: the key says it is ssh-ed25519, not ssh-rsa
    """
    parts = text.split()
    if not parts:
        raise ValueError("the pinned host key is empty")
    encoded = parts[1] if len(parts) > 1 else parts[0]
    raw = base64.b64decode(encoded, validate=True)
    if len(raw) < 4:
        raise ValueError("the pinned host key is too short")
    (length,) = struct.unpack(">I", raw[:4])
    inner = raw[4:4 + length].decode("ascii", errors="replace")
    if len(parts) > 1 and parts[0] != inner:
        raise ValueError(f"the key says it is {inner}, not {parts[0]}")
    return inner, raw


def classify_listing(
    entries: list[tuple[str, int, int, int]], pattern: str, marker: str | None
) -> tuple[dict[str, RemoteFile], set[str], list[Refusal]]:
    """(files matching the pattern, markers present, refused entries) from ``(name, mode, size, mtime)``.

    >>> files, markers, refused = classify_listing(
    ...     [("a.csv", stat.S_IFREG, 10, 1), ("a.csv.ok", stat.S_IFREG, 0, 1), ("b.txt", stat.S_IFREG, 1, 1),
    ...      ("l.csv", stat.S_IFLNK, 5, 1)], "*.csv", ".ok")
    >>> sorted(files), sorted(markers), [(r.name, r.reason) for r in refused]
    (['a.csv'], ['a.csv.ok'], [('l.csv', 'SYMLINK')])
    """
    files: dict[str, RemoteFile] = {}
    markers: set[str] = set()
    refused: list[Refusal] = []
    for name, mode, size, mtime in sorted(entries):
        if marker and name.endswith(marker) and len(name) > len(marker):
            if stat.S_ISREG(mode) and unsafe_reason(name) is None:
                markers.add(name)
            continue
        if not fnmatch.fnmatchcase(name, pattern) or name.startswith("."):
            continue
        reason = unsafe_reason(name) or (
            "SYMLINK" if stat.S_ISLNK(mode) else None if stat.S_ISREG(mode) else "NOT_A_FILE"
        )
        if reason is not None:
            refused.append(Refusal(name=printable(name), reason=reason))
        else:
            files[name] = RemoteFile(name, size, mtime)
    return files, markers, refused


# ---------------------------------------------------------------------------------------------------
# Connecting


def pinned_host_key(conn: Connection) -> paramiko.PKey:
    import paramiko

    text = conn.extra.get("host_key")
    if not text:
        raise SourceError(
            f"connection {conn.conn_id!r} has no pinned host key: put the server's public key in its extra "
            "as host_key (e.g. the output of `ssh-keyscan -t ed25519 HOST`, without the host name); "
            "unknown host keys are never accepted"
        )
    try:
        kind, raw = host_key_blob(str(text))
        return paramiko.PKey.from_type_string(kind, raw)
    except (ValueError, paramiko.SSHException, struct.error) as exc:
        raise SourceError(f"connection {conn.conn_id!r}: extra.host_key is not a public key: {exc}") from None


def _private_key(conn: Connection) -> paramiko.PKey | None:
    import paramiko

    text = conn.extra.get("private_key")
    if not text:
        return None
    passphrase = conn.extra.get("private_key_passphrase")
    for kind in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return kind.from_private_key(io.StringIO(str(text)), password=passphrase)
        except (paramiko.SSHException, ValueError):
            continue
    raise SourceError(f"connection {conn.conn_id!r}: extra.private_key is not a private key paramiko reads")


def fingerprint(key: paramiko.PKey) -> str:
    return key.fingerprint  # "SHA256:…", as ssh-keygen -l prints it


def connect(conn: Connection, host_key: paramiko.PKey, timeout: float) -> paramiko.SSHClient:
    """An authenticated client, or ``SourceError`` saying why not (host key, login, network)."""
    import paramiko

    if not conn.host:
        raise SourceError(f"connection {conn.conn_id!r} has no host")
    port = conn.port or 22
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    # The pinned key is the only one known, under the name paramiko looks up for this host and port.
    known_as = conn.host if port == 22 else f"[{conn.host}]:{port}"
    client.get_host_keys().add(known_as, host_key.get_name(), host_key)
    where = f"{conn.host}:{port}"
    try:
        client.connect(
            conn.host, port=port, username=conn.login, password=conn.password, pkey=_private_key(conn),
            key_filename=conn.extra.get("key_file") or None, timeout=timeout, banner_timeout=timeout,
            auth_timeout=timeout, channel_timeout=timeout, look_for_keys=False, allow_agent=False,
        )  # fmt: skip
    except paramiko.BadHostKeyException as exc:
        client.close()
        raise SourceError(
            f"SFTP server {where} ({conn.conn_id}) presented host key {fingerprint(exc.key)}, not the pinned "
            f"{fingerprint(host_key)}: refused (a changed server key must be confirmed and pinned again)"
        ) from None
    except paramiko.AuthenticationException as exc:
        client.close()
        raise SourceError(f"SFTP server {where} ({conn.conn_id}) refused the login of {conn.login!r}: "
                          f"{exc}") from None  # fmt: skip
    except paramiko.SSHException as exc:
        client.close()
        raise SourceError(f"SFTP server {where} ({conn.conn_id}): {exc} (pinned host key "
                          f"{host_key.get_name()} {fingerprint(host_key)})") from None  # fmt: skip
    except (OSError, EOFError) as exc:
        client.close()
        raise Unreachable(f"cannot reach SFTP server {where} ({conn.conn_id}): "
                          f"{exc or type(exc).__name__}") from None  # fmt: skip
    return client


class Session:
    """An SFTP session that reconnects when the previous one was lost."""

    def __init__(self, conn: Connection, timeout: float) -> None:
        self.conn = conn
        self.timeout = timeout
        self.host_key = pinned_host_key(conn)
        self._client: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None

    @property
    def sftp(self) -> paramiko.SFTPClient:
        transport = self._client.get_transport() if self._client is not None else None
        if self._sftp is None or transport is None or not transport.is_active():
            self.reset()
            self._client = connect(self.conn, self.host_key, self.timeout)
            self._sftp = self._client.open_sftp()
            self._sftp.get_channel().settimeout(self.timeout)  # a stalled server fails, not hangs
        return self._sftp

    def reset(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = self._sftp = None

    def close(self) -> None:
        self.reset()


# ---------------------------------------------------------------------------------------------------
# State: what earlier polls saw and which files were already processed


@dataclass
class SftpState:
    seen: Observations
    processed: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> size, mtime, sha256

    @staticmethod
    def key(ref: SourceRef) -> str:
        return f"sources/{ref.id}/sftp-state.json"

    @classmethod
    def load(cls, storage: Storage, ref: SourceRef) -> SftpState:
        payload: dict[str, Any] = storage.read_json(cls.key(ref)) if storage.exists(cls.key(ref)) else {}
        return cls(Observations.load(payload), dict(payload.get("processed") or {}))

    def save(self, storage: Storage, ref: SourceRef) -> None:
        processed = dict(sorted(self.processed.items()))
        storage.put_json(self.key(ref), {**self.seen.dump(), "processed": processed})

    def remembers(self, remote: RemoteFile) -> bool:
        item = self.processed.get(remote.name)
        return item is not None and (item.get("size"), item.get("mtime")) == (remote.size, remote.mtime)

    def remember(self, remote: RemoteFile, sha256: str) -> None:
        self.processed[remote.name] = {"size": remote.size, "mtime": remote.mtime, "sha256": sha256}


# ---------------------------------------------------------------------------------------------------
# Fetching


def pickups(
    ref: SourceRef, storage: Storage, warehouse: Warehouse, options: FetchOptions, report: FetchReport
) -> Iterator[SftpPickup]:
    """Downloads each complete remote file in turn; the caller processes it before the next one."""
    source = ref.source
    if source.conn_id is None or source.remote_path is None:
        raise SourceError(f"source {ref.id} needs conn_id and remote_path")
    directory, pattern = split_remote_path(source.remote_path)
    session = Session(get_connection(source.conn_id), options.connect_timeout)
    state = SftpState.load(storage, ref)
    folder = Path(tempfile.mkdtemp(prefix="credit-etl-sftp-"))
    try:
        files, markers, refused = _list(session, directory, pattern, source.complete_marker)
        for refusal in refused:
            log.warning("%s: refused %r in %s (%s), left on the server", ref.id, refusal.name, directory,
                        refusal.reason)  # fmt: skip
        report.refused.extend(refused)
        # Files left on the server after processing (no archive folder, or one the account may not
        # write) are remembered: skipped without downloading them again.
        remembered = sorted(n for n, f in files.items() if state.remembers(f))
        report.skipped.extend(remembered)
        files = {n: f for n, f in files.items() if n not in remembered}
        complete = _complete_files(session, directory, pattern, source.complete_marker, files, markers,
                                   state, options, report)  # fmt: skip
        for remote in complete:
            local = _fetch_file(session, directory, remote, folder, options, report)
            if local is None:
                continue
            digest = sha256_of(local)
            if source.archive_path is None:
                earlier = warehouse.find_delivery(digest, ref.dataset.id, source.department)
                if earlier is not None and earlier.is_processed:
                    # Left on the server by design: already loaded, remember it and move on.
                    state.remember(remote, digest)
                    report.skipped.append(remote.name)
                    local.unlink()
                    continue
            drop = receive_file(storage, local, dataset=ref.dataset.id, department=source.department,
                                source=ref.id, file_name=remote.name)  # fmt: skip
            local.unlink()
            yield SftpPickup(drop=drop, ref=ref, remote=remote, directory=directory, session=session,
                             state=state, storage=storage)  # fmt: skip
    finally:
        session.close()
        shutil.rmtree(folder, ignore_errors=True)
        state.save(storage, ref)


def _list(
    session: Session, directory: str, pattern: str, marker: str | None
) -> tuple[dict[str, RemoteFile], set[str], list[Refusal]]:
    try:
        listing = session.sftp.listdir_attr(directory)
    except OSError as exc:
        raise SourceError(f"cannot list {directory} on SFTP server {session.conn.host} "
                          f"({session.conn.conn_id}): {exc}") from None  # fmt: skip
    entries = [(a.filename, a.st_mode or 0, a.st_size or 0, a.st_mtime or 0) for a in listing]
    return classify_listing(entries, pattern, marker)


def _complete_files(
    session: Session,
    directory: str,
    pattern: str,
    marker: str | None,
    files: dict[str, RemoteFile],
    markers: set[str],
    state: SftpState,
    options: FetchOptions,
    report: FetchReport,
) -> list[RemoteFile]:
    """The files complete by marker, or by size and mtime unchanged over the stability interval."""
    if marker:
        complete = sorted(n for n in files if f"{n}{marker}" in markers)
    else:

        def restat(names: list[str]) -> dict[str, FileStat]:
            relisted, _, _ = _list(session, directory, pattern, marker)
            files.update({n: relisted[n] for n in names if n in relisted})
            return {n: relisted[n].stat for n in names if n in relisted}

        stats = {n: f.stat for n, f in files.items()}
        complete, _ = settle(state.seen, stats, restat, interval=options.stable_seconds,
                             wait=options.wait_seconds)  # fmt: skip
    report.waiting.extend(n for n in sorted(files) if n not in complete)
    return [files[n] for n in complete]


def _fetch_file(
    session: Session, directory: str, remote: RemoteFile, folder: Path, options: FetchOptions,
    report: FetchReport,
) -> Path | None:
    """The file downloaded whole and unchanged, or None (changed meanwhile: left for a later poll)."""
    path = posixpath.join(directory, remote.name)
    local = folder / "download.part"
    local.unlink(missing_ok=True)
    try:
        download(session, path, remote.size, local, attempts=options.download_attempts,
                 pause=options.retry_pause)  # fmt: skip
        after = session.sftp.stat(path)
    except (RemoteFileChanged, FileNotFoundError):
        after = None
    if after is None or (after.st_size, after.st_mtime) != (remote.size, remote.mtime):
        log.info("%s changed while it was downloaded; left for a later poll", path)
        report.waiting.append(remote.name)
        local.unlink(missing_ok=True)
        return None
    return local


def download(session: Session, path: str, size: int, local: Path, *, attempts: int, pause: float) -> None:
    """Downloads ``path`` (``size`` bytes, as listed) to ``local``; after a lost connection, reconnects
    and resumes from the bytes already received. Raises ``SourceError`` when it cannot finish."""
    import paramiko

    where = f"{session.conn.host} ({session.conn.conn_id})"
    for attempt in range(1, attempts + 1):
        received = local.stat().st_size if local.exists() else 0
        if received > size:  # cannot be a prefix of the listed file: start over
            local.unlink()
            received = 0
        try:
            if received < size:
                with session.sftp.open(path, "rb") as remote, local.open("ab") as out:
                    remote.seek(received)
                    remote.prefetch(size)
                    while received < size:
                        chunk = remote.read(min(CHUNK, size - received))
                        if not chunk:
                            break
                        out.write(chunk)
                        received += len(chunk)
            if received == size:
                return
            raise RemoteFileChanged(f"{path} ended after {received} of its {size} bytes")
        except FileNotFoundError as exc:
            raise RemoteFileChanged(f"{path} is gone") from exc
        except PermissionError as exc:
            raise SourceError(f"cannot read {path} on {where}: {exc}") from None
        except (OSError, EOFError, paramiko.SSHException, Unreachable) as exc:
            session.reset()
            if attempt == attempts:
                local.unlink(missing_ok=True)
                raise SourceError(f"download of {path} from {where} failed {attempts} times, last at byte "
                                  f"{received} of {size}: {exc or type(exc).__name__}") from None  # fmt: skip
            log.warning("download of %s interrupted at byte %d of %d (%s); resuming, attempt %d of %d",
                        path, received, size, exc or type(exc).__name__, attempt + 1, attempts)  # fmt: skip
            time.sleep(pause * attempt)


# ---------------------------------------------------------------------------------------------------
# After processing


@dataclass
class SftpPickup:
    """A downloaded file; once processed, moved to the archive folder on the server or remembered."""

    drop: Drop
    ref: SourceRef
    remote: RemoteFile
    directory: str
    session: Session
    state: SftpState
    storage: Storage

    def finish(self, result: LoadResult) -> None:
        if result.ledger.status == "failed":
            return
        archive = self.ref.source.archive_path
        if archive is None or not self._archive(archive):
            self.state.remember(self.remote, self.drop.sha256)
        self.state.save(self.storage, self.ref)

    def abandon(self) -> None:
        """Nothing to undo: the remote file stays and is downloaded again by the next poll."""

    def _archive(self, archive: str) -> bool:
        """Moves the file and its marker into ``archive``; False when that cannot be done (the account
        may not write there, or the server is gone): the file is then remembered instead."""
        import paramiko

        name = self.remote.name
        try:
            sftp = self.session.sftp
            _ensure_directory(sftp, archive)
            target = posixpath.join(archive, name)
            if _exists(sftp, target):
                target = posixpath.join(archive, f"{self.drop.sha256[:12]}__{name}")
            sftp.rename(posixpath.join(self.directory, name), target)
        except (OSError, EOFError, paramiko.SSHException, SourceError) as exc:
            log.warning("%s: cannot move %s to %s on the server (%s); left there and remembered by sha256",
                        self.ref.id, name, archive, exc)  # fmt: skip
            return False
        marker = self.ref.source.complete_marker
        if marker:
            # The marker follows its file, or at least goes: left behind, it would declare the next
            # upload under the same name complete before it is.
            stray = posixpath.join(self.directory, f"{name}{marker}")
            try:
                sftp.rename(stray, f"{target}{marker}")
            except (OSError, EOFError, paramiko.SSHException):
                with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                    sftp.remove(stray)
        return True


def _exists(sftp: paramiko.SFTPClient, path: str) -> bool:
    try:
        sftp.lstat(path)
    except FileNotFoundError:
        return False
    return True


def _ensure_directory(sftp: paramiko.SFTPClient, path: str) -> None:
    if not _exists(sftp, path):
        sftp.mkdir(path)
