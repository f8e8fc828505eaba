"""Dedup keys with an absent text part are compared as the warehouse stores them ('')."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from etl.validate.rules import DuplicateFinder, key_hashes


def test_a_key_with_an_empty_text_part_is_complete_and_repeats_are_found():
    uscc = pa.array(["91450200MA5KXXXX0X", "91450200MA5KXXXX0X", None, None])
    regno = pa.array([None, None, "450200000012345", None])
    hashes, complete = key_hashes([uscc, regno])
    assert complete.tolist() == [True, True, True, False]  # only the all-empty key is incomplete
    assert hashes[0] == hashes[1] != hashes[2]
    earlier = DuplicateFinder().earlier_rows(hashes, np.array([2, 3, 4, 5]), complete)
    assert earlier.tolist() == [-1, 2, -1, -1]


def test_a_key_missing_a_date_part_is_incomplete():
    names = pa.array(["甲", "甲"])
    dates = pa.array([dt.date(2026, 10, 8), None], pa.date32())
    _, complete = key_hashes([names, dates])
    assert complete.tolist() == [True, False]
