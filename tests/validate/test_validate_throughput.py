"""Scale: validate_batch on a million typed 行政处罚 rows in batches of 50,000.

Asserts that the verdicts at scale are exact (every row broken on purpose is rejected, with one
reason, and no other row); prints rows per second with ``-s`` (timing is bench's business).
"""

from __future__ import annotations

import time

import pytest
from validate_synthetic import admin_penalty_batch

from etl.validate import DeliveryState, validate_batch

ROWS = 1_000_000
BATCH = 50_000


@pytest.mark.slow
def test_a_million_rows(admin_penalty):
    made = [
        admin_penalty_batch(admin_penalty, BATCH, start_row=2 + i * BATCH, seed=i)
        for i in range(ROWS // BATCH)
    ]
    batches, broken = [batch for batch, _ in made], sum(count for _, count in made)
    warm_up, _ = admin_penalty_batch(admin_penalty, 10, seed=99)
    validate_batch(warm_up, admin_penalty, DeliveryState())  # imports GX, builds the suite
    state = DeliveryState()
    rejected = reasons = 0
    started = time.perf_counter()
    for batch in batches:
        verdicts = validate_batch(batch, admin_penalty, state)
        rejected += verdicts.rejected_count
        reasons += len(verdicts.reasons)
    elapsed = time.perf_counter() - started
    print(f"\nvalidate: {ROWS:,} rows in batches of {BATCH:,}: {elapsed:.1f} s, {ROWS / elapsed:,.0f} rows/s")
    assert rejected == reasons == broken
    assert state.rows_seen == ROWS
