"""The numbered SQL migrations in ``sql/migrations``, applied in order by ``warehouse init``.

A migration is ``NNNN_name.sql`` written in SQL both DuckDB and PostgreSQL accept, or, where they
differ, a pair ``NNNN_name.duckdb.sql`` and ``NNNN_name.postgresql.sql``. Each one applied is
recorded in ``schema_migrations`` with the sha256 of its text; a recorded migration whose file has
changed since is an error (write a new migration instead of editing an applied one).

>>> [m.version for m in discover(MIGRATIONS_DIR, "duckdb")][:1]
['0001']
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from etl.errors import WarehouseError
from etl.settings import PROJECT_ROOT

MIGRATIONS_DIR = PROJECT_ROOT / "sql" / "migrations"
DIALECT_NAMES = ("duckdb", "postgresql")
_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)(?:\.(?P<dialect>[a-z]+))?\.sql$")

# Created before any migration runs: it is how init knows what has run.
SCHEMA_MIGRATIONS_DDL = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    VARCHAR PRIMARY KEY,
    name       VARCHAR NOT NULL,
    checksum   VARCHAR NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL
)
"""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def discover(directory: Path, dialect: str) -> list[Migration]:
    """The migrations for ``dialect`` in version order; raises on a malformed or incomplete set."""
    by_version: dict[str, dict[str | None, Path]] = {}
    names: dict[str, str] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if not match or (match["dialect"] and match["dialect"] not in DIALECT_NAMES):
            raise WarehouseError(
                f"{path}: migration files are named NNNN_name.sql or NNNN_name.<duckdb|postgresql>.sql"
            )
        version, name = match["version"], match["name"]
        if names.setdefault(version, name) != name:
            raise WarehouseError(f"{directory}: migration {version} has two names ({names[version]}, {name})")
        by_version.setdefault(version, {})[match["dialect"]] = path
    migrations = []
    for version, files in sorted(by_version.items()):
        if None in files and len(files) > 1:
            raise WarehouseError(f"{directory}: migration {version} has both a shared and a per-dialect file")
        missing = [d for d in DIALECT_NAMES if None not in files and d not in files]
        if missing:
            # Checked for every dialect: a half pair breaks the other backend's next init.
            raise WarehouseError(f"{directory}: migration {version} has no file for {', '.join(missing)}")
        path = files.get(None) or files[dialect]
        migrations.append(Migration(version, names[version], path))
    return migrations
