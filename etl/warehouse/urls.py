"""Warehouse URLs: which backend, where, and how to show the URL without its password.

Accepted forms::

    duckdb:///var/lib/credit/warehouse.duckdb     a DuckDB file (everything after ``duckdb://``)
    /var/lib/credit/warehouse.duckdb              a bare path is a DuckDB file too
    postgresql://user:secret@host:5432/credit     PostgreSQL (also ``postgres://``,
    postgresql+psycopg://user@host/credit         ``postgresql+psycopg://``)
    postgresql://user@host/credit?schema=etl      tables in schema ``etl`` (created by init)

Other query parameters of a PostgreSQL URL (``sslmode``, ``connect_timeout`` …) go to libpq as they are.

>>> url = parse_url("postgresql+psycopg://etl:secret@db.local:5432/credit?schema=t1&sslmode=require")
>>> url.dialect, url.schema, url.conninfo
('postgresql', 't1', 'postgresql://etl:secret@db.local:5432/credit?sslmode=require')
>>> url.display
'postgresql://etl@db.local:5432/credit?schema=t1&sslmode=require'
>>> parse_url("duckdb:///tmp/w.duckdb").path, parse_url("duckdb:////tmp/w.duckdb").display
(PosixPath('/tmp/w.duckdb'), 'duckdb:///tmp/w.duckdb')
>>> parse_url("mysql://x/y")
Traceback (most recent call last):
    ...
etl.errors.WarehouseError: unsupported warehouse URL 'mysql://x/y': ...
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from etl.catalog import SQL_IDENTIFIER
from etl.errors import WarehouseError

POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
# Never shown in messages or logs.
SECRET_PARAMS = ("password", "passfile", "sslpassword")


@dataclass(frozen=True)
class WarehouseUrl:
    dialect: Literal["duckdb", "postgresql"]
    display: str
    path: Path | None = None
    conninfo: str | None = None
    schema: str | None = None


def parse_url(text: str) -> WarehouseUrl:
    """Reads a warehouse URL or a bare DuckDB path; raises ``WarehouseError`` for anything else."""
    text = text.strip()
    if not text:
        raise WarehouseError("empty warehouse URL")
    if "://" not in text:
        return _duckdb(text)
    scheme = text.split("://", 1)[0].lower()
    if scheme == "duckdb":
        return _duckdb(text.split("://", 1)[1])
    if scheme in POSTGRES_SCHEMES:
        return _postgresql(text)
    raise WarehouseError(
        f"unsupported warehouse URL {redact(text)!r}: use duckdb:///path/to/file.duckdb, a bare path, "
        "or postgresql://user@host:port/database"
    )


def _duckdb(path_text: str) -> WarehouseUrl:
    if not path_text or path_text.startswith(":memory:") or path_text == "/:memory:":
        raise WarehouseError("a DuckDB warehouse needs a file path (an in-memory database keeps nothing)")
    # duckdb:///abs and duckdb:////abs (SQLAlchemy's spelling) both name /abs.
    path = Path("/" + path_text.lstrip("/") if path_text.startswith("/") else path_text).expanduser()
    return WarehouseUrl("duckdb", display=f"duckdb://{path}", path=path)


def _postgresql(text: str) -> WarehouseUrl:
    parts = urlsplit(text)
    params = parse_qsl(parts.query, keep_blank_values=True)
    schema = None
    passed = []
    for key, value in params:
        if key == "schema":
            if not SQL_IDENTIFIER.match(value):
                raise WarehouseError(f"schema {value!r} in the warehouse URL is not a safe SQL identifier")
            schema = value
        else:
            passed.append((key, value))
    conninfo = urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(passed), ""))
    return WarehouseUrl("postgresql", display=redact(text), conninfo=conninfo, schema=schema)


def redact(text: str) -> str:
    """The URL without password (in the user part or as a parameter), with the scheme normalised.

    >>> redact("postgres://u:p%40ss@h/db?password=x&application_name=etl")
    'postgresql://u@h/db?application_name=etl'
    """
    if "://" not in text:
        return text
    parts = urlsplit(text)
    if not parts.netloc:
        return text
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        netloc = f"{user.split(':', 1)[0]}@{host}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if k not in SECRET_PARAMS])
    scheme = "postgresql" if parts.scheme.lower() in POSTGRES_SCHEMES else parts.scheme
    return urlunsplit((scheme, netloc, parts.path, query, ""))
