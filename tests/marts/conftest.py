"""Fixtures of the mart tests; helpers live in ``mart_helpers`` and ``credit_fixture``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from etl.catalog import Catalog, load_catalog

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def shipped_catalog() -> Catalog:
    return load_catalog()
