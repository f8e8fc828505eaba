"""Secrets never appear in logs, console output, the ledger or any warehouse table, feedback files,
alert messages or any file written.

One test configures a distinctive secret for every kind of connection — the warehouse URL's password,
a database source's password, an SFTP password, DingTalk robot tokens, a webhook's password, the SMTP
password — then runs the paths that log and write with them: a delivery loaded into a PostgreSQL
warehouse whose URL carries the password (trust authentication accepts it), the same warehouse
unreachable, a database pull refused for its password, an SFTP pull with a password (the server
refuses password logins) and one that works by key with a password configured too, and the alert
monitor whose mail, robots and webhook all fail. Everything logged (every logger, DEBUG), everything
printed, every warehouse table and every file under the test's directories is then searched for
each secret, as written and URL-encoded.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from alert_ledger import SOURCES, record, write_catalog
from alert_servers import free_port
from sshd_server import sshd_server
from warehouse_compare import dump

from etl.alerts import AlertDeliveryError
from etl.alerts.run import evaluate_sources, record_alerts, send_alerts
from etl.catalog import load_catalog
from etl.cli import main as cli
from etl.demo_data import generate
from etl.freshness import at
from etl.warehouse import open_warehouse

pytestmark = [pytest.mark.postgres, pytest.mark.mariadb]

SECRETS = {
    "warehouse": "Wh-pass-4c1e9a",
    "database": "Db-pass-7f1c2b",
    "sftp": "Sftp-pass-2b9d0e",
    "dingtalk_scjg": "Ding-token-91e3aa",
    "dingtalk_fgw": "Ding-token-5b77c0",
    "webhook": "Hook-pass-08d4f1",
    "smtp": "Smtp-pass-5d20b3",
}
POSTGRES = "127.0.0.1:5432/test"
PBC = "basic_deposit_account__pbc__sftp"


def leaks(text: str) -> dict[str, str]:
    """The secrets found in ``text``, with a little context each."""
    found = {}
    for name, secret in SECRETS.items():
        for form in {secret, quote(secret, safe="")}:
            at_ = text.find(form)
            if at_ >= 0:
                found[name] = text[max(0, at_ - 80) : at_ + len(form) + 20]
    return found


def files_under(*roots: Path) -> dict[str, str]:
    texts = {}
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                texts[str(path)] = path.read_bytes().decode("utf-8", errors="replace")
    return texts


@pytest.fixture
def schema():
    name = f"sec_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(f"postgresql://postgres@{POSTGRES}", autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def test_no_secret_reaches_a_log_a_table_or_a_file(catalog, schema, tmp_path, monkeypatch, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    storage = tmp_path / "storage"
    demo = tmp_path / "demo"
    manifest = generate(demo, seed=3, rows=40, sources=["admin_penalty__scjg__landing", PBC], catalog=catalog)
    files = {d["source_id"]: demo / d["path"] for d in manifest["deliveries"]}
    warehouse_url = f"postgresql://postgres:{SECRETS['warehouse']}@{POSTGRES}?schema={schema}"
    common = ["--warehouse", warehouse_url, "--storage", str(storage)]

    # A delivery loaded with the password in the warehouse URL, then the warehouse unreachable.
    penalty = ["ingest", str(files["admin_penalty__scjg__landing"]), "--dataset", "admin_penalty",
               "--department", "scjg"]  # fmt: skip
    assert cli([*penalty, "--json", *common]) == 0
    unreachable = warehouse_url.replace(":5432/", f":{free_port()}/")
    assert cli([*penalty, "--warehouse", unreachable, "--storage", str(storage)]) != 0

    # A database source whose password the server refuses.
    monkeypatch.setenv("AIRFLOW_CONN_DB_TAX", f"mysql://root:{SECRETS['database']}@127.0.0.1:3306/test")
    assert cli(["fetch", "--source", "tax_credit_grade_a__tax__database", *common]) != 0

    # SFTP: a password login the server refuses, then a key login with a password configured as well.
    with sshd_server() as sshd:
        conn = json.loads(sshd.connection())
        conn["password"] = SECRETS["sftp"]
        by_key = json.dumps(conn)
        del conn["extra"]["private_key"]
        monkeypatch.setenv("AIRFLOW_CONN_SFTP_PBC", json.dumps(conn))
        assert cli(["fetch", "--source", PBC, "--no-wait", *common]) != 0
        folder = sshd.make_dirs("/credit/jbzh", writable=True)
        sshd.make_dirs("/credit/jbzh/done", writable=True)
        shutil.copy(files[PBC], folder / files[PBC].name)
        (folder / f"{files[PBC].name}.ok").write_bytes(b"")
        monkeypatch.setenv("AIRFLOW_CONN_SFTP_PBC", by_key)
        assert cli(["fetch", "--source", PBC, "--json", *common]) == 0

    # Alerts: mail, robots and webhook all fail; their errors are stored and logged.
    alert_catalog = load_catalog(write_catalog(tmp_path / "alert-catalog"))
    alerts = open_warehouse(f"duckdb:///{tmp_path}/alerts.duckdb")
    alerts.init(alert_catalog)
    record(alerts, SOURCES[0], at(2026, 9, 20))
    record(alerts, SOURCES[1], at(2026, 9, 30, 2), "failed", change=dt.date(2026, 9, 30))
    closed = f"http://127.0.0.1:{free_port()}"
    mail_extra = {"from_email": "m@fgw.example.cn", "disable_tls": True, "disable_ssl": True, "timeout": 2,
                  "retry_limit": 0}  # fmt: skip
    smtp = {"conn_type": "smtp", "host": "127.0.0.1", "port": free_port(), "login": "monitor",
            "password": SECRETS["smtp"], "extra": mail_extra}  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(smtp))
    monkeypatch.delenv("CREDIT_ETL_SMTP_CONN_ID", raising=False)
    for conn_id in ("dingtalk_scjg", "dingtalk_fgw"):
        robot = {"conn_type": "dingding", "host": closed, "password": SECRETS[conn_id]}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(robot))
    hook = {"conn_type": "http", "host": f"{closed}/hook/tax", "login": "credit",
            "password": SECRETS["webhook"], "extra": {"timeout": 2}}  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_WEBHOOK_TAX", json.dumps(hook))
    day = dt.date(2026, 10, 16)
    record_alerts(alert_catalog, alerts, evaluate_sources(alert_catalog, alerts, day), day)
    with pytest.raises(AlertDeliveryError):
        send_alerts(alerts, day)

    # The paths really ran: a load, three refusals, six alert messages that failed and say why.
    printed = capfd.readouterr()
    warehouse = open_warehouse(f"postgresql://postgres@{POSTGRES}?schema={schema}")
    tables = {**dump(warehouse), **{f"alerts.{t}": rows for t, rows in dump(alerts).items()}}
    assert sorted(json.loads(r)["status"] for r in tables["deliveries"]) == [
        "loaded",
        "loaded_with_rejections",
    ]
    for refusal in ("cannot connect to warehouse", "Access denied", "refused the login"):
        assert refusal in printed.err
    assert all(json.loads(r)["error"] for r in tables["alerts.alert_messages"])
    assert len(tables["alerts.alert_messages"]) == 6

    # The search: logs, console, every table, every file written (the DuckDB file included).
    found = {
        "log": leaks(caplog.text),
        "stdout": leaks(printed.out),
        "stderr": leaks(printed.err),
        **{f"table {t}": leaks("\n".join(rows)) for t, rows in tables.items()},
        **{f"file {p}": leaks(text) for p, text in files_under(tmp_path).items()},
    }
    assert {where: hits for where, hits in found.items() if hits} == {}


@pytest.mark.parametrize(
    "value",
    [
        "mysql://root:{secret}@host:99999999/db",
        "mysql://root:{secret}@host:3306x/db",
        "mysql://root:{secret}@[::1/db",
        "mysql://root:{secret}@host/db?__extra__=notjson",
        '{{"conn_type": "mysql", "password": "{secret}", "port": "x"}}',
        '{{"conn_type": "mysql", "password": "{secret}", "extra": "[1]"}}',
    ],
)
def test_a_malformed_connection_is_refused_without_echoing_its_password(value):
    from etl.errors import SourceError
    from etl.sources.connections import parse_connection

    with pytest.raises(SourceError, match="cannot be parsed") as refused:
        parse_connection("db_tax", value.format(secret=SECRETS["database"]))
    assert leaks(str(refused.value)) == {}
