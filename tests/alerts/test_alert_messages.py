"""Rendering: who gets which message, Chinese wording, escaping, and no identity numbers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from alert_scenarios import TAX_SOURCE, Monitor, one_source_catalog

from etl.alerts.messages import DINGTALK, MAIL, WEBHOOK, render_messages, scrub
from etl.alerts.plan import AlertPolicy
from etl.catalog import Alerts, Catalog, load_catalog
from etl.freshness import Delivery, at

D = dt.date


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return one_source_catalog(load_catalog(), "admin_penalty__jt__landing")


def breach_notices(catalog: Catalog, source: str = "admin_penalty__jt__landing"):
    monitor = Monitor(catalog, [Delivery(source, at(2026, 9, 20), "loaded")])
    return monitor.plan(D(2026, 10, 16)).notices


def test_a_department_without_contacts_is_reported_to_the_coordinator(catalog: Catalog) -> None:
    jt = catalog.departments["jt"]
    without = jt.model_copy(update={"alerts": Alerts()})
    silent = dataclasses.replace(catalog, departments={**catalog.departments, "jt": without})
    (mail,) = render_messages(breach_notices(silent), silent, D(2026, 10, 16))
    assert (mail.channel, mail.to, mail.cc) == (MAIL, ("xinyong@fgw.liuzhou.example.cn",), ())
    assert "市交通运输局未配置告警联系人，本邮件发送至市发改委，请代为转达" in mail.body
    # With contacts: to the department, a copy to the coordinator.
    (mail,) = render_messages(breach_notices(catalog), catalog, D(2026, 10, 16))
    assert (mail.to, mail.cc) == (("yunguan@jt.liuzhou.example.cn",), ("xinyong@fgw.liuzhou.example.cn",))
    assert "请将数据文件放入前置交换目录 jt/admin_penalty。" in mail.body


def test_catalog_text_is_escaped_in_mail(catalog: Catalog) -> None:
    dataset = catalog.datasets["admin_penalty"]
    odd_title = dataset.model_copy(update={"title": "处罚<b>&"})
    odd = dataclasses.replace(catalog, datasets={"admin_penalty": odd_title})
    (mail,) = render_messages(breach_notices(odd), odd, D(2026, 10, 16))
    assert "已超期：处罚&lt;b&gt;&amp;" in mail.body and "<b>&" not in mail.body


def test_channels_follow_the_department_and_escalations_reach_the_coordinators_robot() -> None:
    catalog = one_source_catalog(load_catalog(), TAX_SOURCE)
    failed = Delivery(TAX_SOURCE, at(2026, 9, 30, 2), "failed", change_date=D(2026, 9, 30))
    monitor = Monitor(catalog, [failed], policy=AlertPolicy(escalate_after_working_days=1))
    notices = monitor.plan(D(2026, 10, 14)).notices
    assert sorted((n.kind, n.row.rule) for n in notices) == [
        ("due_soon", "twice_monthly"), ("escalation", "change"),
    ]  # fmt: skip
    messages = render_messages(notices, catalog, D(2026, 10, 14), AlertPolicy(escalate_after_working_days=1))
    assert [(m.channel, m.department, m.conn_id) for m in messages] == [
        (MAIL, "tax", None), (WEBHOOK, "tax", "webhook_tax"), (DINGTALK, "fgw", "dingtalk_fgw"),
    ]  # fmt: skip
    mail, webhook, robot = messages
    assert mail.subject == "【升级督办】市税务局公共信用信息报送：超期1项、即将到期1项"
    assert "已超期1个工作日（超过1个工作日），已升级至市发改委督办，请立即处理" in mail.body
    assert "最近一次报送平台处理失败，平台将自动重试；如持续失败请联系市发改委信用科" in mail.body
    assert "2026年9月30日 02:00，处理失败，平台将重试" in mail.body
    payload = json.loads(webhook.body)
    items = {i["kind"]: i for i in payload["items"]}
    assert sorted(items) == ["due_soon", "escalation"]
    assert items["escalation"]["breach_id"] == f"{TAX_SOURCE}:change:2026-09-30"
    assert items["escalation"]["lines"]["报送单位"] == "国家税务总局柳州市税务局"
    assert robot.body.startswith("### 【升级督办】公共信用信息报送超期1项")


def test_the_calendar_notice_goes_to_the_coordinator(catalog: Catalog) -> None:
    monitor = Monitor(catalog, [Delivery("admin_penalty__jt__landing", at(2026, 12, 20), "loaded")])
    notices = monitor.plan(D(2027, 1, 4)).notices
    messages = render_messages(notices, catalog, D(2027, 1, 4))
    assert [(m.channel, m.department) for m in messages] == [(MAIL, "fgw"), (DINGTALK, "fgw")]
    mail = messages[0]
    assert mail.to == ("xinyong@fgw.liuzhou.example.cn",) and mail.cc == ()
    assert "工作日历缺少年份安排，1个数据源的报送时效无法判断" in mail.body
    assert "catalog_yaml/calendar.yaml" in mail.body and "no working-day calendar for 2027" in mail.body


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("证件号码360426199101010071有误", "证件号码3604**********0071有误"),
        ("旧号码 360426910101007。", "旧号码 3604*******1007。"),
        ("44011320141005001x", "4401**********001X"),
        ("统一社会信用代码 91110000600037341L 不变", "统一社会信用代码 91110000600037341L 不变"),
        ("第12345行", "第12345行"),
    ],
)
def test_identity_numbers_are_masked_in_free_text(text: str, expected: str) -> None:
    assert scrub(text) == expected
