"""``python -m etl.demo ui`` refuses clearly what it cannot do: no demo yet, a port already taken."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def demo_ui(home: Path, port: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CREDIT_ETL_", "AIRFLOW"))}
    env["CREDIT_ETL_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "etl.demo", "ui", "--port", str(port)], env=env,
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


def test_ui_without_a_demo_says_to_run_it_first(tmp_path):
    done = demo_ui(tmp_path, 8080)
    assert done.returncode == 2 and "run `make demo` first" in done.stderr
    assert "Traceback" not in done.stderr


def test_ui_on_a_taken_port_says_so_and_starts_nothing(tmp_path):
    (tmp_path / "airflow").mkdir()
    (tmp_path / "airflow" / "airflow.db").touch()
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "warehouse.duckdb").touch()
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = demo_ui(tmp_path, port)
    assert done.returncode == 2 and f"port {port} is taken" in done.stderr
    assert not (tmp_path / "demo" / "sftp-server").exists(), "no SFTP server was started"
    log_server = demo_ui(tmp_path, 8793)
    assert log_server.returncode == 2 and "log server" in log_server.stderr
