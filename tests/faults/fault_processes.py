"""The child processes of the fault tests: ``credit-etl ingest`` run here or through ``fault_runner``
(which holds the child at a chosen point), and the kill of a child's whole process group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

from etl.cli import main as cli_main

RUNNER = Path(__file__).with_name("fault_runner.py")


def ingest_args(penalty_file: Path, url: str, storage: Path) -> list[str]:
    return ["ingest", str(penalty_file), "--dataset", "admin_penalty", "--department", "scjg",
            "--warehouse", url, "--storage", str(storage)]  # fmt: skip


def ingest_here(args: list[str]) -> int:
    """``credit-etl ingest`` in this process."""
    return cli_main(args)


def kill_group(child: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
