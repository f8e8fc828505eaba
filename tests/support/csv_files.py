"""Small CSV deliveries written from dicts, as tests hand-make them."""

from __future__ import annotations

import csv
from pathlib import Path


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    """``rows`` as a UTF-8 CSV at ``path``; the header is every key in order of first appearance."""
    headers = list(dict.fromkeys(name for row in rows for name in row))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, headers)
        writer.writeheader()
        writer.writerows(rows)
    return path
