"""Fixtures for the DAG tests: an Airflow environment on a temporary home."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.orchestration.airflow_env import airflow_environment, sqlite_url


@pytest.fixture
def airflow_env(tmp_path: Path) -> dict[str, str]:
    """Airflow on SQLite under ``tmp_path``, the project's state under ``tmp_path/home``."""
    home = tmp_path / "home"
    env = airflow_environment(home / "airflow", sqlite_url(home / "airflow" / "airflow.db"))
    env.update({"CREDIT_ETL_HOME": str(home), "CREDIT_ETL_LANDING": str(home / "landing")})
    for name in ("CREDIT_ETL_CATALOG", "CREDIT_ETL_STORAGE", "CREDIT_ETL_WAREHOUSE"):
        env.pop(name, None)
    return env
