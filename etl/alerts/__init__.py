"""Freshness alerts: who is told what about breaches, once a day at most, through Airflow's notifiers.

The monitor (``dags/freshness_monitor.py``, or ``credit-etl alerts run``) works in three steps, each
a function here that the DAG tasks and the CLI call:

1. ``etl.alerts.run.evaluate_sources``: the ledger and the catalog's SLAs through
   ``etl.freshness`` (no writes);
2. ``etl.alerts.run.record_alerts``: in one transaction, reads the ``alerts`` table, decides today's
   notices (``etl.alerts.plan``: one per obligation per day at most, escalation after a number of
   working days, a recovery notice when fixed), renders them in Chinese per department
   (``etl.alerts.messages``) and writes rows, notices and messages (``etl.alerts.store``);
3. ``etl.alerts.run.send_alerts``: sends today's unsent messages (``etl.alerts.notifiers``: mail
   through the SMTP provider's ``SmtpNotifier``, DingTalk robots through the DingTalk provider's
   ``DingdingHook``, other webhooks through the HTTP provider's ``HttpNotifier``) and marks each
   sent, or records its error for the next try.

Because messages are written before they are sent and marked one by one, a retried send task sends
only what did not go out, and a second run of step 2 on the same day adds nothing for obligations
already notified that day.

Only ``notifiers`` imports Airflow, and only inside its send functions.
"""

from __future__ import annotations

from etl.errors import CreditEtlError


class AlertDeliveryError(CreditEtlError):
    """Some alert messages could not be sent; they stay unsent for the next try."""

    exit_code = 1
