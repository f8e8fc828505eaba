"""Fixtures every test may use: the shipped catalog and a fresh warehouse URL per backend.

At the top of the project, not in tests/, so that doctest collection of tests/ does not import it twice."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from backends import BACKENDS, backend_url, drop_schema

from etl.catalog import Catalog, load_catalog

# A folder's conftest.py holds fixtures, no doctests. Left to --doctest-modules, each would be imported
# again as the module ``conftest``, a name that belongs to another folder's conftest.py once two
# folders are given on one command line ("import file mismatch").
collect_ignore_glob = ["tests/*/conftest.py"]


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(params=BACKENDS)
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty warehouse location on each backend (DuckDB file, PostgreSQL schema)."""
    with backend_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """The name of a PostgreSQL schema the test may create; dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield schema
    drop_schema(schema)


@pytest.fixture(autouse=True)
def _loggers_keep_their_handlers() -> Iterator[None]:
    """Removes the log handlers a test's code added (the CLI's ``basicConfig``, Airflow's logging
    setup): they write to the streams pytest captured for that test, which are closed after it, and a
    later test would log "--- Logging error ---" tracebacks into its own output."""
    before = {id(logger): list(logger.handlers) for logger in _all_loggers()}
    yield
    for logger in _all_loggers():
        kept = before.get(id(logger), [])
        for handler in [h for h in logger.handlers if h not in kept]:
            logger.removeHandler(handler)


def _all_loggers() -> list[logging.Logger]:
    return [logging.getLogger(), *(logging.getLogger(name) for name in list(logging.root.manager.loggerDict))]
