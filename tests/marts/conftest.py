"""Fixtures of the mart tests; helpers live in ``mart_helpers`` and ``credit_fixture``."""

from __future__ import annotations

import pytest

from etl.catalog import Catalog, load_catalog


@pytest.fixture(scope="session")
def shipped_catalog() -> Catalog:
    return load_catalog()
