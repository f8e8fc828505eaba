"""Stopping a process group: what the demo's servers (Airflow, the SFTP server) are started in.

Signalling only the parent would leave its children (executor workers, uvicorn, parsing processes,
connection threads' helpers) running, so the whole group is signalled: SIGTERM, then SIGKILL when it
is still there after a grace period.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence


def stop_group(group: int, processes: Sequence[subprocess.Popen[bytes]], grace: float = 20.0) -> None:
    """Ends process group ``group`` (led by one of ``processes``) and reaps ``processes``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(p.poll() is None for p in processes):
            time.sleep(0.2)
        if sig == signal.SIGTERM and not group_alive(group):
            break
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


def group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True
