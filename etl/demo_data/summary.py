"""A short engineer-facing summary of a generation (English, one screen)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any


def summarise(manifest: dict[str, Any], out: Path) -> list[str]:
    """Lines describing what was written: datasets, files by format, rows, defects per kind, where.

    >>> manifest = {"seed": 1, "scale": 1.0, "deliveries": [
    ...     {"dataset": "a", "format": "csv", "encoding": "gbk", "rows": 10}],
    ...     "totals": {"deliveries": 1, "rows": 10, "defects": {"missing_required": 1}}}
    >>> print("\\n".join(summarise(manifest, Path("/tmp/x"))))
    demo deliveries: 1 datasets, 1 deliveries, 10 rows (seed 1, scale 1.0)
      files: 1 csv (gbk 1)
      defects: 1 rows (10.0%): missing_required 1
      written to /tmp/x (answer keys in answer_keys/, manifest.json)
    """
    deliveries = manifest["deliveries"]
    totals = manifest["totals"]
    formats = Counter(d["format"] for d in deliveries)
    encodings = Counter(d["encoding"] for d in deliveries if d["format"] == "csv")
    files = ", ".join(f"{n} {fmt}" for fmt, n in sorted(formats.items()))
    if encodings:
        files += " (" + ", ".join(f"{enc} {n}" for enc, n in sorted(encodings.items())) + ")"
    defects = totals["defects"]
    injected = sum(defects.values())
    share = f"{100 * injected / totals['rows']:.1f}%" if totals["rows"] else "-"
    kinds = ", ".join(f"{kind} {n}" for kind, n in defects.items()) or "none"
    return [
        f"demo deliveries: {len({d['dataset'] for d in deliveries})} datasets, "
        f"{totals['deliveries']} deliveries, {totals['rows']} rows "
        f"(seed {manifest['seed']}, scale {manifest['scale']})",
        f"  files: {files}",
        f"  defects: {injected} rows ({share}): {kinds}",
        f"  written to {out} (answer keys in answer_keys/, manifest.json)",
    ]
