"""Deterministic, realistic synthetic deliveries for every dataset and department of the catalog.

``generate`` walks ``catalog.sources()`` and, for each source, writes one delivery the way that
department sends it (see ``layout``), built from the shared subject pool (``subjects``) with values
that fit each field (``values``) and obey every catalog rule (``table``); then injects defects at
recorded rates (``defects``) and writes an answer key listing every defective row::

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     manifest = generate(folder, seed=1, scale=0.02, datasets=["admin_penalty"])
    ...     key_written = (Path(folder) / manifest["deliveries"][0]["answer_key"]).exists()
    >>> sorted({d["format"] for d in manifest["deliveries"]}), key_written
    (['csv', 'json', 'jsonl', 'xlsx'], True)

The same seed, scale and options always give byte-identical files.
"""

from __future__ import annotations

import json
import shutil
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from etl.catalog import Catalog, load_catalog
from etl.demo_data import defects as defects_module
from etl.demo_data.defects import DEFECT_KINDS, NOT_IN_DATABASES, Defect
from etl.demo_data.layout import ROW_NUMBERING, DeliveryPlan, headers, plan_deliveries
from etl.demo_data.render import CellStyle, render
from etl.demo_data.settings import AS_OF, BASE_ROWS, DEFAULT_DEFECT_RATE, DEFAULT_SEED
from etl.demo_data.subjects import SubjectPool, build_pool
from etl.demo_data.table import Table, build_table
from etl.demo_data.values import latest_dates, timestamps_after
from etl.demo_data.writers import (
    write_answer_key,
    write_csv,
    write_json,
    write_jsonl,
    write_parquet,
    write_xlsx,
)
from etl.errors import UsageError

__all__ = ["DEFAULT_DEFECT_RATE", "DEFAULT_SEED", "DEFECT_KINDS", "GENERATOR", "generate"]

GENERATOR = "credit-etl demo-data"
# What generate() owns under its output directory, and removes before writing again.
OWNED = ("landing", "sftp", "database", "answer_keys", "manifest.json")


def generate(
    out: Path | str,
    *,
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    rows: int | None = None,
    datasets: Iterable[str] | None = None,
    sources: Iterable[str] | None = None,
    file_format: str | None = None,
    defect_rate: float = DEFAULT_DEFECT_RATE,
    defect_rates: Mapping[str, float] | None = None,
    catalog: Catalog | None = None,
) -> dict[str, Any]:
    """Writes the deliveries, answer keys and ``manifest.json`` under ``out``; returns the manifest.

    Args:
        out: output directory; a previous demo-data output there is replaced.
        seed: the same seed gives byte-identical files.
        scale: multiplies the subject pool and the rows per delivery (100-400 at scale 1).
        rows: exactly this many rows per delivery instead (fewer where a dataset lists each subject
            once and the pool has fewer eligible subjects).
        datasets, sources: only these dataset ids / source ids.
        file_format: write landing deliveries in this format (csv, xlsx, json, parquet); SFTP
            deliveries keep the format their glob names and database sources stay JSON lines.
        defect_rate: share of defective rows, split evenly over the kinds each delivery has room for.
        defect_rates: per-kind rates instead (kinds not named get none).
        catalog: defaults to the project's catalog.
    """
    out = Path(out)
    _check_options(scale, rows, defect_rate, defect_rates, file_format)
    catalog = catalog or _default_catalog()
    plans = _select(plan_deliveries(catalog, file_format), catalog, datasets, sources)
    _clear(out)
    pool = build_pool(seed, scale)
    records = [_deliver(plan, out, pool, seed, scale, rows, defect_rate, defect_rates) for plan in plans]
    manifest = _manifest(seed, scale, rows, defect_rate, defect_rates, records)
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return manifest


def _default_catalog() -> Catalog:
    from etl import settings

    return load_catalog(settings.catalog_dir())


def _check_options(
    scale: float,
    rows: int | None,
    defect_rate: float,
    defect_rates: Mapping[str, float] | None,
    file_format: str | None,
) -> None:
    if not scale > 0:
        raise UsageError(f"--scale must be positive, not {scale}")
    if rows is not None and rows < 1:
        raise UsageError(f"--rows must be at least 1, not {rows}")
    if not 0 <= defect_rate <= 1:
        raise UsageError(f"--defect-rate must be between 0 and 1, not {defect_rate}")
    for kind, rate in (defect_rates or {}).items():
        if kind not in DEFECT_KINDS:
            raise UsageError(f"unknown defect kind {kind!r}; known: {', '.join(DEFECT_KINDS)}")
        if not 0 <= rate <= 1:
            raise UsageError(f"the rate of {kind} must be between 0 and 1, not {rate}")
    if defect_rates and sum(defect_rates.values()) > 1:
        raise UsageError("the defect rates add up to more than 1 (one defect per row at most)")
    if file_format not in (None, "csv", "xlsx", "json", "parquet"):
        raise UsageError(f"--format must be csv, xlsx, json or parquet, not {file_format!r}")


def _select(
    plans: list[DeliveryPlan], catalog: Catalog, datasets: Iterable[str] | None, sources: Iterable[str] | None
) -> list[DeliveryPlan]:
    if datasets is not None:
        wanted = set(datasets)
        for name in sorted(wanted):
            catalog.dataset(name)  # raises CatalogError naming the known datasets
        plans = [p for p in plans if p.ref.dataset.id in wanted]
    if sources is not None:
        wanted = set(sources)
        for name in sorted(wanted):
            catalog.source(name)
        plans = [p for p in plans if p.ref.id in wanted]
    if not plans:
        raise UsageError("the selected datasets and sources have no deliveries to generate")
    return plans


def _clear(out: Path) -> None:
    """Removes a previous generation; refuses to touch a directory that is not one."""
    previous = _is_demo_output(out / "manifest.json")
    occupied = [name for name in OWNED if (out / name).exists()]
    if occupied and not previous:
        raise UsageError(
            f"{out} already holds {', '.join(occupied)} that demo-data did not write; "
            "choose an empty directory"
        )
    for name in occupied:
        path = out / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    out.mkdir(parents=True, exist_ok=True)


def _is_demo_output(manifest: Path) -> bool:
    try:
        return json.loads(manifest.read_text(encoding="utf-8")).get("generator") == GENERATOR
    except (OSError, ValueError, AttributeError):
        return False


# ---------------------------------------------------------------------------------------------------
# One delivery


def _deliver(
    plan: DeliveryPlan,
    out: Path,
    pool: SubjectPool,
    seed: int,
    scale: float,
    rows: int | None,
    defect_rate: float,
    defect_rates: Mapping[str, float] | None,
) -> dict[str, Any]:
    ref = plan.ref
    rng = np.random.default_rng([seed, zlib.crc32(ref.id.encode())])
    wanted = (
        rows if rows is not None else max(2, round(int(rng.integers(BASE_ROWS[0], BASE_ROWS[1] + 1)) * scale))
    )
    table = build_table(ref.dataset, plan.department, ref.source, pool, wanted, rng)
    style = CellStyle(plan.target, plan.date_style)
    rendered = render(table, style, rng)
    subject_kinds = pool.kind[table.subjects]
    allowed = frozenset(DEFECT_KINDS) - (NOT_IN_DATABASES if plan.format == "jsonl" else frozenset())
    targets = defects_module.find_targets(table, allowed, subject_kinds, rng)
    kinds = list(targets)
    capacity = {kind: int(target.rows.sum()) for kind, target in targets.items()}
    if defect_rates is not None:
        rates = {k: float(defect_rates[k]) for k in kinds if defect_rates.get(k, 0) > 0}
        counts = defects_module.counts_for(len(table), rates, None, rng, capacity)
    else:
        rates = defects_module.split_rates(defect_rate, kinds) if defect_rate > 0 else {}
        counts = defects_module.counts_for(len(table), rates, defect_rate, rng, capacity)
    injected = defects_module.inject(table, rendered, style, counts, targets, rng)
    names, columns = _columns(plan, table, rendered.cells, rng)
    _write(plan, out, names, columns)
    key_rows = [_key_row(plan, d) for d in injected]
    key_path = out / plan.answer_key
    key_path.parent.mkdir(parents=True, exist_ok=True)
    write_answer_key(key_path, key_rows)
    return _record(plan, len(table), rates, Counter(d.kind for d in injected))


def _columns(
    plan: DeliveryPlan, table: Table, cells: dict[str, np.ndarray], rng: np.random.Generator
) -> tuple[list[str], list[np.ndarray]]:
    names = headers(plan)
    columns = [cells[f.name] for f in table.dataset.fields]
    watermark = plan.ref.source.watermark
    if plan.format == "jsonl" and watermark and watermark not in table.dataset.field_names:
        # The department's table has its change timestamp even where the catalog does not list it.
        dates = {f.name: table.columns[f.name] for f in table.dataset.fields if f.type == "date"}
        names.append(watermark)
        columns.append(timestamps_after(rng, latest_dates(dates, len(table))))
    return names, columns


def _write(plan: DeliveryPlan, out: Path, names: list[str], columns: list[np.ndarray]) -> None:
    path = out / plan.path
    path.parent.mkdir(parents=True, exist_ok=True)
    if plan.format == "csv":
        write_csv(path, names, columns, plan.encoding)
    elif plan.format == "xlsx":
        write_xlsx(path, plan.title, names, columns, plan.ref.dataset.title)
    elif plan.format == "json":
        write_json(path, names, columns)
    elif plan.format == "parquet":
        write_parquet(path, names, columns)
    else:
        write_jsonl(path, names, columns)
    if plan.marker:
        (out / plan.marker).write_bytes(b"")


def _key_row(plan: DeliveryPlan, defect: Defect) -> list[Any]:
    first = plan.first_data_row
    note = defect.note
    if defect.source is not None:
        note = f"repeats the key of row {first + defect.source}, which stays clean"
    return [
        first + defect.index,
        defect.field,
        defect.kind,
        defect.expected,
        defect.original,
        defect.injected,
        note,
    ]


def _record(
    plan: DeliveryPlan, rows: int, rates: Mapping[str, float], counts: Counter[str]
) -> dict[str, Any]:
    ref = plan.ref
    return {
        "path": plan.path,
        "answer_key": plan.answer_key,
        "marker": plan.marker,
        "source_id": ref.id,
        "dataset": ref.dataset.id,
        "department": ref.source.department,
        "method": ref.source.method,
        "format": plan.format,
        "encoding": plan.encoding,
        "header_style": plan.header_style,
        "date_style": plan.date_style,
        "rows": rows,
        "first_data_row": plan.first_data_row,
        "row_numbering": ROW_NUMBERING[plan.format],
        "defect_rates": {k: round(v, 6) for k, v in rates.items()},
        "defects": {k: counts[k] for k in DEFECT_KINDS if counts[k]},
    }


def _manifest(
    seed: int,
    scale: float,
    rows: int | None,
    defect_rate: float,
    defect_rates: Mapping[str, float] | None,
    records: list[dict[str, Any]],
) -> dict[str, Any]:
    totals: Counter[str] = Counter()
    for record in records:
        totals.update(record["defects"])
    return {
        "generator": GENERATOR,
        "as_of": AS_OF.isoformat(),
        "seed": seed,
        "scale": scale,
        "rows": rows,
        "defect_rate": None if defect_rates is not None else defect_rate,
        "defect_rates": dict(defect_rates) if defect_rates is not None else None,
        "deliveries": records,
        "totals": {
            "deliveries": len(records),
            "rows": sum(r["rows"] for r in records),
            "defects": {k: totals[k] for k in DEFECT_KINDS if totals[k]},
        },
    }
