"""A catalog of N datasets made from the shipped one, for measuring DAG parsing at that size.

The shipped datasets are copied in turn under new ids (``<id>_g007``) and tables until there are N;
each copy keeps its sources, so the DAG count grows with it (100 datasets give about 150 DAGs).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from etl.catalog import DEFAULT_CATALOG_DIR


def write_catalog(out: Path, datasets: int, source: Path = DEFAULT_CATALOG_DIR) -> Path:
    """Writes a catalog of ``datasets`` datasets to ``out`` (replaced) and returns it."""
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(source, out)
    shipped = sorted((out / "datasets").glob("*.yaml"))
    texts = [(path.stem, yaml.safe_load(path.read_text(encoding="utf-8"))) for path in shipped]
    for number in range(len(shipped), datasets):
        stem, raw = texts[number % len(texts)]
        copy_id = f"{stem[:50]}_g{number:03d}"
        raw = {**raw, "id": copy_id, "table": copy_id}
        target = out / "datasets" / f"{copy_id}.yaml"
        target.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out
