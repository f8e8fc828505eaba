"""Airflow connections read from the environment, compared with Airflow's own parser."""

from __future__ import annotations

import json
import subprocess
import sys
from urllib.parse import quote

import pytest

from etl.errors import SourceError
from etl.sources.connections import env_name, get_connection, parse_connection

URIS = [
    "mysql://etl:s%40cret%2F1@10.0.0.5:3306/exchange?charset=utf8mb4",
    "postgresql://postgres@127.0.0.1:5432/test",
    "postgres://u:p@db.example.org/credit%20db",
    "sftp://credit@10.1.2.3:2222/?__extra__=" + quote(json.dumps({"host_key": "AAAA+/=", "timeout": 10})),
    "sftp://credit:pw@sftp.pbc.example/?host_key=AAAAC3Nz&timeout=30",
    "my-conn-type://h:1",
]


@pytest.mark.parametrize("uri", URIS)
def test_uris_are_read_as_airflow_reads_them(uri):
    from airflow.sdk.definitions.connection import Connection as AirflowConnection

    theirs = AirflowConnection.from_uri(uri, conn_id="x")
    ours = parse_connection("x", uri)
    assert (ours.conn_type, ours.host, ours.port, ours.login, ours.password, ours.schema, ours.extra) == (
        theirs.conn_type, theirs.host or None, theirs.port, theirs.login, theirs.password,
        theirs.schema or None, theirs.extra_dejson,
    )  # fmt: skip


def test_the_json_form_is_read_as_airflow_reads_it():
    from airflow.sdk.definitions.connection import Connection as AirflowConnection

    for extra in ({"host_key": "AAAA"}, json.dumps({"host_key": "AAAA"}), None):
        text = json.dumps({"conn_type": "sftp", "host": "10.0.0.9", "port": "2222", "login": "credit",
                           "password": "pw", "extra": extra})  # fmt: skip
        theirs = AirflowConnection.from_json(text, conn_id="x")
        ours = parse_connection("x", text)
        assert (ours.conn_type, ours.host, ours.port, ours.login, ours.password, ours.extra) == (
            theirs.conn_type, theirs.host, theirs.port, theirs.login, theirs.password, theirs.extra_dejson)


def test_connections_come_from_the_airflow_environment_variable(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_DB_TAX", "mysql://etl:pw@10.0.0.5:3306/exchange")
    assert env_name("db_tax") == "AIRFLOW_CONN_DB_TAX"
    conn = get_connection("db_tax")
    assert conn.host == "10.0.0.5" and conn.password == "pw"
    assert "pw" not in repr(conn) and "pw" not in conn.display


def test_a_missing_or_broken_connection_is_a_clear_error_that_never_shows_the_secret(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_DB_COURT", raising=False)
    with pytest.raises(SourceError, match=r"no Airflow connection 'db_court'.*AIRFLOW_CONN_DB_COURT"):
        get_connection("db_court")
    monkeypatch.setenv("AIRFLOW_CONN_DB_COURT", '{"conn_type": "mysql", "password": "hunter2", "port": "x"}')
    with pytest.raises(SourceError, match="cannot be parsed") as caught:
        get_connection("db_court")
    assert "hunter2" not in str(caught.value)
    monkeypatch.setenv("AIRFLOW_CONN_DB_COURT", "hunter2")
    with pytest.raises(SourceError, match="expected a URI") as caught:
        get_connection("db_court")
    assert "hunter2" not in str(caught.value)


def test_the_sources_never_import_airflow_at_module_level():
    code = (
        "import sys, etl.sources, etl.sources.landing, etl.sources.sftp, etl.sources.database, "
        "etl.sources.connections, etl.cli.fetch_cmd\n"
        "print(sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
