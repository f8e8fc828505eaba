"""What the Airflow DAGs are, derived from the catalog: one ``DagSpec`` per catalog source.

``dags/credit_sources.py`` turns each spec into a DAG and does nothing else, so adding a dataset or a
source to the catalog adds its DAG with no code. This module is what the DAG processor imports at
parse time, so it stays light: the catalog (pyyaml + pydantic) and the standard library, never
pandas, pyarrow, Great Expectations, DuckDB or a database driver, and no connection is opened.

Per source:

- ``dag_id`` is the source id, ``<dataset>__<department>__<method>``;
- files (landing zones, SFTP) are polled on the source's cron (by default several times a working
  day) with a trigger timetable; database pulls run on a data-interval timetable, so each run pulls
  ``[data_interval_start, data_interval_end)`` and a backfill of a past range pulls exactly it;
- all times are Asia/Shanghai;
- tasks retry with exponential back-off; tasks that write an embedded DuckDB warehouse share the
  one-slot pool ``duckdb_warehouse`` (DuckDB allows one writing process), a PostgreSQL warehouse
  needs no pool;
- tags name the department, the key domain, the delivery method and the dataset;
- ``doc_md`` says what the dataset is, who delivers it and how, and its SLA;
- a successful run that loaded rows updates the dataset's Asset, ``credit://warehouse/<table>``,
  which downstream DAGs (subject profiles, reports) schedule on: ``dataset_assets`` lists them.

>>> from etl.catalog import load_catalog
>>> specs = {s.dag_id: s for s in specs_for(load_catalog(), pool=WAREHOUSE_POOL)}
>>> spec = specs["tax_credit_grade_a__tax__database"]
>>> spec.cron, spec.data_interval, spec.pool, spec.asset_uri
('0 2 * * *', True, 'duckdb_warehouse', 'credit://warehouse/tax_credit_grade_a')
>>> spec.tags
('department:tax', 'domain:纳税', 'method:database', 'dataset:tax_credit_grade_a')
>>> specs["admin_penalty__scjg__landing"].data_interval
False
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from etl.catalog import Catalog, Dataset, SourceRef, load_catalog

TIMEZONE = "Asia/Shanghai"
# Runs before this are never scheduled; `airflow backfill create` may still go back further.
START_DATE = dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
WAREHOUSE_POOL = "duckdb_warehouse"
ASSET_SCHEME = "credit"
OWNER = "credit-etl"

RETRIES = 3
# `make demo` runs each DAG once and reports a failure instead of waiting out the back-off.
RETRIES_ENV = "CREDIT_ETL_DAG_RETRIES"
RETRY_DELAY = dt.timedelta(minutes=2)
MAX_RETRY_DELAY = dt.timedelta(minutes=30)

METHOD_TEXT = {"landing": "落地目录", "sftp": "SFTP", "database": "数据库抽取"}
CATEGORY_TEXT = {
    "basic": "基础信息", "licensing": "行政许可", "penalty": "行政处罚", "red_list": "红名单",
    "black_list": "黑名单", "other": "其他",
}  # fmt: skip


@dataclass(frozen=True)
class DagSpec:
    """Everything a DAG file needs to build one source's DAG, as plain values."""

    dag_id: str
    source_id: str
    dataset: str
    department: str
    method: str
    cron: str
    data_interval: bool  # True: CronDataIntervalTimetable (pulls); False: CronTriggerTimetable (polls)
    timezone: str
    start_date: dt.datetime
    tags: tuple[str, ...]
    doc_md: str
    retries: int
    retry_delay: dt.timedelta
    max_retry_delay: dt.timedelta
    pool: str | None
    asset_uri: str

    @property
    def default_args(self) -> dict[str, object]:
        return dag_default_args(self.retries, self.retry_delay, self.max_retry_delay)


def dag_default_args(
    retries: int | None = None,
    retry_delay: dt.timedelta = RETRY_DELAY,
    max_retry_delay: dt.timedelta = MAX_RETRY_DELAY,
) -> dict[str, object]:
    """``default_args`` of every credit-etl DAG: our owner, retries with exponential back-off.

    ``retries`` defaults to ``CREDIT_ETL_DAG_RETRIES`` (``make demo`` sets 0), else 3.

    >>> dag_default_args(1)["retries"], dag_default_args(1)["retry_exponential_backoff"]
    (1, True)
    """
    if retries is None:
        retries = int(os.environ.get(RETRIES_ENV) or RETRIES)
    return {
        "owner": OWNER,
        "retries": retries,
        "retry_delay": retry_delay,
        "retry_exponential_backoff": True,
        "max_retry_delay": max_retry_delay,
    }


def asset_uri(table: str) -> str:
    """The Airflow Asset a dataset's warehouse table stands for.

    >>> asset_uri("admin_penalty")
    'credit://warehouse/admin_penalty'
    """
    return f"{ASSET_SCHEME}://warehouse/{table}"


def dataset_assets(catalog: Catalog) -> dict[str, str]:
    """Dataset id -> Asset URI, for DAGs scheduled on loaded data (``schedule=[Asset(uri), …]``)."""
    return {dataset.id: asset_uri(dataset.table) for dataset in catalog.datasets.values()}


def warehouse_pool(url: str) -> str | None:
    """The pool for tasks that write the warehouse at ``url``: one slot for DuckDB, none for PostgreSQL.

    Decided from the URL's scheme alone: parsing a DAG file never opens the warehouse.

    >>> warehouse_pool("duckdb:///var/credit/warehouse.duckdb"), warehouse_pool("/tmp/w.duckdb")
    ('duckdb_warehouse', 'duckdb_warehouse')
    >>> warehouse_pool("postgresql+psycopg://etl@db:5432/credit") is None
    True
    """
    from etl.warehouse.urls import POSTGRES_SCHEMES

    scheme = url.strip().split("://", 1)[0].lower() if "://" in url else ""
    return None if scheme in POSTGRES_SCHEMES else WAREHOUSE_POOL


def warehouse_task_args(url: str) -> dict[str, str]:
    """``@task`` arguments for a task that opens the warehouse at ``url`` (reading DuckDB needs the
    file as much as writing does): its pool, or nothing for PostgreSQL.

    >>> warehouse_task_args("duckdb:///w.duckdb"), warehouse_task_args("postgresql://db/credit")
    ({'pool': 'duckdb_warehouse'}, {})
    """
    pool = warehouse_pool(url)
    return {"pool": pool} if pool else {}


def tags(ref: SourceRef, catalog: Catalog) -> tuple[str, ...]:
    return (
        f"department:{ref.source.department}",
        f"domain:{catalog.domain_of(ref)}",
        f"method:{ref.source.method}",
        f"dataset:{ref.dataset.id}",
    )


def spec_for(ref: SourceRef, catalog: Catalog, *, pool: str | None, retries: int = RETRIES) -> DagSpec:
    source = ref.source
    return DagSpec(
        dag_id=ref.id,
        source_id=ref.id,
        dataset=ref.dataset.id,
        department=source.department,
        method=source.method,
        cron=source.cron,
        data_interval=source.method == "database",
        timezone=TIMEZONE,
        start_date=START_DATE,
        tags=tags(ref, catalog),
        doc_md=doc_md(ref, catalog),
        retries=retries,
        retry_delay=RETRY_DELAY,
        max_retry_delay=MAX_RETRY_DELAY,
        pool=pool,
        asset_uri=asset_uri(ref.dataset.table),
    )


def specs_for(catalog: Catalog, *, pool: str | None, retries: int = RETRIES) -> list[DagSpec]:
    return [spec_for(ref, catalog, pool=pool, retries=retries) for ref in catalog.sources()]


# The DAG processor may parse the file more than once in one process: the catalog is read once per
# directory state (the names, sizes and mtimes of its YAML files).
_CACHE: dict[tuple[str, tuple[tuple[str, int, int], ...], str | None, int], list[DagSpec]] = {}


def dag_specs(catalog_dir: Path | str | None = None, warehouse_url: str | None = None) -> list[DagSpec]:
    """The specs of the catalog at ``catalog_dir`` (default ``CREDIT_ETL_CATALOG`` or the project's),
    with the pool that suits ``warehouse_url`` (default ``CREDIT_ETL_WAREHOUSE``) and the retries in
    ``CREDIT_ETL_DAG_RETRIES`` (default 3)."""
    from etl import settings

    root = Path(catalog_dir) if catalog_dir is not None else settings.catalog_dir()
    url = warehouse_url if warehouse_url is not None else settings.warehouse_url()
    pool = warehouse_pool(url)
    retries = int(os.environ.get(RETRIES_ENV) or RETRIES)
    key = (str(root.resolve()), _signature(root), pool, retries)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = specs_for(load_catalog(root), pool=pool, retries=retries)
    return _CACHE[key]


def _signature(root: Path) -> tuple[tuple[str, int, int], ...]:
    entries = []
    for path in sorted(root.rglob("*.yaml")) if root.is_dir() else []:
        info = os.stat(path)
        entries.append((str(path.relative_to(root)), info.st_size, info.st_mtime_ns))
    return tuple(entries)


# ---------------------------------------------------------------------------------------------------
# doc_md


def doc_md(ref: SourceRef, catalog: Catalog) -> str:
    """The DAG's documentation page: the dataset, who delivers it and how, its SLA and where it goes."""
    dataset, source = ref.dataset, ref.source
    department = catalog.departments[source.department]
    lines = [
        f"# {dataset.title}（{department.short_name}，{METHOD_TEXT[source.method]}）",
        "",
        dataset.description.strip() or dataset.title,
        "",
        f"- 数据集：`{dataset.id}`，{CATEGORY_TEXT[dataset.category]}，重点领域：{catalog.domain_of(ref)}，"
        f"{dataset.openness}",
        f"- 信息主体：{'、'.join(dataset.subject_types)}",
        f"- 提供单位：{department.name}（`{department.id}`）",
        f"- 报送方式：{_delivery_text(ref)}",
        f"- 调度：`{source.cron}`（{TIMEZONE}）{_schedule_text(source.method)}",
        f"- 时效要求：{sla_text(dataset)}",
        f"- 入库表：`{dataset.table}`（去重键：{', '.join(dataset.dedup_key)}）；"
        f"有数据入库时更新 Asset `{asset_uri(dataset.table)}`",
        "",
        "任务：发现报送（discover）→ 逐个处理（process，动态映射）→ 记录（record）→ 发布 Asset（publish）。",
    ]
    return "\n".join(lines) + "\n"


def _delivery_text(ref: SourceRef) -> str:
    dataset, source = ref.dataset, ref.source
    formats = "/".join(dataset.source_formats(source))
    marker = f"，以 `{source.complete_marker}` 标记文件表示报送完成" if source.complete_marker else ""
    if source.method == "landing":
        return f"落地目录 `{dataset.landing_directory(source)}/incoming/`（{formats}）{marker}"
    if source.method == "sftp":
        archive = f"，处理后移至 `{source.archive_path}`" if source.archive_path else ""
        return f"SFTP 连接 `{source.conn_id}`，路径 `{source.remote_path}`（{formats}）{marker}{archive}"
    relation = f"表 `{source.table}`" if source.table else "查询（见目录）"
    return f"数据库连接 `{source.conn_id}`，{relation}，按 `{source.watermark}` 增量抽取"


def _schedule_text(method: str) -> str:
    if method == "database":
        return ("，每次运行抽取其数据区间内变更的记录；手动触发时可在 conf 中指定 "
                '`{"since": "2026-01-01", "until": "2026-11-01"}`（since 为空即从头全量抽取）')
    return "，每次运行领取已完整到达的文件"


def sla_text(dataset: Dataset) -> str:
    """The dataset's freshness rules in words.

    >>> from etl.catalog import load_catalog
    >>> sla_text(load_catalog().datasets["admin_penalty"])
    '每半月至少报送一次；变更后 5 个工作日内报送；自处罚决定日期（decision_date）起 7 个工作日内公示'
    """
    sla = dataset.sla
    parts = []
    if sla.twice_monthly:
        parts.append("每半月至少报送一次")
    if sla.within_working_days_of_change is not None:
        parts.append(f"变更后 {sla.within_working_days_of_change} 个工作日内报送")
    if sla.publication is not None:
        publication = sla.publication
        title = dataset.field(publication.from_field).title
        parts.append(f"自{title}（{publication.from_field}）起 {publication.working_days} 个工作日内公示")
    return "；".join(parts)
