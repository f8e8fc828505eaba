"""Airflow connections, resolved without importing Airflow: host, port, login, password, extra.

Airflow hands connections to tasks (and any process) as environment variables
``AIRFLOW_CONN_<CONN ID IN UPPER CASE>`` holding either a URI or, as Airflow 3 also accepts, a JSON
object; reading that form here means the same code finds ``db_tax`` in a DAG task, from the command
line and in the tests. Inside a running Airflow task a connection that is not in the environment is
asked of Airflow itself (``airflow.sdk.Connection.get``: the metadata database or a secrets backend).

>>> conn = parse_connection("db_tax", "mysql://etl:s%40cret@10.0.0.5:3306/exchange?charset=utf8mb4")
>>> (conn.conn_type, conn.host, conn.port, conn.login, conn.password, conn.schema, conn.extra)
('mysql', '10.0.0.5', 3306, 'etl', 's@cret', 'exchange', {'charset': 'utf8mb4'})
>>> conn
Connection(db_tax: mysql://etl@10.0.0.5:3306/exchange)
>>> parse_connection("sftp_pbc", '{"conn_type": "sftp", "host": "10.0.0.9", "port": "2222", '
...                  '"login": "credit", "extra": {"host_key": "AAAA"}}').extra
{'host_key': 'AAAA'}
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from etl.errors import SourceError

ENV_PREFIX = "AIRFLOW_CONN_"
# Airflow's URI form may carry the whole extra as JSON in this query parameter.
EXTRA_KEY = "__extra__"


@dataclass(frozen=True)
class Connection:
    """What a source needs from an Airflow connection; the password never appears in its repr."""

    conn_id: str
    conn_type: str
    host: str | None = None
    port: int | None = None
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    schema: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Connection({self.conn_id}: {self.display})"

    @property
    def display(self) -> str:
        """Where it points, for messages: never the password."""
        user = f"{self.login}@" if self.login else ""
        port = f":{self.port}" if self.port else ""
        schema = f"/{self.schema}" if self.schema else ""
        return f"{self.conn_type}://{user}{self.host or ''}{port}{schema}"


def env_name(conn_id: str) -> str:
    """``db_tax`` → ``AIRFLOW_CONN_DB_TAX``, as Airflow names it."""
    return f"{ENV_PREFIX}{conn_id.upper()}"


def get_connection(conn_id: str) -> Connection:
    """The connection ``conn_id`` from the environment, else from Airflow when inside a task."""
    value = os.environ.get(env_name(conn_id))
    if value is not None:
        return parse_connection(conn_id, value)
    if _inside_airflow_task():
        return _from_airflow(conn_id)
    raise SourceError(
        f"no Airflow connection {conn_id!r}: define it in Airflow, or set {env_name(conn_id)} "
        "to its URI or JSON form"
    )


def parse_connection(conn_id: str, value: str) -> Connection:
    """Parses Airflow's URI or JSON form of a connection; raises ``SourceError`` naming the id."""
    text = value.strip()
    try:
        return _from_json(conn_id, text) if text.startswith("{") else _from_uri(conn_id, text)
    except (ValueError, TypeError) as exc:
        # The value holds the password: say what is wrong, never echo it.
        raise SourceError(f"connection {conn_id!r} ({env_name(conn_id)}) cannot be parsed: {exc}") from None


def _normalise_type(conn_type: str) -> str:
    return "postgres" if conn_type == "postgresql" else conn_type.replace("-", "_")


def _extra(value: Any) -> dict[str, Any]:
    if value in (None, ""):
        return {}
    parsed = json.loads(value) if isinstance(value, str) else value
    if not isinstance(parsed, dict):
        raise ValueError("'extra' must be a JSON object")
    return parsed


def _from_json(conn_id: str, text: str) -> Connection:
    raw = json.loads(text)
    if not isinstance(raw, dict):
        raise ValueError("the JSON form must be an object")
    port = raw.get("port")
    return Connection(
        conn_id=conn_id,
        conn_type=_normalise_type(str(raw.get("conn_type") or "")),
        host=raw.get("host") or None,
        port=int(port) if port not in (None, "") else None,
        login=raw.get("login") or None,
        password=raw.get("password") or None,
        schema=raw.get("schema") or None,
        extra=_extra(raw.get("extra")),
    )


def _from_uri(conn_id: str, text: str) -> Connection:
    parts = urlsplit(text)
    if not parts.scheme or "://" not in text:
        raise ValueError("expected a URI such as mysql://user:password@host:3306/database")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    extra = _extra(query[EXTRA_KEY]) if EXTRA_KEY in query else query
    return Connection(
        conn_id=conn_id,
        conn_type=_normalise_type(parts.scheme),
        host=unquote(parts.hostname) if parts.hostname else None,
        port=parts.port,
        login=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        schema=unquote(parts.path[1:]) if parts.path[1:] else None,
        extra=extra,
    )


def _inside_airflow_task() -> bool:
    """A task started by Airflow's task runner can ask its supervisor for connections."""
    runner = sys.modules.get("airflow.sdk.execution_time.task_runner")
    return runner is not None and getattr(runner, "SUPERVISOR_COMMS", None) is not None


def _from_airflow(conn_id: str) -> Connection:
    from airflow.sdk import Connection as AirflowConnection

    try:
        found = AirflowConnection.get(conn_id)
    except Exception as exc:  # Airflow raises its own types; the message says which id is missing
        raise SourceError(f"Airflow has no connection {conn_id!r}: {exc}") from None
    return Connection(
        conn_id=conn_id,
        conn_type=_normalise_type(found.conn_type or ""),
        host=found.host or None,
        port=found.port,
        login=found.login or None,
        password=found.password or None,
        schema=found.schema or None,
        extra=dict(found.extra_dejson),
    )
