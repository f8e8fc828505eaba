"""Fixtures for the security tests: the helpers of tests/sources and tests/alerts on the import
path (the sshd server, the loopback SMTP and robot servers, the alert ledger)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Appended, not prepended: these folders have a conftest.py of their own, which pytest must keep
# finding as the ``conftest`` of its folder.
for folder in ("sources", "alerts", "faults"):
    path = str(Path(__file__).resolve().parents[1] / folder)
    if path not in sys.path:
        sys.path.append(path)

from etl.catalog import Catalog, load_catalog  # noqa: E402


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()
