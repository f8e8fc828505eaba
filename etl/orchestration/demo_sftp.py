"""The demo's SFTP server: the departments' SFTP folders served on loopback, no root, no system account.

``make demo`` writes each SFTP department's files under ``<demo>/sftp/<department>/`` (the source's
``remote_path`` below it: ``sftp/pbc/credit/jbzh/jbzh_20261127.csv``). This module serves them with
paramiko's server side (``ServerInterface`` for the login, ``SFTPServerInterface`` for the files), one
account per department whose ``/`` is that department's folder, so the SFTP DAGs fetch over a real
SSH connection exactly as from a department's server: pinned host key (``RejectPolicy``), password
login, listing, ``.ok``/``.done`` markers, download, moving processed files to ``archive_path``.

What it keeps under its state directory (``<demo>/sftp-server``, kept between demo runs):
``host_key`` (an Ed25519 key generated on first use, 0600; its public half is pinned in each
connection's ``extra.host_key``), ``password`` (random, 0600), and per run ``accounts.json`` and
``port``. The server runs as ``python -m etl.orchestration.demo_sftp STATE_DIR`` in its own process
group, started and stopped by ``DemoSftpServer``::

    with DemoSftpServer(work / "sftp-server", {"jt": work / "sftp" / "jt"}) as server:
        env.update(server.connections({"sftp_jt": "jt"}))   # AIRFLOW_CONN_SFTP_JT={… JSON …}

It is a demo server: one thread per connection, no quotas; the paths a client names are confined to
its account's folder (``..`` and symbolic links cannot leave it).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import posixpath
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import paramiko

from etl.errors import CreditEtlError
from etl.orchestration.process_group import stop_group

HOST = "127.0.0.1"
START_TIMEOUT = 20.0
# A client that connects and says nothing must not hold its thread for ever.
NEGOTIATION_TIMEOUT = 30.0


# ---------------------------------------------------------------------------------------------------
# Credentials kept under the state directory


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


def host_key(state_dir: Path) -> paramiko.Ed25519Key:
    """The server's Ed25519 host key, generated on first use (paramiko reads but cannot make one)."""
    path = state_dir / "host_key"
    if not path.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
        _write_secret(path, pem.decode("ascii"))
    return paramiko.Ed25519Key.from_private_key_file(str(path))


def public_key_line(key: paramiko.PKey) -> str:
    """``ssh-ed25519 AAAA…``: what ``ssh-keyscan`` prints after the host name, the pinned form."""
    return f"{key.get_name()} {key.get_base64()}"


def password(state_dir: Path) -> str:
    """The accounts' password, generated on first use."""
    path = state_dir / "password"
    if not path.exists():
        _write_secret(path, secrets.token_urlsafe(18))
    return path.read_text(encoding="utf-8").strip()


# ---------------------------------------------------------------------------------------------------
# The server side (runs in the server process)


class _Login(paramiko.ServerInterface):
    """Password login for the accounts; remembers whose folder the session serves."""

    def __init__(self, accounts: Mapping[str, Path], secret: str) -> None:
        self.accounts = accounts
        self.secret = secret
        self.root: Path | None = None

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_auth_password(self, username: str, password: str) -> int:
        root = self.accounts.get(username)
        if root is None or not hmac.compare_digest(password.encode(), self.secret.encode()):
            return paramiko.AUTH_FAILED
        self.root = root
        return paramiko.AUTH_SUCCESSFUL

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class _Handle(paramiko.SFTPHandle):
    def stat(self) -> paramiko.SFTPAttributes | int:
        try:
            return paramiko.SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)

    def chattr(self, attr: paramiko.SFTPAttributes) -> int:
        try:
            paramiko.SFTPServer.set_file_attr(self.filename, attr)
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)
        return paramiko.SFTP_OK


def _errors_as_status(method: Any) -> Any:
    """An ``OSError`` becomes the SFTP status the client sees (no such file, permission denied…)."""

    def wrapper(*args: Any) -> Any:
        try:
            return method(*args)
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)
        except _Outside:
            return paramiko.SFTP_PERMISSION_DENIED

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


class _Outside(Exception):
    """A path that would leave the account's folder."""


class _Folder(paramiko.SFTPServerInterface):
    """The account's folder as the whole file system: ``/`` is the folder, nothing above it exists."""

    def __init__(self, server: _Login, *args: Any, **kwargs: Any) -> None:
        super().__init__(server, *args, **kwargs)
        assert server.root is not None  # the subsystem starts only after a successful login
        self.root = server.root.resolve()

    def canonicalize(self, path: str) -> str:
        # Relative paths start at the account's home, which is "/".
        return posixpath.normpath(posixpath.join("/", path))

    def local(self, path: str, *, follow: bool = True) -> Path:
        """The file behind ``path``; ``_Outside`` when it (or a link on the way) leads out."""
        target = self.root / self.canonicalize(path).lstrip("/")
        resolved = target.resolve() if follow else target.parent.resolve() / target.name
        if resolved != self.root and not resolved.is_relative_to(self.root):
            raise _Outside(path)
        return target

    @_errors_as_status
    def list_folder(self, path: str) -> list[paramiko.SFTPAttributes]:
        folder = self.local(path)
        found = []
        for name in sorted(os.listdir(folder)):
            attributes = paramiko.SFTPAttributes.from_stat(os.lstat(folder / name))
            attributes.filename = name
            found.append(attributes)
        return found

    @_errors_as_status
    def stat(self, path: str) -> paramiko.SFTPAttributes:
        return paramiko.SFTPAttributes.from_stat(os.stat(self.local(path)))

    @_errors_as_status
    def lstat(self, path: str) -> paramiko.SFTPAttributes:
        return paramiko.SFTPAttributes.from_stat(os.lstat(self.local(path, follow=False)))

    @_errors_as_status
    def open(self, path: str, flags: int, attr: paramiko.SFTPAttributes) -> _Handle:
        local = self.local(path)
        descriptor = os.open(local, flags | os.O_NOFOLLOW, 0o644)
        if flags & os.O_WRONLY:
            mode = "ab" if flags & os.O_APPEND else "wb"
        elif flags & os.O_RDWR:
            mode = "a+b" if flags & os.O_APPEND else "r+b"
        else:
            mode = "rb"
        handle = _Handle(flags)
        handle.filename = str(local)
        handle.readfile = handle.writefile = os.fdopen(descriptor, mode)
        return handle

    @_errors_as_status
    def remove(self, path: str) -> int:
        os.remove(self.local(path, follow=False))
        return paramiko.SFTP_OK

    @_errors_as_status
    def rename(self, oldpath: str, newpath: str) -> int:
        target = self.local(newpath, follow=False)
        if target.exists():  # SFTP v3 rename never replaces (posix_rename does)
            return paramiko.SFTP_FAILURE
        os.rename(self.local(oldpath, follow=False), target)
        return paramiko.SFTP_OK

    @_errors_as_status
    def posix_rename(self, oldpath: str, newpath: str) -> int:
        os.replace(self.local(oldpath, follow=False), self.local(newpath, follow=False))
        return paramiko.SFTP_OK

    @_errors_as_status
    def mkdir(self, path: str, attr: paramiko.SFTPAttributes) -> int:
        os.mkdir(self.local(path, follow=False), 0o755)
        return paramiko.SFTP_OK

    @_errors_as_status
    def rmdir(self, path: str) -> int:
        os.rmdir(self.local(path, follow=False))
        return paramiko.SFTP_OK

    @_errors_as_status
    def chattr(self, path: str, attr: paramiko.SFTPAttributes) -> int:
        paramiko.SFTPServer.set_file_attr(str(self.local(path)), attr)
        return paramiko.SFTP_OK


def _serve_connection(client: socket.socket, key: paramiko.PKey, accounts: Mapping[str, Path],
                      secret: str) -> None:  # fmt: skip
    transport = paramiko.Transport(client)
    transport.add_server_key(key)
    transport.set_subsystem_handler("sftp", paramiko.SFTPServer, _Folder)
    try:
        transport.start_server(server=_Login(accounts, secret))
    except (paramiko.SSHException, EOFError, OSError):
        transport.close()  # a client that gave up or spoke no SSH: nothing to serve
        return
    # The transport's own thread serves the session. This one holds the session's channel (a channel
    # nobody references is closed when collected) and closes a client that never logs in.
    channel = transport.accept(timeout=NEGOTIATION_TIMEOUT)
    if channel is None:
        transport.close()
        return
    transport.join()


def serve(state_dir: Path) -> None:
    """Serves ``state_dir/accounts.json`` (login -> folder) on loopback until killed; the port it
    listens on is written to ``state_dir/port`` once it accepts connections."""
    accounts = {login: Path(folder) for login, folder in
                json.loads((state_dir / "accounts.json").read_text(encoding="utf-8")).items()}  # fmt: skip
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    key, secret = host_key(state_dir), password(state_dir)
    listener = socket.create_server((HOST, 0))
    port_file = state_dir / "port"
    partial = port_file.with_suffix(".part")
    partial.write_text(str(listener.getsockname()[1]), encoding="ascii")
    partial.replace(port_file)  # the parent never reads half a number
    while True:
        client, _ = listener.accept()
        threading.Thread(target=_serve_connection, args=(client, key, accounts, secret), daemon=True).start()


# ---------------------------------------------------------------------------------------------------
# The parent side: start, connections, stop


class DemoSftpServer:
    """The server process for a set of accounts (login -> folder), in its own process group."""

    def __init__(self, state_dir: Path, accounts: Mapping[str, Path]) -> None:
        self.state_dir = state_dir
        self.accounts = {login: Path(folder).resolve() for login, folder in accounts.items()}
        self.process: subprocess.Popen[bytes] | None = None
        self.port: int | None = None

    def __enter__(self) -> DemoSftpServer:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:  # fmt: skip
        self.stop()

    @property
    def log_file(self) -> Path:
        return self.state_dir / "server.log"

    def start(self, timeout: float = START_TIMEOUT) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        host_key(self.state_dir), password(self.state_dir)  # made here, so the parent can pin them
        (self.state_dir / "accounts.json").write_text(
            json.dumps({login: str(folder) for login, folder in self.accounts.items()}), encoding="utf-8"
        )
        port_file = self.state_dir / "port"
        port_file.unlink(missing_ok=True)
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "etl.orchestration.demo_sftp", str(self.state_dir)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, process_group=0,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not port_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise CreditEtlError(f"the demo SFTP server did not start within {timeout:g} s; "
                                     f"see {self.log_file}")  # fmt: skip
            time.sleep(0.05)
        self.port = int(port_file.read_text(encoding="ascii"))

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process.pid, [self.process], grace=5.0)
            self.process = None
        self.port = None

    def connection(self, login: str) -> dict[str, Any]:
        """Airflow's JSON form of the connection to ``login``'s folder, the host key pinned."""
        if self.port is None:
            raise CreditEtlError("the demo SFTP server is not running")
        return {
            "conn_type": "sftp", "host": HOST, "port": self.port, "login": login,
            "password": password(self.state_dir),
            "extra": {"host_key": public_key_line(host_key(self.state_dir))},
        }  # fmt: skip

    def connections(self, logins: Mapping[str, str]) -> dict[str, str]:
        """``AIRFLOW_CONN_<ID>`` variables for connection id -> login."""
        from etl.sources.connections import env_name

        return {env_name(conn_id): json.dumps(self.connection(login)) for conn_id, login in logins.items()}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m etl.orchestration.demo_sftp STATE_DIR", file=sys.stderr)
        return 2
    serve(Path(args[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
