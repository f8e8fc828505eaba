"""``credit-etl export``: one dataset's records of one month in the national exchange columns, for
upload to the provincial and national credit platforms.

Which records: for 双公示 datasets (licensing, penalty) those whose publication date field (the
decision date, ``sla.publication.from_field``) falls in the month; for red and black lists those
entered or exited in the month. Other categories are not exchanged this way.

Columns: the catalog fields that have a national code (``XK_XDR_MC``, ``CF_WSH``…), in catalog
order, headed by it (fields without one, like a database source's ``updated_at`` watermark, are ours,
not the exchange's); where the dataset has no codes at all (the lists), every field under its
canonical name. What goes out
follows the dataset's openness (公开 / 有条件共享 / 不予公开) and the fields' ``personal`` flag:

- 公开 (社会公开): exported for publication; personal fields are masked — identity numbers keep
  their first and last four characters (``etl.codes.idcard.mask``), other personal text its first
  character;
- 有条件共享: not for publication; exported only for the government sharing channel when the caller
  says so (``shared=True``, ``--shared``), personal fields masked the same way;
- 不予公开: never exported.

Files: ``<dataset>_<period>.csv`` (UTF-8, every cell neutralised against spreadsheet formulas by
``etl.feedback.neutralise``) and ``<dataset>_<period>.manifest.json`` (columns and their treatment,
row count, deliveries the rows came from, sha256 of the CSV).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from etl.catalog import CatalogField, Dataset
from etl.codes import idcard
from etl.errors import UsageError, WarehouseError
from etl.feedback import neutralise
from etl.marts.facts import DATED_CATEGORIES, LIST_CATEGORIES
from etl.warehouse.base import Warehouse, _columns
from etl.warehouse.schema import dataset_table, ident, internal_ident

PERIOD = re.compile(r"^(\d{4})-(\d{2})$")
PUBLIC, SHARED, CLOSED = "公开", "有条件共享", "不予公开"
CHANNELS = {PUBLIC: "社会公开", SHARED: "政务共享"}
AS_IS, MASKED = "as_is", "masked"


@dataclass(frozen=True)
class ExportReport:
    dataset: str
    period: str
    rows: int
    csv_path: Path
    manifest_path: Path


def parse_period(text: str) -> tuple[dt.date, dt.date]:
    """The first day of the month ``YYYY-MM`` and the first day of the next.

    >>> parse_period("2026-12")
    (datetime.date(2026, 12, 1), datetime.date(2027, 1, 1))
    """
    match = PERIOD.match(text.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise UsageError(f"--period must be a month YYYY-MM, not {text!r}")
    year, month = int(match[1]), int(match[2])
    start = dt.date(year, month, 1)
    return start, dt.date(year + month // 12, month % 12 + 1, 1)


def check_openness(dataset: Dataset, *, shared: bool) -> str:
    """The channel the export goes to, or a ``UsageError`` when the openness forbids it."""
    if dataset.openness == CLOSED:
        raise UsageError(f"dataset {dataset.id} is {CLOSED} (not open): it is never exported")
    if dataset.openness == SHARED and not shared:
        raise UsageError(
            f"dataset {dataset.id} is {SHARED}: it is not published; pass --shared to export it for "
            "the government sharing channel"
        )
    return CHANNELS[dataset.openness]


def treatment(spec: CatalogField) -> str:
    return MASKED if spec.is_personal else AS_IS


def mask_value(spec: CatalogField, value: str) -> str:
    """A personal value as an export may show it.

    >>> from etl.catalog import CatalogField
    >>> mask_value(CatalogField(name="id_no", title="证件号码", type="idcard"), "360426199101010071")
    '3604**********0071'
    >>> mask_value(CatalogField(name="person_name", title="姓名", personal=True), "张三丰")
    '张**'
    """
    if spec.type == "idcard" or value.isascii():
        return idcard.mask(value)
    return value[:1] + "*" * (len(value) - 1)


def header(spec: CatalogField) -> str:
    return spec.code or spec.name


def exported_fields(dataset: Dataset) -> list[CatalogField]:
    coded = [f for f in dataset.fields if f.code]
    return coded or list(dataset.fields)


def export_period(
    warehouse: Warehouse, dataset: Dataset, period: str, out: Path, *, shared: bool = False
) -> ExportReport:
    """Writes the CSV and manifest of ``dataset``'s records of ``period`` under ``out``."""
    if dataset.category not in (*DATED_CATEGORIES, *LIST_CATEGORIES):
        raise UsageError(
            f"dataset {dataset.id} is {dataset.category}: the exchange export covers 双公示 (licensing, "
            "penalty) and red/black list datasets"
        )
    channel = check_openness(dataset, shared=shared)
    start, end = parse_period(period)
    sql = _records_sql(dataset)
    table = dataset_table(dataset)
    with warehouse._session(f"exporting {dataset.id}") as session:
        if not _columns(session, table.name):
            where = warehouse.url.display
            raise WarehouseError(f"no table {table.name} in {where}; run `credit-etl warehouse init`")
        rows = session.rows(sql, {"start": start, "end": end})
    fields = exported_fields(dataset)
    body = [[_cell(spec, value) for spec, value in zip(fields, row, strict=False)] for row in rows]
    deliveries = Counter(row[len(fields)] for row in rows)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{dataset.id}_{start:%Y-%m}"
    csv_path, manifest_path = out / f"{stem}.csv", out / f"{stem}.manifest.json"
    data = _csv_bytes([header(f) for f in fields], body)
    csv_path.write_bytes(data)
    manifest = {
        "dataset": dataset.id,
        "title": dataset.title,
        "category": dataset.category,
        "period": f"{start:%Y-%m}",
        "openness": dataset.openness,
        "channel": channel,
        "file": csv_path.name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "rows": len(body),
        "columns": [
            {"code": header(f), "field": f.name, "title": f.title, "treatment": treatment(f)} for f in fields
        ],
        "deliveries": dict(sorted(deliveries.items())),
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return ExportReport(dataset.id, manifest["period"], len(body), csv_path, manifest_path)


def _records_sql(dataset: Dataset) -> str:
    """The period's records of ``dataset``: its exported fields, then the delivery id."""
    table = dataset_table(dataset)
    if dataset.category in LIST_CATEGORIES:
        spec = dataset.list_spec
        if spec is None:
            raise UsageError(f"dataset {dataset.id} is a list without 'list' dates in the catalog")
        dates = [spec.entry_date_field, spec.exit_date_field]
    else:
        if dataset.sla.publication is None:
            raise UsageError(f"dataset {dataset.id} has no publication date field in the catalog")
        dates = [dataset.sla.publication.from_field]
    within = " OR ".join(
        f"({ident(d)} >= CAST($start AS DATE) AND {ident(d)} < CAST($end AS DATE))" for d in dates
    )
    selected = ", ".join([*(ident(f.name) for f in exported_fields(dataset)), internal_ident("_delivery_id")])
    order = ", ".join(ident(k) for k in table.dedup_key)
    return f"SELECT {selected} FROM {ident(table.name)}\nWHERE {within}\nORDER BY {order}"


def _cell(spec: CatalogField, value: Any) -> str:
    text = cell_text(value)
    if text and spec.is_personal:
        text = mask_value(spec, text)
    return neutralise(text)


def cell_text(value: Any) -> str:
    """A warehouse value as an exchange cell: dates ISO, decimals without trailing zeros."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _csv_bytes(headers: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")
