"""Helpers for the DAG tests: parse the DAG folder in a fresh interpreter, run Airflow commands."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from etl.orchestration.airflow_env import DAGS_FOLDER

PROBE = Path(__file__).resolve().parents[2] / "bench" / "dags" / "parse_probe.py"


def parse_dags(env: Mapping[str, str], out: Path) -> dict[str, Any]:
    """Parses the DAG folder in a fresh interpreter with ``env``; the probe's report."""
    done = subprocess.run([sys.executable, str(PROBE), str(DAGS_FOLDER), str(out)], env=dict(env),
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8"))
