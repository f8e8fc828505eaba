"""Fixtures for the validate tests: the catalog, and batches shaped like conform's output."""

from __future__ import annotations

import pytest

from etl.catalog import Dataset


@pytest.fixture(scope="session")
def admin_penalty(catalog) -> Dataset:
    return catalog.datasets["admin_penalty"]
