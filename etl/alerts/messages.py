"""Alert messages in Chinese: one per department, day and channel, listing its notices.

Each notice says which dataset and source, what was due and by when, since when it is late and by
how many working days, how the last attempt went, and what to do — for the department clerk who
reads it. Mail goes to the department's contacts with a copy to the coordinator (发改委); a
department without contacts is reported to the coordinator instead. DingTalk and webhook messages
go to the department's own robot or webhook; escalations are also posted to the coordinator's
robot. Every text is scrubbed of anything shaped like an identity number before it is composed.

>>> scrub("身份证 360426199101010071 有误")
'身份证 3604**********0071 有误'
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from etl.alerts.plan import (
    BREACH_NOTICE,
    CALENDAR_RULE,
    DUE_SOON_NOTICE,
    ESCALATION_NOTICE,
    RECOVERY_NOTICE,
    REMINDER_NOTICE,
    AlertPolicy,
    Notice,
)
from etl.catalog import Catalog, Department, SourceRef
from etl.freshness import CHANGE, TWICE_MONTHLY, Check, chinese_date

MAIL: Final = "mail"
DINGTALK: Final = "dingtalk"
WEBHOOK: Final = "webhook"
CHANNELS: Final = (MAIL, DINGTALK, WEBHOOK)

KIND_TEXT: Final = {
    DUE_SOON_NOTICE: "即将到期",
    BREACH_NOTICE: "已超期",
    REMINDER_NOTICE: "仍未报送",
    ESCALATION_NOTICE: "升级督办",
    RECOVERY_NOTICE: "已恢复",
}
METHOD_TEXT: Final = {"landing": "前置交换目录报送", "sftp": "SFTP报送", "database": "前置库抽取"}
RULE_TEXT: Final = {
    TWICE_MONTHLY: "每半月至少更新一次",
    CHANGE: "数据变更后限期入库",
    CALENDAR_RULE: "工作日历",
}

def scrub(text: str) -> str:
    """Masks every identity-number-shaped run of digits in ``text`` (error messages may quote cells)."""
    from etl.codes.idcard import mask_in_text

    return mask_in_text(text)


@dataclass(frozen=True)
class Message:
    """One message on one channel. ``body`` is HTML for mail, Markdown for DingTalk, JSON text for
    a webhook; ``conn_id`` is the Airflow connection of a robot or webhook."""

    channel: str
    department: str
    subject: str
    body: str
    breach_ids: tuple[str, ...]
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    conn_id: str | None = None
    message_id: int | None = None


@dataclass(frozen=True)
class _Item:
    """One notice as labelled lines, rendered per channel."""

    heading: str
    lines: tuple[tuple[str, str], ...]
    facts: dict[str, object] = field(default_factory=dict)


def coordinator_of(catalog: Catalog) -> Department:
    """The department marked ``coordinator: true`` (the catalog check guarantees one)."""
    return next(d for d in catalog.departments.values() if d.coordinator)


def render_messages(
    notices: Sequence[Notice], catalog: Catalog, today: dt.date, policy: AlertPolicy | None = None
) -> list[Message]:
    """Today's messages: per department, mail plus its robot and webhook; escalations to the
    coordinator's robot too."""
    policy = policy or AlertPolicy()
    coordinator = coordinator_of(catalog)
    by_department: dict[str, list[Notice]] = defaultdict(list)
    for notice in notices:
        by_department[notice.department].append(notice)
    messages: list[Message] = []
    for department_id, items in sorted(by_department.items()):
        department = catalog.departments.get(department_id) or coordinator
        rendered = [_item(n, catalog, coordinator, policy) for n in items]
        ids = tuple(n.breach_id for n in items)
        subject = _subject(department, [n.kind for n in items])
        messages.extend(_department_messages(department, coordinator, subject, rendered, ids, today))
    escalated = [n for n in notices if n.kind == ESCALATION_NOTICE and n.department != coordinator.id]
    if escalated and coordinator.alerts.dingtalk_conn_id:
        rendered = [_item(n, catalog, coordinator, policy) for n in escalated]
        subject = f"【升级督办】公共信用信息报送超期{len(escalated)}项"
        messages.append(Message(
            DINGTALK, coordinator.id, subject, _markdown(subject, coordinator, rendered, today, summary=True),
            tuple(n.breach_id for n in escalated), conn_id=coordinator.alerts.dingtalk_conn_id,
        ))  # fmt: skip
    return messages


def _department_messages(
    department: Department,
    coordinator: Department,
    subject: str,
    items: list[_Item],
    ids: tuple[str, ...],
    today: dt.date,
) -> list[Message]:
    messages = []
    alerts = department.alerts
    to = alerts.emails or coordinator.alerts.emails
    cc = tuple(e for e in coordinator.alerts.emails if e not in to)
    if to:
        body = _html(department, coordinator, items, today, unreachable=not alerts.emails)
        messages.append(Message(MAIL, department.id, subject, body, ids, to=tuple(to), cc=cc))
    if alerts.dingtalk_conn_id:
        body = _markdown(subject, department, items, today)
        messages.append(Message(DINGTALK, department.id, subject, body, ids, conn_id=alerts.dingtalk_conn_id))
    if alerts.webhook_conn_id:
        body = _webhook_json(subject, department, items, today)
        messages.append(Message(WEBHOOK, department.id, subject, body, ids, conn_id=alerts.webhook_conn_id))
    return messages


def _subject(department: Department, kinds: Sequence[str]) -> str:
    counts = {
        "超期": sum(k in (BREACH_NOTICE, REMINDER_NOTICE, ESCALATION_NOTICE) for k in kinds),
        "即将到期": kinds.count(DUE_SOON_NOTICE),
        "已恢复": kinds.count(RECOVERY_NOTICE),
    }
    if ESCALATION_NOTICE in kinds:
        tag = "升级督办"
    elif counts["超期"]:
        tag = "超期提醒"
    elif counts["即将到期"]:
        tag = "到期提醒"
    else:
        tag = "恢复通知"
    summary = "、".join(f"{name}{n}项" for name, n in counts.items() if n)
    return f"【{tag}】{department.short_name}公共信用信息报送：{summary}"


def _item(notice: Notice, catalog: Catalog, coordinator: Department, policy: AlertPolicy) -> _Item:
    if notice.row.rule == CALENDAR_RULE:
        return _calendar_item(notice)
    row, check, freshness = notice.row, notice.check, notice.freshness
    dataset = catalog.datasets.get(row.dataset)
    title = dataset.title if dataset else row.dataset
    ref = _source_ref(catalog, row.source)
    method = METHOD_TEXT.get(freshness.method if freshness else "", "")
    department = catalog.departments.get(row.department)
    lines: list[tuple[str, str]] = [
        ("报送单位", department.name if department else row.department),
        ("数据集", f"{title}（{row.dataset}）"),
        ("报送方式", f"{method}（数据源 {row.source}）" if method else row.source),
        ("时效要求", RULE_TEXT.get(row.rule, row.rule)),
        ("应报送", f"{_due_label(check)}截止{chinese_date(row.due_date)}"),
    ]
    days_late = check.days_late if check else None
    if notice.kind == RECOVERY_NOTICE:
        when = chinese_date(row.recovered_on) if row.recovered_on else ""
        late = f"，共超期{days_late}个工作日" if days_late else ""
        lines.append(("恢复情况", f"已于{when}收到并成功入库{late}，感谢配合"))
    elif check is not None:
        if check.late_since is not None and notice.kind != DUE_SOON_NOTICE:
            lines.append(("超期情况", f"自{chinese_date(check.late_since)}起超期，已超期{days_late}个工作日"))
        lines.append(("当前情况", check.detail))
    if freshness is not None and notice.kind != RECOVERY_NOTICE:
        lines.append(("最近一次报送", _last_attempt(freshness.last_attempt, freshness.last_attempt_status,
                                                  freshness.last_attempt_error)))  # fmt: skip
        lines.append(("处理建议", _what_to_do(notice, ref, coordinator, policy)))
    heading = f"{KIND_TEXT[notice.kind]}：{title}"
    if notice.kind == REMINDER_NOTICE and row.escalation_level:
        heading += "（已升级督办）"
    facts: dict[str, object] = {
        "breach_id": row.breach_id, "kind": notice.kind, "dataset": row.dataset, "dataset_title": title,
        "source": row.source, "rule": row.rule, "due_date": row.due_date.isoformat(),
        "late_since": check.late_since.isoformat() if check and check.late_since else None,
        "days_late": days_late, "escalation_level": row.escalation_level,
        "recovered_on": row.recovered_on.isoformat() if row.recovered_on else None,
    }  # fmt: skip
    return _Item(scrub(heading), tuple((label, scrub(value)) for label, value in lines), facts)


def _due_label(check: Check | None) -> str:
    return f"{check.due_label}，" if check is not None and check.due_label else ""


def _calendar_item(notice: Notice) -> _Item:
    sources = notice.undecidable_sources
    if notice.kind == RECOVERY_NOTICE:
        lines = (("恢复情况", "工作日历已补充，所有数据源的报送时效恢复监测"),)
        return _Item("已恢复：工作日历", lines, {"breach_id": notice.breach_id, "kind": notice.kind})
    reason = notice.check.detail if notice.check else ""
    lines = (
        ("情况", f"工作日历缺少年份安排，{len(sources)}个数据源的报送时效无法判断，平台不作推测"),
        ("涉及数据源", "、".join(sources[:10]) + (f"等{len(sources)}个" if len(sources) > 10 else "")),
        ("日历提示", reason),
        ("处理建议", "请运维人员按国务院办公厅公布的节假日安排补充 catalog_yaml/calendar.yaml，"
                 "或升级 chinesecalendar"),
    )  # fmt: skip
    facts = {"breach_id": notice.breach_id, "kind": notice.kind, "undecidable_sources": list(sources)}
    return _Item(f"{KIND_TEXT[notice.kind]}：工作日历", tuple((k, scrub(v)) for k, v in lines), facts)


def _source_ref(catalog: Catalog, source_id: str) -> SourceRef | None:
    return next((ref for ref in catalog.sources() if ref.id == source_id), None)


def _last_attempt(when: dt.datetime | None, status: str | None, error: str | None) -> str:
    if when is None or status is None:
        return "尚无报送记录"
    from etl.pipeline import STATUS_TEXT

    text = f"{chinese_date(when.date())} {when:%H:%M}，{STATUS_TEXT.get(status, status)}"
    if error and status in ("rejected", "failed"):
        text += f"：{error}"
    return text


def _what_to_do(notice: Notice, ref: SourceRef | None, coordinator: Department, policy: AlertPolicy) -> str:
    status = notice.freshness.last_attempt_status if notice.freshness else None
    if status == "rejected":
        advice = "最近一次报送被退回，请按平台返回的反馈文件逐行修改后重新报送。"
    elif status == "failed":
        advice = f"最近一次报送平台处理失败，平台将自动重试；如持续失败请联系{coordinator.short_name}信用科。"
    else:
        advice = _how_to_deliver(ref)
    if notice.kind == DUE_SOON_NOTICE:
        return f"请在截止日前完成报送。{advice}"
    days = notice.check.days_late if notice.check else None
    if notice.kind == ESCALATION_NOTICE or notice.row.escalation_level:
        return (
            f"已超期{days}个工作日（超过{policy.escalate_after_working_days}个工作日），"
            f"已升级至{coordinator.short_name}督办，请立即处理。{advice}"
        )
    return f"请尽快报送。{advice}"


def _how_to_deliver(ref: SourceRef | None) -> str:
    if ref is None:
        return ""
    source = ref.source
    if source.method == "landing":
        return f"请将数据文件放入前置交换目录 {ref.dataset.landing_directory(source)}。"
    if source.method == "sftp":
        marker = f"，上传完成后放置 {source.complete_marker} 标记文件" if source.complete_marker else ""
        return f"请将数据文件上传至 SFTP 目录 {source.remote_path}{marker}。"
    relation = source.table or "约定的查询视图"
    return (
        f"平台每日从前置库 {relation} 按 {source.watermark} 字段抽取，请确认数据已更新且该字段随变更更新。"
    )


def _intro(department: Department, today: dt.date) -> str:
    return f"{department.name}：\n市公共信用信息平台时效监测（{chinese_date(today)}）提示以下数据报送事项："


FOOTER: Final = (
    "按照城市信用状况监测要求，各部门数据应每半月至少更新一次，数据变更后在规定工作日内报送入库，"
    "双公示信息自作出决定之日起7个工作日内公示；超期将影响我市信用监测评价。"
    "本消息由平台自动发送，同一事项每个工作日至多提醒一次。"
)


def _html(
    department: Department, coordinator: Department, items: list[_Item], today: dt.date, *, unreachable: bool
) -> str:
    esc = html.escape
    parts = [f"<p>{esc(line)}</p>" for line in _intro(department, today).split("\n")]
    if unreachable:
        parts.append(f"<p><b>{esc(department.short_name)}未配置告警联系人，本邮件发送至"
                     f"{esc(coordinator.short_name)}，请代为转达。</b></p>")  # fmt: skip
    for item in items:
        parts.append(f"<h3>{esc(item.heading)}</h3>")
        rows = "".join(f"<tr><th align=\"left\">{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in item.lines)
        parts.append(f"<table>{rows}</table>")
    parts.append(f"<p>{esc(FOOTER)}</p>")
    parts.append(f"<p>{esc(coordinator.name)}</p>")
    return "\n".join(parts)


def _markdown(subject: str, department: Department, items: list[_Item], today: dt.date, *,
              summary: bool = False) -> str:  # fmt: skip
    intro = f"市公共信用信息平台时效监测（{chinese_date(today)}）" if summary else _intro(department, today)
    lines = [f"### {subject}", "", *intro.split("\n"), ""]
    for item in items:
        lines.append(f"#### {item.heading}")
        lines.extend(f"- **{label}**：{value}" for label, value in item.lines)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _webhook_json(subject: str, department: Department, items: list[_Item], today: dt.date) -> str:
    payload = {
        "source": "credit-etl",
        "date": today.isoformat(),
        "department": department.id,
        "department_name": department.name,
        "subject": subject,
        "text": _markdown(subject, department, items, today),
        "items": [{**item.facts, "heading": item.heading, "lines": dict(item.lines)} for item in items],
    }
    return json.dumps(payload, ensure_ascii=False)
