"""Sending alert messages through Airflow's providers, in a task or in a plain process.

- mail: ``airflow.providers.smtp.notifications.smtp.SmtpNotifier`` over the SMTP connection
  (``smtp_conn_id``; default Airflow's ``[email] email_conn_id``, else ``smtp_default``). The
  connection's extra ``from_email`` is the sender.
- DingTalk robot: ``airflow.providers.dingding.hooks.dingding.DingdingHook`` (the DingTalk provider
  has a hook and an operator but no notifier), a Markdown message; the connection holds the robot's
  access token as its password and, optionally, another host than ``https://oapi.dingtalk.com``.
  A robot that answers with a non-zero ``errcode`` is a failure.
- other webhooks: ``airflow.providers.http.notifications.http.HttpNotifier`` posting the JSON body.

The notifiers are called with ``notify`` directly, not through ``__call__``: that would render the
texts as Jinja templates, and an alert must go out exactly as written. Connections resolve the way
Airflow resolves them — ``AIRFLOW_CONN_<ID>`` in the environment works outside a task too — so
``credit-etl alerts run`` and the tests use the same code as the DAG. Timeouts come from the
connection extras (``timeout``: the SMTP provider defaults to 30 s; give webhook connections one).
The DingTalk hook ignores connection extras and sets none, so the monitor's send task carries an
execution timeout that bounds a robot that never answers.

Error texts are stored and logged, so access tokens are cut out of them first.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable

from etl.alerts.messages import DINGTALK, MAIL, WEBHOOK, Message

Sender = Callable[[Message], None]

_SECRET_IN_URL = re.compile(r"(access_token|token|key|sign|secret|password)=[^&\s'\"]+", re.IGNORECASE)


def redact(text: str) -> str:
    """Cuts secrets out of an error text (a robot's URL carries its token).

    >>> redact("Max retries exceeded with url: /robot/send?access_token=abc123&x=1")
    'Max retries exceeded with url: /robot/send?access_token=***&x=1'
    """
    return _SECRET_IN_URL.sub(lambda m: f"{m.group(1)}=***", text)


class _RedactedLog(logging.LoggerAdapter):
    """A provider hook's logger whose texts pass through ``redact`` first.

    The HTTP hook under the DingTalk and webhook senders logs the request URL and, on a failed
    attempt, the exception — both carry a robot's access token. Inside an Airflow task the task
    log's secrets masker hides connection passwords; ``credit-etl alerts run`` has no such masker.
    """

    def log(self, level: int, msg: object, *args: object, **kwargs: object) -> None:
        if self.isEnabledFor(level):
            text = str(msg) % args if args else str(msg)
            self.logger.log(level, "%s", redact(text), **kwargs)  # type: ignore[arg-type]


def _redacted_log(hook: object) -> None:
    hook._log = _RedactedLog(logging.getLogger(f"etl.alerts.provider.{type(hook).__name__}"), {})  # type: ignore[attr-defined]


def send_mail(message: Message, smtp_conn_id: str | None = None) -> None:
    """Sends a mail message (HTML, UTF-8) to its ``to`` with ``cc``."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    notifier = SmtpNotifier(
        to=list(message.to),
        cc=list(message.cc) or None,
        subject=message.subject,
        html_content=message.body,
        smtp_conn_id=smtp_conn_id,
        mime_charset="utf-8",
    )
    notifier.notify({})


def send_dingtalk(message: Message) -> None:
    """Posts a Markdown message to the DingTalk robot of ``message.conn_id``."""
    from airflow.providers.dingding.hooks.dingding import DingdingHook

    assert message.conn_id is not None
    hook = DingdingHook(
        dingding_conn_id=message.conn_id,
        message_type="markdown",
        message={"title": message.subject, "text": message.body},
    )
    _redacted_log(hook)
    hook.send()


def send_webhook(message: Message) -> None:
    """Posts the message's JSON to the webhook of ``message.conn_id``."""
    from airflow.providers.http.notifications.http import HttpNotifier

    assert message.conn_id is not None
    notifier = HttpNotifier(
        http_conn_id=message.conn_id,
        method="POST",
        json=json.loads(message.body),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    _redacted_log(notifier.hook)
    notifier.notify({})


def send_message(message: Message, *, smtp_conn_id: str | None = None) -> None:
    """Sends one message on its channel; raises whatever the provider raises."""
    if message.channel == MAIL:
        send_mail(message, smtp_conn_id)
    elif message.channel == DINGTALK:
        send_dingtalk(message)
    elif message.channel == WEBHOOK:
        send_webhook(message)
    else:
        raise ValueError(f"unknown alert channel {message.channel!r}")
