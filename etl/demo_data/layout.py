"""Where each delivery goes and how it is written, laid out the way the sources expect them.

Under the output directory::

    landing/<landing directory of the source>/incoming/<file>       landing-zone sources
    sftp/<department>/<remote directory>/<file matching the glob>   SFTP sources
    (+ <file><marker>, e.g. admin_penalty_20261127.csv.ok, beside any file whose source waits for a
    completion marker)
    database/<source id>.jsonl                                      database sources: the table's rows
    answer_keys/<the delivery's path>.csv                           one answer key per delivery
    manifest.json                                                   seed, scale, rates, every delivery

Answer keys live in their own tree so a pipeline polling ``incoming/`` never picks them up.

Formats and encodings rotate deterministically over the file deliveries in catalog order (CSV in
UTF-8 with BOM, GBK and UTF-8; XLSX; JSON), within what each source declares. Headers are mostly
the catalog titles, every third delivery uses aliases for some columns, and the environment
bureau's penalty export uses the national column codes (CF_WSH …). Workbooks add "（必填）" to
required headers below a merged title row.
"""

from __future__ import annotations

import fnmatch
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath

import numpy as np

from etl.catalog import Catalog, CatalogField, Department, SourceRef
from etl.demo_data.render import EXCEL_DATES, TEXT_DATE_STYLES
from etl.demo_data.settings import FILE_DATE, LAST_DAY
from etl.errors import UsageError

FILE_FORMATS = ("csv", "xlsx", "json", "parquet")
CSV_ENCODINGS = ("utf-8-sig", "gbk", "utf-8")
REQUIRED_SUFFIX = "（必填）"
FIRST_DATA_ROW = {"csv": 2, "xlsx": 3, "json": 1, "parquet": 1, "jsonl": 1}
ROW_NUMBERING = {
    "csv": "row as a clerk sees it: the header line is row 1, the first record row 2",
    "xlsx": "sheet row: the title is row 1, the header row 2, the first record row 3",
    "json": "1-based index of the record in the array",
    "parquet": "1-based index of the record",
    "jsonl": "1-based line number (one record per line, no header)",
}


@dataclass(frozen=True)
class DeliveryPlan:
    """One delivery to generate: a source, its file format and the way its department writes."""

    ref: SourceRef
    department: Department
    format: str  # csv, xlsx, json, parquet, or jsonl for database tables
    encoding: str
    header_style: str  # title, alias, code, or canonical (database columns)
    date_style: str
    path: str  # relative to the output directory, POSIX separators
    marker: str | None
    title: str

    @property
    def answer_key(self) -> str:
        return f"answer_keys/{self.path}.csv"

    @property
    def first_data_row(self) -> int:
        return FIRST_DATA_ROW[self.format]

    @property
    def target(self) -> str:
        return {"jsonl": "database", "xlsx": "xlsx"}.get(self.format, "text")


def plan_deliveries(catalog: Catalog, file_format: str | None = None) -> list[DeliveryPlan]:
    """One plan per source of the catalog, in catalog order; rotation is over the whole catalog,
    so filtering datasets afterwards leaves every other delivery unchanged."""
    plans: list[DeliveryPlan] = []
    files = csvs = 0
    for ref in catalog.sources():
        department = catalog.departments[ref.source.department]
        if ref.source.method == "database":
            plans.append(_database_plan(ref, department))
            continue
        fmt = _file_format(ref, files, file_format)
        encoding = "utf-8"
        if fmt == "csv":
            encoding = CSV_ENCODINGS[csvs % len(CSV_ENCODINGS)]
            csvs += 1
        plans.append(_file_plan(ref, department, fmt, encoding, files))
        files += 1
    return plans


def _database_plan(ref: SourceRef, department: Department) -> DeliveryPlan:
    return DeliveryPlan(
        ref,
        department,
        "jsonl",
        "utf-8",
        "canonical",
        "iso",
        f"database/{ref.id}.jsonl",
        None,
        ref.dataset.title,
    )


def _file_plan(ref: SourceRef, department: Department, fmt: str, encoding: str, k: int) -> DeliveryPlan:
    source, dataset = ref.source, ref.dataset
    if source.method == "sftp" and dataset.category == "penalty":
        header_style = "code"
    else:
        header_style = "alias" if k % 3 == 1 else "title"
    date_style = TEXT_DATE_STYLES[k % len(TEXT_DATE_STYLES)]
    if fmt == "xlsx" and k % 2 == 0:
        date_style = EXCEL_DATES
    if source.method == "sftp":
        assert source.remote_path is not None  # the catalog requires it for sftp sources
        remote = PurePosixPath(source.remote_path)
        name = _file_name_for_glob(remote.name, dataset.id)
        path = f"sftp/{source.department}/{remote.parent.as_posix().strip('/')}/{name}".replace("//", "/")
    else:
        name = f"{dataset.title}_{department.short_name}_{FILE_DATE}.{fmt}"
        path = f"landing/{dataset.landing_directory(source)}/incoming/{name}"
    marker = f"{path}{source.complete_marker}" if source.complete_marker else None
    title = f"{department.name}{dataset.title}（{LAST_DAY.year}年{LAST_DAY.month}月）"
    return DeliveryPlan(ref, department, fmt, encoding, header_style, date_style, path, marker, title)


def _file_format(ref: SourceRef, k: int, override: str | None) -> str:
    formats = [f for f in ref.dataset.source_formats(ref.source) if f in FILE_FORMATS]
    if ref.source.method == "sftp" and ref.source.remote_path:
        suffix = PurePosixPath(ref.source.remote_path).suffix.lstrip(".").lower()
        if suffix in FILE_FORMATS:
            return suffix  # the glob decides: a *.csv directory only ever holds CSV
    if override is not None:
        return override
    if not formats:
        raise UsageError(f"source {ref.id} declares no file format the generator can write")
    return formats[k % len(formats)]


def _file_name_for_glob(pattern: str, dataset_id: str) -> str:
    """A file name the source's glob matches: ``*.csv`` → ``admin_penalty_20261127.csv``."""
    stem = f"{dataset_id}_{FILE_DATE}" if pattern.startswith("*") else FILE_DATE
    name = pattern.replace("*", stem, 1).replace("*", "").replace("?", "0")
    if not fnmatch.fnmatchcase(name, pattern):
        raise UsageError(f"cannot make a file name that matches the remote path glob {pattern!r}")
    return name


def headers(plan: DeliveryPlan) -> list[str]:
    """The header of each field as this department writes it."""
    fields = plan.ref.dataset.fields
    if plan.header_style == "canonical":
        return [f.name for f in fields]
    rng = np.random.default_rng(zlib.crc32(plan.ref.id.encode()))
    out = []
    for f in fields:
        header = _header(f, plan.header_style, rng)
        if plan.format == "xlsx" and plan.header_style != "code" and f.required:
            header += REQUIRED_SUFFIX
        out.append(header)
    return out


def _header(spec: CatalogField, style: str, rng: np.random.Generator) -> str:
    if style == "code" and spec.code:
        return spec.code
    if style == "alias" and spec.aliases and rng.random() < 0.5:
        return spec.aliases[int(rng.integers(len(spec.aliases)))]
    return spec.title
