"""A department's database table to pull from, in the real MariaDB or PostgreSQL, for the source and
fault tests: the tax bureau's A-grade taxpayers (``SOURCE``), a table named uniquely per test, and a
pull of a window through ``run_source``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pymysql
from source_deliveries import delivery_of

from etl.catalog import Catalog, SourceRef
from etl.drop import SHANGHAI
from etl.sources import FetchOptions, Window, run_source

SOURCE = "tax_credit_grade_a__tax__database"
SQL_TYPES = {
    "mariadb": {"string": "VARCHAR(500)", "date": "DATE", "decimal": "DECIMAL(20,6)", "integer": "BIGINT",
                "watermark": "DATETIME"},
    "postgresql": {"string": "text", "date": "date", "decimal": "numeric(20,6)", "integer": "bigint",
                   "watermark": "timestamptz"},
}  # fmt: skip


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, second, tzinfo=SHANGHAI)


def tax_rows(demo: tuple[Path, dict]) -> list[dict]:
    """The rows of the synthetic tax bureau export, their watermarks spread over 1-20 November so that
    windows split them."""
    path, _ = delivery_of(demo, SOURCE)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for index, row in enumerate(rows):
        row["updated_at"] = at(1 + index % 20, 9 + index % 8, index % 60).isoformat()
    return rows


class SourceTable:
    """A department table in one of the two databases, named uniquely for the test."""

    def __init__(self, dialect: str, ref: SourceRef) -> None:
        self.dialect = dialect
        self.name = f"src_{uuid.uuid4().hex[:10]}"
        self.fields = [(f.name, "watermark" if f.name == ref.source.watermark else
                        f.type if f.type in ("date", "decimal", "integer") else "string")
                       for f in ref.dataset.fields]  # fmt: skip
        self.uri = ("mysql://root@127.0.0.1:3306/test" if dialect == "mariadb"
                    else "postgres://postgres@127.0.0.1:5432/test")  # fmt: skip
        self.qualified = f"test.{self.name}" if dialect == "mariadb" else f"public.{self.name}"

    def connect(self) -> Any:
        if self.dialect == "mariadb":
            return pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", database="test",
                                   autocommit=True, charset="utf8mb4")  # fmt: skip
        return psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True)

    def execute(self, sql: str, rows: list[tuple] | None = None) -> None:
        with self.connect() as connection, connection.cursor() as cursor:
            if rows is None:
                cursor.execute(sql)
            else:
                cursor.executemany(sql, rows)

    def create(self) -> None:
        types = SQL_TYPES[self.dialect]
        columns = ", ".join(f"{name} {types[kind]}" for name, kind in self.fields)
        self.execute(f"CREATE TABLE {self.name} ({columns})")

    def drop(self) -> None:
        self.execute(f"DROP TABLE IF EXISTS {self.name}")

    def value(self, kind: str, value: Any) -> Any:
        if value is None:
            return None
        if kind == "watermark":
            moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
            moment = moment.astimezone(SHANGHAI)
            return moment.replace(tzinfo=None) if self.dialect == "mariadb" else moment
        return value

    def insert(self, rows: list[dict]) -> None:
        names = [name for name, _ in self.fields]
        values = [tuple(self.value(kind, row[name]) for name, kind in self.fields) for row in rows]
        marks = ", ".join(["%s"] * len(names))
        self.execute(f"INSERT INTO {self.name} ({', '.join(names)}) VALUES ({marks})", values)

    def update(self, key: tuple[str, int], *, authority: str, updated_at: dt.datetime) -> None:
        stamp = self.value("watermark", updated_at)
        with self.connect() as connection, connection.cursor() as cursor:
            cursor.execute(f"UPDATE {self.name} SET authority = %s, updated_at = %s "
                           "WHERE tax_reg_no = %s AND list_year = %s", (authority, stamp, *key))  # fmt: skip
            assert cursor.rowcount == 1


def source_ref(catalog: Catalog, source_table: SourceTable, **changes: Any) -> SourceRef:
    ref = catalog.source(SOURCE)
    update = {"table": source_table.qualified, **changes}
    return dataclasses.replace(ref, source=ref.source.model_copy(update=update))


def pull(ref, catalog, storage, warehouse, since=None, until=None, **options):
    """``run_source`` over the window from ``since`` to ``until`` (without ``until``: no window given),
    16 rows a chunk."""
    window = Window(since, until) if until is not None else None
    options.setdefault("chunk_rows", 16)
    return run_source(ref, catalog=catalog, storage=storage, warehouse=warehouse,
                      options=FetchOptions(window=window, **options))
