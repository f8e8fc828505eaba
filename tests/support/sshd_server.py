"""A real OpenSSH ``sshd`` for the SFTP tests, on a free loopback port, in its own process group.

What it needs from the machine, installed and checked here (the tests run as root, as in CI):

- ``/usr/sbin/sshd``: installed by ``scripts/install-system-deps.sh`` (idempotent) when missing;
- ``/run/sshd``: the privilege separation directory sshd insists on;
- a system account ``credetl_sftp`` without a shell; its password field is set to ``*`` because
  OpenSSH refuses a key login for an account created locked (``!``).

Each server gets a directory under ``/var/lib/credit-etl-test`` (a chroot must be owned by root and
sit on a path no other user can write, which rules out ``/tmp``) with its own host key, client key,
``sshd_config`` and log, and a ``root/`` that the account sees as ``/`` over SFTP. Stopping the server
ends its process group and the per-connection processes it started (sshd gives those their own
sessions), then removes the directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
SSHD = Path("/usr/sbin/sshd")
USER = "credetl_sftp"
BASE = Path("/var/lib/credit-etl-test")
START_TIMEOUT = 10.0


def ensure_sshd() -> None:
    if not SSHD.exists():
        subprocess.run(["bash", str(PROJECT / "scripts" / "install-system-deps.sh")], check=True, timeout=900)
    if not SSHD.exists():
        raise RuntimeError(f"{SSHD} is missing and scripts/install-system-deps.sh did not install it")
    privsep = Path("/run/sshd")
    privsep.mkdir(mode=0o755, exist_ok=True)


def ensure_account() -> pwd.struct_passwd:
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", USER], check=True, timeout=30)  # fmt: skip
    subprocess.run(["usermod", "-p", "*", USER], check=True, timeout=30)  # unlock for key logins
    return pwd.getpwnam(USER)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def keygen(path: Path) -> str:
    """A new ed25519 key pair at ``path``; returns the public key line without its comment."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)],
                   check=True, timeout=30)  # fmt: skip
    return " ".join(path.with_suffix(".pub").read_text().split()[:2])


@dataclass
class SshdServer:
    home: Path
    root: Path  # what the account sees as "/"
    port: int
    host_key: str  # "ssh-ed25519 AAAA…", as pinned in the connection extra
    client_key: str  # the account's private key (OpenSSH PEM text)
    account: pwd.struct_passwd

    def connection(self, *, port: int | None = None, host_key: str | None = None, **extra: object) -> str:
        """The Airflow connection (JSON form) for the account, with the host key pinned."""
        return json.dumps({
            "conn_type": "sftp", "host": "127.0.0.1", "port": port or self.port, "login": USER,
            "extra": {"private_key": self.client_key, "host_key": host_key or self.host_key,
                      "no_host_key_check": False, **extra},
        })  # fmt: skip

    def path(self, remote: str) -> Path:
        return self.root / remote.lstrip("/")

    def make_dirs(self, remote: str, *, writable: bool) -> Path:
        """Creates ``remote`` and its parents; ``writable`` gives the account the last one."""
        folder = self.path(remote)
        folder.mkdir(parents=True, exist_ok=True)
        if writable:
            os.chown(folder, self.account.pw_uid, self.account.pw_gid)
        return folder

    def clear(self) -> None:
        for child in self.root.iterdir():
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()


def _descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in parents.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"sshd did not listen on port {port} within {START_TIMEOUT} s")


def _stop(process: subprocess.Popen) -> None:
    children = _descendants(process.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    for pid in children:  # connection handlers live in sessions of their own
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def sshd_server() -> Iterator[SshdServer]:
    if os.geteuid() != 0:
        raise RuntimeError("the SFTP tests start sshd with a chroot and a test account: run them as root")
    ensure_sshd()
    account = ensure_account()
    BASE.mkdir(mode=0o755, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="sshd-", dir=BASE))
    try:
        home.chmod(0o755)
        root = home / "root"
        root.mkdir(mode=0o755)
        host_key = keygen(home / "host_key")
        client_public = keygen(home / "client_key")
        (home / "authorized_keys").write_text(client_public + "\n")
        port = free_port()
        config = home / "sshd_config"
        config.write_text("\n".join([
            "ListenAddress 127.0.0.1", f"Port {port}", f"HostKey {home / 'host_key'}",
            f"PidFile {home / 'sshd.pid'}", f"AuthorizedKeysFile {home / 'authorized_keys'}",
            "StrictModes no", "UsePAM no", "PermitRootLogin no", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", f"AllowUsers {USER}", "Subsystem sftp internal-sftp",
            f"ChrootDirectory {root}", "ForceCommand internal-sftp", "MaxStartups 50", "LogLevel VERBOSE",
        ]) + "\n")  # fmt: skip
        subprocess.run([str(SSHD), "-t", "-f", str(config)], check=True, timeout=30)
        log = home / "sshd.log"
        with log.open("wb") as out:
            process = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)], stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        try:
            _wait_for_port(port, process, log)
            yield SshdServer(home=home, root=root, port=port, host_key=host_key,
                             client_key=(home / "client_key").read_text(), account=account)  # fmt: skip
        finally:
            _stop(process)
    finally:
        shutil.rmtree(home, ignore_errors=True)
