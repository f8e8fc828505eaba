"""The synthetic deliveries the source and fault tests share (a module of its own: test modules must
not import ``conftest``, whose name every test directory shares)."""

from __future__ import annotations

from pathlib import Path

# The datasets the source tests deliver: a fresh warehouse per test creates only their tables.
DATASETS = ("admin_penalty", "basic_deposit_account", "tax_credit_grade_a")


def delivery_of(demo: tuple[Path, dict], source_id: str) -> tuple[Path, dict]:
    """The synthetic delivery of ``source_id``: its path and its manifest record."""
    out, manifest = demo
    (record,) = [d for d in manifest["deliveries"] if d["source_id"] == source_id]
    return out / record["path"], record
