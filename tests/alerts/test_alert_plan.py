"""Alert de-duplication over several monitor days: one notice per obligation and day, a warning
before the deadline, escalation after N working days, reminders, recovery, an unknown year."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from alert_scenarios import TAX_SOURCE, Monitor, one_source_catalog

from etl.alerts.plan import CALENDAR_BREACH_ID, AlertPolicy, AlertRow, plan_alerts
from etl.calendar import WorkCalendar
from etl.catalog import CalendarOverrides, Catalog, Sla, load_catalog
from etl.freshness import Delivery, at

D = dt.date
CHANGE_ID = f"{TAX_SOURCE}:change:2026-09-30"
HALF_ID = f"{TAX_SOURCE}:twice_monthly:2026-10-H1"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return one_source_catalog(load_catalog())


@pytest.fixture(scope="module")
def change_only(catalog: Catalog) -> Catalog:
    """Without the twice-monthly rule, so that only the change rule speaks."""
    dataset = catalog.datasets["admin_penalty"]
    relaxed = dataset.model_copy(update={"sla": Sla(twice_monthly=False, within_working_days_of_change=5)})
    return dataclasses.replace(catalog, datasets={"admin_penalty": relaxed})


def national_day_ledger() -> list[Delivery]:
    return [
        Delivery(TAX_SOURCE, at(2026, 9, 20, 2), "loaded", at(2026, 9, 20, 2, 5), change_date=D(2026, 9, 19)),
        Delivery(TAX_SOURCE, at(2026, 9, 30, 2), "failed", change_date=D(2026, 9, 30)),
    ]


def loaded_pull(received: dt.datetime) -> Delivery:
    """A pull loaded five minutes after it arrived, carrying changes up to its own day."""
    return Delivery(TAX_SOURCE, received, "loaded", received + dt.timedelta(minutes=5),
                    change_date=received.date())  # fmt: skip


def test_a_breach_across_national_day_is_warned_notified_escalated_and_recovered(catalog: Catalog) -> None:
    monitor = Monitor(catalog, national_day_ledger(), policy=AlertPolicy(escalate_after_working_days=3))
    log = {}
    for day in (D(2026, 10, d) for d in (9, 10, 12, 13, 14, 15, 16, 19)):
        log[day.day] = monitor.run(day)
        assert monitor.run(day) == [], f"a second run on {day} must add nothing"
    # The department fixes it on 10-19 after the morning run.
    monitor.deliveries.append(
        loaded_pull(at(2026, 10, 19, 14))
    )
    for day in (D(2026, 10, 20), D(2026, 10, 21)):
        log[day.day] = monitor.run(day)
    assert log == {
        9: [], 10: [],
        12: [("due_soon", "change")],                             # due 10-13, one working day left
        13: [],                                                   # warned once
        14: [("breach", "change"), ("due_soon", "twice_monthly")],
        15: [("reminder", "change")],
        16: [("breach", "twice_monthly"), ("escalation", "change")],  # 3 working days late
        19: [("reminder", "change"), ("reminder", "twice_monthly")],
        20: [("recovery", "change"), ("recovery", "twice_monthly")],
        21: [],
    }  # fmt: skip
    change = monitor.row(CHANGE_ID)
    assert (change.first_seen, change.escalation_level) == (D(2026, 10, 12), 1)
    assert change.recovered_on == D(2026, 10, 19)
    assert monitor.row(HALF_ID).recovered_on == D(2026, 10, 19)


def test_reminders_and_escalation_follow_the_policy(change_only: Catalog) -> None:
    policy = AlertPolicy(escalate_after_working_days=5, remind_every_working_days=2)
    monitor = Monitor(change_only, national_day_ledger()[1:], policy=policy)
    kinds = {d: monitor.run(D(2026, 10, d)) for d in (14, 15, 16, 19, 20, 21, 22)}
    # Late by 1, 2, 3, 4, 5, 6, 7 working days: reminders every second working day, escalation at 5.
    assert kinds == {
        14: [("breach", "change")], 15: [], 16: [("reminder", "change")], 19: [],
        20: [("escalation", "change")], 21: [], 22: [("reminder", "change")],
    }  # fmt: skip


def test_a_breach_fixed_the_day_it_was_notified_recovers_on_the_next_run(change_only: Catalog) -> None:
    monitor = Monitor(change_only, national_day_ledger())
    assert monitor.run(D(2026, 10, 14)) == [("breach", "change")]
    monitor.deliveries.append(
        loaded_pull(at(2026, 10, 14, 11))
    )
    assert monitor.run(D(2026, 10, 14)) == []  # one notice per day, even a recovery
    assert monitor.run(D(2026, 10, 15)) == [("recovery", "change")]
    assert monitor.row(CHANGE_ID).recovered_on == D(2026, 10, 14)


def test_a_warning_delivered_in_time_closes_without_a_message(catalog: Catalog) -> None:
    ledger = [Delivery(TAX_SOURCE, at(2026, 9, 20), "loaded", change_date=D(2026, 9, 19))]
    monitor = Monitor(catalog, ledger)
    assert monitor.run(D(2026, 10, 14)) == [("due_soon", "twice_monthly")]
    monitor.deliveries.append(loaded_pull(at(2026, 10, 14, 15)))
    assert monitor.run(D(2026, 10, 15)) == []
    assert monitor.row(HALF_ID).recovered_on == D(2026, 10, 15)
    # The next half-month is a new obligation with its own warning.
    assert monitor.run(D(2026, 10, 30)) == [("due_soon", "twice_monthly")]


def test_an_unknown_year_keeps_breaches_open_and_tells_the_coordinator_until_it_is_added(
    catalog: Catalog,
) -> None:
    ledger = [Delivery(TAX_SOURCE, at(2026, 11, 20), "loaded", change_date=D(2026, 11, 20))]
    monitor = Monitor(catalog, ledger)
    assert monitor.run(D(2026, 12, 16)) == [("breach", "twice_monthly")]
    plan = monitor.plan(D(2027, 1, 4))
    notices = [(n.kind, n.breach_id, n.department) for n in plan.notices]
    assert notices == [("breach", CALENDAR_BREACH_ID, "fgw")]
    assert plan.notices[0].undecidable_sources == (TAX_SOURCE,)
    assert monitor.row(f"{TAX_SOURCE}:twice_monthly:2026-12-H1").is_open  # not taken for recovered
    assert monitor.run(D(2027, 1, 5)) == [("reminder", "calendar")]
    # An operator adds 2027; the department delivered on 01-05.
    monitor.calendar = WorkCalendar(CalendarOverrides(years={2027: {"holidays": [D(2027, 1, 1)]}}))
    monitor.deliveries.append(loaded_pull(at(2027, 1, 5, 15)))
    assert monitor.run(D(2027, 1, 6)) == [("recovery", "calendar"), ("recovery", "twice_monthly")]
    assert not monitor.row(CALENDAR_BREACH_ID).is_open


def test_a_closed_breach_that_comes_back_opens_again(change_only: Catalog) -> None:
    monitor = Monitor(change_only, national_day_ledger())
    closed = AlertRow(CHANGE_ID, TAX_SOURCE, "admin_penalty", "tax", "change", "breached", D(2026, 10, 13),
                      D(2026, 10, 14), D(2026, 10, 14), 0, recovered_on=D(2026, 10, 14))  # fmt: skip
    monitor.rows = [closed]
    assert monitor.run(D(2026, 10, 15)) == [("breach", "change")]
    reopened = monitor.row(CHANGE_ID)
    assert reopened.is_open and reopened.first_seen == D(2026, 10, 15)
    # Already 4 working days late when it comes back after a second close: escalated at once.
    monitor.rows = [closed]
    assert monitor.run(D(2026, 10, 19)) == [("escalation", "change")]
    assert monitor.row(CHANGE_ID).escalation_level == 1


def test_a_source_gone_from_the_catalog_is_closed_silently(catalog: Catalog) -> None:
    source = "gone__scjg__landing"
    gone = AlertRow(f"{source}:twice_monthly:2026-10-H1", source, "gone", "scjg", "twice_monthly", "breached",
                    D(2026, 10, 15), D(2026, 10, 16), D(2026, 10, 16))  # fmt: skip
    plan = plan_alerts([gone], [], D(2026, 10, 19), WorkCalendar())
    assert plan.notices == ()
    assert [r.recovered_on for r in plan.rows] == [D(2026, 10, 19)]


def test_policy_intervals_must_be_positive() -> None:
    with pytest.raises(ValueError, match="1 or more"):
        AlertPolicy(escalate_after_working_days=0)
    assert dataclasses.replace(AlertPolicy(), remind_every_working_days=2).remind_every_working_days == 2
