"""What the SFTP source and fault tests share: the PBC's source, fetch options that do not wait long,
and an upload of a delivery into the loopback sshd's tree (see ``sshd_server``)."""

from __future__ import annotations

import shutil
from pathlib import Path

from sshd_server import SshdServer

from etl.sources import FetchOptions

# The PBC's deposit accounts: /credit/jbzh/jbzh_*.csv, marker .ok, archived to /credit/jbzh/done.
PBC = "basic_deposit_account__pbc__sftp"
# Short waits and pauses, so that the tests do not sit out production's.
QUICK = FetchOptions(stable_seconds=0.3, wait_seconds=2.0, retry_pause=0.05, connect_timeout=10)


def upload(server: SshdServer, source: Path, remote_dir: str, *, marker: str | None = ".ok",
           writable: bool = True, name: str | None = None) -> Path:  # fmt: skip
    """Copies ``source`` into ``remote_dir`` of the server (created; given to the account if ``writable``),
    then its ``marker`` file; returns the uploaded file's local path."""
    folder = server.make_dirs(remote_dir, writable=writable)
    target = folder / (name or source.name)
    shutil.copy(source, target)
    if marker:
        Path(f"{target}{marker}").write_bytes(b"")
    return target
