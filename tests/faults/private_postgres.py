"""A private PostgreSQL 15 server for tests that restart it: initdb into a temporary directory,
``pg_ctl`` on a free loopback port, trust authentication, fsync off.

The machine's shared server (127.0.0.1:5432) is never touched. PostgreSQL refuses to run as root,
so as root the server runs as the ``postgres`` OS account (``runuser``) in a directory made for it
under /tmp (pytest's own temporary directories are private to root); otherwise as the current user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")
TIMEOUT = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PrivatePostgres:
    folder: Path
    port: int

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, timeout=TIMEOUT, capture_output=True, start_new_session=True)

    def _options(self) -> str:
        return (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c full_page_writes=off -c synchronous_commit=off")  # fmt: skip

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-o", self._options(), "-l", str(self.folder / "log"),
                  "-w", "-t", str(TIMEOUT), "start")  # fmt: skip

    def restart(self) -> None:
        """Fast shutdown (open transactions are rolled back, clients disconnected), then start."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", str(TIMEOUT), "stop")
        self.start()

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", str(TIMEOUT), "stop")


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    folder = Path(tempfile.mkdtemp(prefix="credit-etl-pg-", dir="/tmp"))
    try:
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        server = PrivatePostgres(folder, _free_port())
        server._run("initdb", "-D", str(server.data), "-A", "trust", "-U", "postgres", "--no-sync",
                    "-E", "UTF8", "--locale=C")  # fmt: skip
        server.start()
        try:
            yield server
        finally:
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
