"""Batches are produced by a background thread a little ahead of the consumer."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from etl.read.delivery import read_ahead


def test_items_arrive_in_order_and_an_error_after_the_items_before_it():
    def source() -> Iterator[int]:
        yield from range(3)
        raise ValueError("broken at 3")

    received = []
    with pytest.raises(ValueError, match="broken at 3"):
        for item in read_ahead(source(), 2):
            received.append(item)
    assert received == [0, 1, 2]


def test_stopping_early_closes_the_source_and_ends_the_thread():
    closed = threading.Event()

    def source() -> Iterator[int]:
        try:
            yield from range(1_000_000)
        finally:
            closed.set()

    items = read_ahead(source(), 2)
    assert [next(items) for _ in range(3)] == [0, 1, 2]
    items.close()
    assert closed.is_set()
    assert not any(t.name == "read-ahead" and t.is_alive() for t in threading.enumerate())


def test_the_source_runs_on_another_thread():
    seen = []

    def source() -> Iterator[str]:
        seen.append(threading.current_thread().name)
        yield "x"

    assert list(read_ahead(source(), 1)) == ["x"]
    assert seen == ["read-ahead"]
