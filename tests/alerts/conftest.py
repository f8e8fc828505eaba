"""Fixtures: a fresh warehouse per test on each backend, a real SMTP server on loopback (aiosmtpd)
and a local HTTP server standing in for DingTalk robots and webhooks; the Airflow connections to
them are set in the environment, as Airflow hands them to a task."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alert_ledger import write_catalog
from alert_servers import LocalSmtpServer, RobotServer, smtp_connection


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalSmtpServer]:
    with LocalSmtpServer() as server:
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_connection(server.port))
        monkeypatch.delenv("CREDIT_ETL_SMTP_CONN_ID", raising=False)
        yield server


@pytest.fixture
def robots(monkeypatch: pytest.MonkeyPatch) -> Iterator[RobotServer]:
    with RobotServer() as server:
        for conn_id, variable in server.connections().items():
            monkeypatch.setenv(conn_id, variable)
        yield server


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_catalog(tmp_path_factory.mktemp("catalog"))
