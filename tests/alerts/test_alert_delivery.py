"""Alerts end to end: ledger rows in a real warehouse, the monitor's record and send steps, a real
SMTP server on loopback and a local HTTP server as the DingTalk robots and the tax webhook.

The ledger (admin_penalty; escalation after 3 working days):

- scjg (landing; mail and robot ``dingtalk_scjg``): loaded 09-20, then a file rejected on 10-14
  whose reason quotes an identity number; nothing in 10-01..10-15 -> breached from 10-16.
- tax (database; mail and webhook ``webhook_tax``): the pull of 09-30 failed; its change was due
  10-13 -> 3 working days late on 10-16: escalated, which also goes to the 发改委's robot.
- jt (landing; mail only): loaded 10-09 -> ok, told nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from alert_ledger import FGW, SCJG, SOURCES, TAX, record
from alert_servers import WEBHOOK_PATH, LocalSmtpServer, RobotServer, free_port

from etl.alerts import AlertDeliveryError
from etl.alerts.run import evaluate_sources, record_alerts, send_alerts
from etl.alerts.store import read_alerts, read_messages, read_notices
from etl.catalog import Catalog, load_catalog
from etl.cli import main as cli
from etl.freshness import at
from etl.warehouse import open_warehouse
from etl.warehouse.base import Warehouse

D = dt.date
ID_NUMBER = "360426199101010071"


@pytest.fixture(scope="module")
def catalog(catalog_dir: Path) -> Catalog:
    catalog = load_catalog(catalog_dir)
    assert [ref.id for ref in catalog.sources()] == [SOURCES[0], SOURCES[2], SOURCES[1]]
    return catalog


@pytest.fixture
def warehouse(warehouse_url: str, catalog: Catalog) -> Warehouse:
    warehouse = open_warehouse(warehouse_url)
    warehouse.init(catalog)
    record(warehouse, SOURCES[0], at(2026, 9, 20))
    record(warehouse, SOURCES[0], at(2026, 10, 14), "rejected",
           error=f"缺少必填列“处罚决定日期”；第3行证件号码{ID_NUMBER}无法识别")  # fmt: skip
    record(warehouse, SOURCES[1], at(2026, 9, 20, 2), change=D(2026, 9, 19))
    record(warehouse, SOURCES[1], at(2026, 9, 30, 2), "failed", change=D(2026, 9, 30))
    record(warehouse, SOURCES[2], at(2026, 9, 20))
    record(warehouse, SOURCES[2], at(2026, 10, 9))
    return warehouse


def monitor(catalog: Catalog, warehouse: Warehouse, day: D):
    sources = evaluate_sources(catalog, warehouse, day)
    recorded = record_alerts(catalog, warehouse, sources, day)
    return recorded, send_alerts(warehouse, day)


def test_breaches_reach_departments_by_mail_and_robot_once_a_day_and_recoveries_follow(
    catalog: Catalog, warehouse: Warehouse, smtp_server: LocalSmtpServer, robots: RobotServer
) -> None:
    recorded, report = monitor(catalog, warehouse, D(2026, 10, 16))
    assert sorted((n.kind, n.breach_id) for n in recorded.plan.notices) == [
        ("breach", "admin_penalty__scjg__landing:twice_monthly:2026-10-H1"),
        ("breach", "admin_penalty__tax__database:twice_monthly:2026-10-H1"),
        ("escalation", "admin_penalty__tax__database:change:2026-09-30"),
    ]
    assert len(report.sent) == 5  # scjg mail + robot, tax mail + webhook, 发改委 robot

    # Mail: the department's contacts, a copy to the coordinator, in Chinese.
    mails = {m.recipients[0]: m for m in smtp_server.mails}
    assert sorted(mails) == [TAX, SCJG]
    scjg = mails[SCJG]
    assert scjg.recipients == (SCJG, FGW) and scjg.message["CC"] == FGW
    assert scjg.sender == "credit-monitor@fgw.liuzhou.example.cn"
    assert scjg.subject == "【超期提醒】市市场监管局公共信用信息报送：超期1项"
    body = scjg.html
    expected = (
        "柳州市市场监督管理局：", "已超期：行政处罚信息",
        "2026年10月上半月（10月1日至15日），截止2026年10月15日",
        "自2026年10月16日起超期，已超期1个工作日", "2026年10月14日 10:00，整体退回，未入库",
        "请按平台返回的反馈文件逐行修改后重新报送", "3604**********0071",
    )  # fmt: skip
    for text in expected:
        assert text in body, text
    assert ID_NUMBER not in body
    tax = mails[TAX]
    assert tax.subject == "【升级督办】市税务局公共信用信息报送：超期2项"
    assert tax.recipients == (TAX, FGW)
    assert "2026年9月30日的数据变更应在5个工作日内（2026年10月13日前）入库" in tax.html
    assert "已升级至市发改委督办，请立即处理" in tax.html

    # DingTalk: the department's robot and, for the escalation, the coordinator's.
    (scjg_post,) = robots.posts(token="token-scjg")
    assert scjg_post["msgtype"] == "markdown"
    assert scjg_post["markdown"]["title"] == scjg.subject
    assert "#### 已超期：行政处罚信息" in scjg_post["markdown"]["text"]
    assert ID_NUMBER not in str(robots.received)
    (fgw_post,) = robots.posts(token="token-fgw")
    assert fgw_post["markdown"]["title"] == "【升级督办】公共信用信息报送超期1项"
    assert "国家税务总局柳州市税务局" in fgw_post["markdown"]["text"]
    (webhook,) = robots.posts(path=WEBHOOK_PATH)
    assert webhook["department"] == "tax" and webhook["subject"] == tax.subject
    assert sorted(i["kind"] for i in webhook["items"]) == ["breach", "escalation"]

    # A second run the same day adds nothing and sends nothing.
    recorded, report = monitor(catalog, warehouse, D(2026, 10, 16))
    assert recorded.plan.notices == () and report.sent == []
    assert len(smtp_server.mails) == 2  # the two mails of the first run

    # Both departments deliver on 10-19; the next morning brings the recovery notices.
    record(warehouse, SOURCES[0], at(2026, 10, 19, 10))
    record(warehouse, SOURCES[1], at(2026, 10, 19, 11), change=D(2026, 10, 19))
    recorded, report = monitor(catalog, warehouse, D(2026, 10, 20))
    assert sorted(n.kind for n in recorded.plan.notices) == ["recovery", "recovery", "recovery"]
    recoveries = {m.recipients[0]: m for m in smtp_server.mails[2:]}
    assert recoveries[TAX].subject == "【恢复通知】市税务局公共信用信息报送：已恢复2项"
    assert "已于2026年10月19日收到并成功入库" in recoveries[SCJG].html
    assert all(not row.is_open for row in read_alerts(warehouse))
    notices = [(kind, day) for _, day, kind, _ in read_notices(warehouse)]
    assert notices.count(("recovery", D(2026, 10, 20))) == 3


def test_a_failed_send_stays_unsent_without_secrets_and_a_retry_sends_only_it(
    catalog: Catalog, warehouse: Warehouse, smtp_server: LocalSmtpServer, robots: RobotServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    # The scjg robot is unreachable, the coordinator's answers with an error code.
    closed_port = f"http://127.0.0.1:{free_port()}"
    unreachable = {"conn_type": "dingding", "host": closed_port, "password": "token-scjg"}
    monkeypatch.setenv("AIRFLOW_CONN_DINGTALK_SCJG", json.dumps(unreachable))
    robots.failing_tokens.add("token-fgw")
    with pytest.raises(AlertDeliveryError, match="2 of 5 alert message"):
        monitor(catalog, warehouse, D(2026, 10, 16))
    stored = read_messages(warehouse, D(2026, 10, 16))
    failed = {
        (m["message"].channel, m["message"].department): m["error"] for m in stored if m["sent_at"] is None
    }
    assert sorted(failed) == [("dingtalk", "fgw"), ("dingtalk", "scjg")]
    assert "access_token=***" in failed[("dingtalk", "scjg")]
    assert "token-scjg" not in failed[("dingtalk", "scjg")]
    assert "310000" in failed[("dingtalk", "fgw")]
    assert len(smtp_server.mails) == 2

    # The robots are fixed; the retry (as Airflow retries the send task) sends the two, nothing else.
    for name, value in robots.connections().items():
        monkeypatch.setenv(name, value)
    robots.failing_tokens.clear()
    report = send_alerts(warehouse, D(2026, 10, 16))
    resent = sorted((m.channel, m.department) for m in report.sent)
    assert resent == [("dingtalk", "fgw"), ("dingtalk", "scjg")]
    assert len(smtp_server.mails) == 2
    stored = read_messages(warehouse, D(2026, 10, 16))
    assert all(m["sent_at"] is not None and m["error"] is None for m in stored)


def test_cli_alerts_run_and_dry_run(
    catalog_dir: Path, warehouse: Warehouse, warehouse_url: str, smtp_server: LocalSmtpServer,
    robots: RobotServer, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    argv = ["alerts", "run", "--as-of", "2026-10-16", "--warehouse", warehouse_url,
            "--catalog", str(catalog_dir)]  # fmt: skip
    assert cli([*argv, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "3 notice(s)" in out and "dry run: 5 message(s) not recorded, not sent" in out
    assert "subject: 【升级督办】市税务局公共信用信息报送：超期2项" in out
    assert smtp_server.mails == [] and read_messages(warehouse) == []

    assert cli([*argv, "--escalate-after", "4"]) == 0
    out = capsys.readouterr().out
    assert "4 message(s) sent" in out  # not escalated yet: no message to the 发改委's robot
    assert sorted(m.subject for m in smtp_server.mails) == [
        "【超期提醒】市市场监管局公共信用信息报送：超期1项", "【超期提醒】市税务局公共信用信息报送：超期2项",
    ]  # fmt: skip
    assert cli([*argv, "--escalate-after", "0"]) == 2
    assert "1 or more" in capsys.readouterr().err
