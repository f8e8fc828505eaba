"""Where credit-etl keeps its state, from the environment with project-local defaults.

| variable | default | what |
|---|---|---|
| ``CREDIT_ETL_HOME`` | ``<project>/var`` | root of local state (demo data, DuckDB file) |
| ``CREDIT_ETL_STORAGE`` | ``$CREDIT_ETL_HOME/storage`` | raw, staging and feedback files (path or URI) |
| ``CREDIT_ETL_WAREHOUSE`` | ``duckdb:///$CREDIT_ETL_HOME/warehouse.duckdb`` | the warehouse URL |
| ``CREDIT_ETL_CATALOG`` | ``<project>/catalog_yaml`` | the catalog directory |
| ``CREDIT_ETL_LANDING`` | ``$CREDIT_ETL_HOME/landing`` | root of the departments' landing zones |
| ``CREDIT_ETL_STABLE_SECONDS`` | see ``etl.tasks`` | how long an unmarked file must stay unchanged |
| ``CREDIT_ETL_DAG_RETRIES`` | ``3`` | task retries of the source DAGs (the demo sets 0) |

The storage root may be an object-storage URI (``s3://…``) that every worker can reach.
Secrets never live here: database passwords belong in the URL from the environment or in Airflow
connections.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def home() -> Path:
    return Path(os.environ.get("CREDIT_ETL_HOME") or PROJECT_ROOT / "var")


def storage_root() -> str:
    return os.environ.get("CREDIT_ETL_STORAGE") or str(home() / "storage")


def warehouse_url() -> str:
    return os.environ.get("CREDIT_ETL_WAREHOUSE") or f"duckdb:///{home() / 'warehouse.duckdb'}"


def catalog_dir() -> Path:
    return Path(os.environ.get("CREDIT_ETL_CATALOG") or PROJECT_ROOT / "catalog_yaml")


def landing_root() -> Path:
    return Path(os.environ.get("CREDIT_ETL_LANDING") or home() / "landing")
