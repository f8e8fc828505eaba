"""Constants of the synthetic deliveries (no logic)."""

from __future__ import annotations

import datetime as dt
from typing import Final

# The demo is pinned to one day so that the same seed gives the same bytes on any day; every date
# written is real and none of the event dates lies after LAST_DAY.
AS_OF: Final = dt.date(2026, 11, 28)
LAST_DAY: Final = dt.date(2026, 11, 27)
FILE_DATE: Final = LAST_DAY.strftime("%Y%m%d")
# Fixed timestamp for workbook properties and zip entries, so XLSX files are byte-identical.
FIXED_TIMESTAMP: Final = dt.datetime(2026, 11, 27, 18, 0, 0)

# Open-ended validity (长期有效), as the catalog documents it.
OPEN_ENDED: Final = dt.date(2099, 12, 31)

DEFAULT_SEED: Final = 20261128
DEFAULT_DEFECT_RATE: Final = 0.05
# Rows per delivery at --scale 1 are drawn from this range, per source.
BASE_ROWS: Final = (100, 400)

# Subjects in the shared pool at --scale 1.
POOL_SIZES: Final[dict[str, int]] = {
    "company": 3000,
    "shop": 600,
    "person": 1500,
    "cooperative": 80,
    "collective": 40,
    "social_org": 120,
    "institution": 150,
}
# Never more than these: the word lists give about so many distinct, realistic names.
POOL_MAXIMUMS: Final[dict[str, int]] = {
    "cooperative": 1500,
    "collective": 240,
    "social_org": 400,
    "institution": 250,
}
# Never fewer than these, so that a tiny --scale still has every kind of subject.
POOL_MINIMUMS: Final[dict[str, int]] = {
    "company": 80,
    "shop": 40,
    "person": 60,
    "cooperative": 6,
    "collective": 4,
    "social_org": 12,
    "institution": 16,
}
