"""The freshness state machine on hand-built ledgers: 国庆节 and 春节 2026, half-month boundaries,
the calendar's unknown year 2027, and how rules add up to a source's state."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from etl.calendar import WorkCalendar
from etl.catalog import CalendarOverrides, Catalog, Sla
from etl.freshness import (
    BREACHED,
    DUE_SOON,
    OK,
    RECOVERED,
    UNDECIDABLE,
    Delivery,
    SourceFreshness,
    at,
    check_change,
    check_twice_monthly,
    evaluate,
    evaluate_source,
)
from etl.warehouse.ledger import LedgerRow

D = dt.date
CAL = WorkCalendar()
SOURCE = "admin_penalty__tax__database"


def pull(received: dt.datetime, status: str = "loaded", change: D | None = None,
         loaded: dt.datetime | None = None, source: str = SOURCE) -> Delivery:
    return Delivery(source, received, status, loaded_at=loaded or received, change_date=change)


def change_states(deliveries: list[Delivery], days: list[D], n: int = 5) -> list[str]:
    return [check_change(SOURCE, deliveries, day, CAL, working_days=n).state for day in days]


def twice_states(deliveries: list[Delivery], days: list[D], **kwargs) -> list[str]:
    return [check_twice_monthly(SOURCE, deliveries, day, CAL, **kwargs).state for day in days]


# -- within N working days of a change -------------------------------------------------------------


def test_a_change_before_national_day_is_due_on_the_fifth_working_day_after_it() -> None:
    # 10-01..10-07 off, Saturday 10-10 a make-up working day: 5 working days after 09-30 is 10-13.
    failed = [pull(at(2026, 9, 30, 18), "failed", change=D(2026, 9, 30))]
    days = [D(2026, 10, d) for d in (9, 10, 11, 12, 13, 14)]
    assert change_states(failed, days) == [OK, OK, OK, DUE_SOON, DUE_SOON, BREACHED]
    pending = check_change(SOURCE, failed, D(2026, 10, 12), CAL, working_days=5)
    assert pending.deadline == D(2026, 10, 13)
    assert pending.breach_id == f"{SOURCE}:change:2026-09-30"
    assert "还剩1个工作日" in pending.detail
    breached = check_change(SOURCE, failed, D(2026, 10, 16), CAL, working_days=5)
    assert (breached.deadline, breached.late_since) == (D(2026, 10, 13), D(2026, 10, 14))
    assert breached.days_late == 3
    assert breached.breach_id == pending.breach_id
    assert "2026年9月30日的数据变更应在5个工作日内（2026年10月13日前）入库" in breached.detail


def test_a_change_loaded_on_its_deadline_day_is_on_time() -> None:
    deliveries = [
        pull(at(2026, 9, 30, 18), "failed", change=D(2026, 9, 30)),
        pull(at(2026, 10, 13, 2), change=D(2026, 10, 12), loaded=at(2026, 10, 13, 2, 30)),
    ]
    assert change_states(deliveries, [D(2026, 10, 13), D(2026, 10, 14)]) == [OK, OK]


def test_a_late_change_recovers_on_the_day_it_loads_and_a_weekend_fix_shows_on_monday() -> None:
    failed = pull(at(2026, 9, 30, 18), "failed", change=D(2026, 9, 30))
    friday = pull(at(2026, 10, 16, 2), change=D(2026, 10, 15))
    # Recovered on the day of the load and the next working day (the morning run after a fix made
    # later that day), then ok.
    days = [D(2026, 10, 15), D(2026, 10, 16), D(2026, 10, 19), D(2026, 10, 20)]
    assert change_states([failed, friday], days) == [BREACHED, RECOVERED, RECOVERED, OK]
    recovered = check_change(SOURCE, [failed, friday], D(2026, 10, 16), CAL, working_days=5)
    assert (recovered.recovered_on, recovered.days_late) == (D(2026, 10, 16), 3)
    assert recovered.breach_id == f"{SOURCE}:change:2026-09-30"
    # Loaded on Saturday 10-17 (not a working day): Monday's run is the first to see it.
    saturday = pull(at(2026, 10, 17, 2), change=D(2026, 10, 16))
    assert change_states([failed, saturday], [D(2026, 10, 16), D(2026, 10, 19), D(2026, 10, 20)]) == [
        BREACHED, RECOVERED, OK,
    ]  # fmt: skip


def test_which_later_deliveries_load_a_change() -> None:
    rejected = pull(at(2026, 10, 8, 9), "rejected", change=D(2026, 10, 8))
    older_data = pull(at(2026, 10, 9, 9), change=D(2026, 10, 1))  # carries only changes up to 10-01
    duplicate = pull(at(2026, 10, 9, 10), "duplicate", change=D(2026, 10, 8))
    full_redelivery = pull(at(2026, 10, 12, 9))  # declares no change date: everything
    assert change_states([rejected, older_data, duplicate], [D(2026, 10, 16)]) == [BREACHED]
    assert change_states([rejected, older_data, duplicate, full_redelivery], [D(2026, 10, 12)]) == [OK]
    # A delivery received before the change was declared does not load it.
    earlier = pull(at(2026, 10, 7, 9))
    assert change_states([earlier, rejected], [D(2026, 10, 16)]) == [BREACHED]


def test_the_oldest_overdue_change_is_the_breach() -> None:
    deliveries = [
        pull(at(2026, 10, 8, 9), "failed", change=D(2026, 10, 8)),
        pull(at(2026, 10, 9, 9), "failed", change=D(2026, 10, 9)),
    ]
    check = check_change(SOURCE, deliveries, D(2026, 10, 20), CAL, working_days=5)
    assert check.breach_id == f"{SOURCE}:change:2026-10-08"
    assert check.deadline == D(2026, 10, 14) and check.days_late == 4
    assert "另有1次变更也已超期" in check.detail


def test_a_delivery_loaded_after_as_of_is_not_loaded_yet() -> None:
    # Due 10-20; received in time but its load finished only on 10-22.
    slow = pull(at(2026, 10, 13, 20), change=D(2026, 10, 13), loaded=at(2026, 10, 22, 8))
    assert change_states([slow], [D(2026, 10, 20), D(2026, 10, 21), D(2026, 10, 22)]) == [
        DUE_SOON, BREACHED, RECOVERED,
    ]  # fmt: skip


# -- twice monthly -------------------------------------------------------------------------------------


def test_spring_festival_half_month_ends_in_the_holiday() -> None:
    # 2026-02-14 (Sat) is a make-up working day, 02-15..02-23 are 春节, 02-24 is the first day back.
    january = [pull(at(2026, 1, 20))]
    days = [D(2026, 2, 12), D(2026, 2, 13), D(2026, 2, 14), D(2026, 2, 15), D(2026, 2, 16), D(2026, 2, 24)]
    assert twice_states(january, days) == [OK, DUE_SOON, DUE_SOON, DUE_SOON, BREACHED, BREACHED]
    check = check_twice_monthly(SOURCE, january, D(2026, 2, 24), CAL)
    assert check.breach_id == f"{SOURCE}:twice_monthly:2026-02-H1"
    assert (check.deadline, check.late_since, check.days_late) == (D(2026, 2, 15), D(2026, 2, 16), 1)
    assert "2026年2月上半月（2月1日至15日）无成功入库的报送" in check.detail


def test_second_half_of_february_counts_the_make_up_saturday() -> None:
    delivered = [pull(at(2026, 1, 20)), pull(at(2026, 2, 10))]
    days = [D(2026, 2, 26), D(2026, 2, 27), D(2026, 2, 28), D(2026, 3, 2)]
    assert twice_states(delivered, days) == [OK, DUE_SOON, DUE_SOON, BREACHED]
    ok = check_twice_monthly(SOURCE, delivered, D(2026, 2, 13), CAL)
    assert (ok.state, ok.deadline) == (OK, D(2026, 2, 28))


def test_more_due_soon_working_days_warn_earlier() -> None:
    september = [pull(at(2026, 9, 20))]
    # The half 10-01..10-15 ends on Thursday; three working days before it is Monday 10-12.
    assert twice_states(september, [D(2026, 10, 10), D(2026, 10, 12)], due_soon_working_days=3) == [
        OK, DUE_SOON,
    ]  # fmt: skip


def test_the_half_month_boundary_is_midnight_in_shanghai() -> None:
    utc = dt.UTC
    september = pull(at(2026, 9, 20))
    # Received 23:50 on the 15th in Shanghai (15:50 UTC), loaded ten minutes after midnight.
    late_evening = pull(dt.datetime(2026, 10, 15, 15, 50, tzinfo=utc), loaded=at(2026, 10, 16, 0, 10))
    assert twice_states([september, late_evening], [D(2026, 10, 15), D(2026, 10, 16)]) == [DUE_SOON, OK]
    after_midnight = pull(at(2026, 10, 16, 0, 5))
    check = check_twice_monthly(SOURCE, [september, after_midnight], D(2026, 10, 16), CAL)
    assert (check.state, check.breach_id, check.days_late) == (
        RECOVERED, f"{SOURCE}:twice_monthly:2026-10-H1", 1,
    )  # fmt: skip
    assert check.recovered_on == D(2026, 10, 16)


def test_missed_half_months_in_a_row_are_one_breach_named_after_the_first() -> None:
    august = [pull(at(2026, 8, 20))]
    check = check_twice_monthly(SOURCE, august, D(2026, 10, 20), CAL)
    assert check.state == BREACHED
    assert check.breach_id == f"{SOURCE}:twice_monthly:2026-09-H1"
    assert check.late_since == D(2026, 9, 16)
    assert "自2026年9月上半月（9月1日至15日）起连续3个半月" in check.detail


@pytest.mark.parametrize("status", ["duplicate", "rejected", "failed"])
def test_only_successful_loads_count_as_updates(status: str) -> None:
    deliveries = [pull(at(2026, 9, 20)), pull(at(2026, 10, 9), status)]
    assert twice_states(deliveries, [D(2026, 10, 16)]) == [BREACHED]
    with_rejections = [pull(at(2026, 9, 20)), pull(at(2026, 10, 9), "loaded_with_rejections")]
    assert twice_states(with_rejections, [D(2026, 10, 16)]) == [OK]


def test_obligations_start_with_the_first_half_after_watch_from() -> None:
    assert twice_states([], [D(2026, 10, 20)], watch_from=D(2026, 9, 1)) == [BREACHED]
    never = check_twice_monthly(SOURCE, [], D(2026, 10, 20), CAL, watch_from=D(2026, 9, 1))
    assert never.breach_id == f"{SOURCE}:twice_monthly:2026-09-H1"
    # Watching from 09-02: the first whole half-month is 09-16..09-30.
    later = check_twice_monthly(SOURCE, [], D(2026, 10, 20), CAL, watch_from=D(2026, 9, 2))
    assert later.breach_id == f"{SOURCE}:twice_monthly:2026-09-H2"
    assert twice_states([], [D(2026, 10, 20)], watch_from=D(2026, 10, 16)) == [OK]


# -- the unknown year ------------------------------------------------------------------------------------


def test_a_year_the_calendar_does_not_know_is_undecidable_not_guessed() -> None:
    december = [pull(at(2026, 12, 20))]
    check = check_twice_monthly(SOURCE, december, D(2027, 1, 5), CAL)
    assert check.state == UNDECIDABLE
    assert "no working-day calendar for 2027" in check.detail
    # A change near the year end whose deadline falls in 2027, judged in 2026.
    change = [pull(at(2026, 12, 28, 9), "failed", change=D(2026, 12, 28))]
    assert change_states(change, [D(2026, 12, 29)]) == [UNDECIDABLE]
    # Once an operator copies the year's arrangement into calendar.yaml it is decided.
    known = WorkCalendar(CalendarOverrides(years={2027: {"holidays": [D(2027, 1, 1)]}}))
    assert check_change(SOURCE, change, D(2026, 12, 29), known, working_days=5).state == OK
    assert check_change(SOURCE, change, D(2027, 1, 6), known, working_days=5).state == BREACHED


def test_a_certain_breach_wins_over_an_undecidable_rule(catalog: Catalog) -> None:
    ref = catalog.source(SOURCE)  # twice monthly and 5 working days after a change
    deliveries = [pull(at(2026, 11, 20)), pull(at(2026, 12, 28, 9), "failed", change=D(2026, 12, 28))]
    result = evaluate_source(ref, deliveries, D(2026, 12, 29), CAL)
    assert [c.state for c in result.checks] == [BREACHED, UNDECIDABLE]
    assert result.state == BREACHED and result.days_late == 10  # 12-16..12-29
    # Without the breach the source is undecidable, not ok.
    fresh = [pull(at(2026, 12, 17)), deliveries[1]]
    result = evaluate_source(ref, fresh, D(2026, 12, 29), CAL)
    assert result.state == UNDECIDABLE
    assert "no working-day calendar for 2027" in result.reason


def test_a_source_shows_its_most_urgent_check(catalog: Catalog) -> None:
    ref = catalog.source(SOURCE)
    deliveries = [
        pull(at(2026, 10, 9), change=D(2026, 10, 9)),
        pull(at(2026, 10, 12), "failed", change=D(2026, 10, 12)),
    ]
    result = evaluate_source(ref, deliveries, D(2026, 10, 15), CAL)
    # Twice monthly: delivered in 10-01..15, next due 10-31. Change of 10-12: due 10-19.
    assert [c.state for c in result.checks] == [OK, OK]
    assert result.next_deadline == D(2026, 10, 19)
    result = evaluate_source(ref, deliveries, D(2026, 10, 16), CAL)
    assert result.state == DUE_SOON
    assert result.reason.startswith("2026年10月12日的数据变更应于2026年10月19日前入库")
    assert result.last_delivery == at(2026, 10, 9)
    assert (result.last_attempt, result.last_attempt_status) == (at(2026, 10, 12), "failed")


def ledger_row(source: str, received: dt.datetime, finished: dt.datetime | None = None) -> LedgerRow:
    dataset, department, _ = source.split("__")
    sha256 = f"{hash((source, received)) & (2**64 - 1):016x}" * 4
    return LedgerRow(
        delivery_id=f"{dataset}:{department}:{sha256[:16]}", dataset=dataset, department=department,
        source=source, file_name="x.csv", sha256=sha256, size_bytes=10, received_at=received,
        status="loaded", finished_at=finished, rows_read=1, rows_loaded=1,
    )  # fmt: skip


def test_evaluate_covers_every_catalog_source_from_the_ledger(catalog: Catalog) -> None:
    small = dataclasses.replace(catalog, datasets={"admin_penalty": catalog.datasets["admin_penalty"]})
    rows = [
        ledger_row("admin_penalty__scjg__landing", at(2026, 9, 1), finished=at(2026, 9, 1, 11)),
        ledger_row("admin_penalty__scjg__landing", at(2026, 10, 9), finished=at(2026, 10, 9, 11)),
        # A source the catalog no longer has, and a row received after the day judged.
        ledger_row("gone__scjg__landing", at(2026, 8, 1)),
        ledger_row("admin_penalty__jt__landing", at(2026, 10, 21)),
    ]
    results = evaluate(small, [Delivery.from_ledger(r) for r in rows], D(2026, 10, 20), CAL)
    by_source = {r.source_id: r for r in results}
    assert list(by_source) == [ref.id for ref in small.sources()]
    assert by_source["admin_penalty__scjg__landing"].state == OK
    # Watching since the earliest row (08-01, of the source that is gone): the others never delivered.
    silent = by_source["admin_penalty__jt__landing"]
    assert silent.state == BREACHED and silent.last_delivery is None and silent.last_attempt is None
    assert silent.checks[0].breach_id == "admin_penalty__jt__landing:twice_monthly:2026-08-H1"
    assert by_source["admin_penalty__jt__landing"].department == "jt"
    assert SourceFreshness.from_dict(silent.as_dict()) == silent
    recovered = by_source["admin_penalty__scjg__landing"]
    assert SourceFreshness.from_dict(recovered.as_dict()) == recovered


def test_a_dataset_can_drop_the_twice_monthly_rule(catalog: Catalog) -> None:
    dataset = catalog.datasets["admin_penalty"]
    relaxed = dataset.model_copy(update={"sla": Sla(twice_monthly=False, within_working_days_of_change=5)})
    ref = next(r for r in dataclasses.replace(catalog, datasets={"admin_penalty": relaxed}).sources()
               if r.id == SOURCE)  # fmt: skip
    result = evaluate_source(ref, [pull(at(2026, 8, 20))], D(2026, 10, 20), CAL)
    assert [c.rule for c in result.checks] == ["change"] and result.state == OK
