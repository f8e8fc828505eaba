"""Every figure of the October 2026 report on the fixture (see report_fixture.py), computed by hand,
on DuckDB and PostgreSQL; and the figures reconcile with the ledger and the quarantine."""

from __future__ import annotations

import json

import pytest
from report_fixture import BAD_ID, GENERATED_AT, VALID_ID

from etl.report.period import ReportPeriod
from etl.report.write import render


def test_the_fixture_ran_through_the_pipeline_as_planned(built):
    assert built.statuses == {"D0": "loaded", "D1": "loaded_with_rejections", "D3": "loaded_with_rejections",
                              "D2": "loaded", "D4": "duplicate"}  # fmt: skip


def test_overview(built):
    overview = built.metrics["overview"]
    # D1 (4 rows), D3 (3 rows), D2 (2 rows); D4 repeats D2's bytes, D0 is September's.
    assert {k: overview[k] for k in ("deliveries", "deliveries_successful", "deliveries_failed")} == {
        "deliveries": 3, "deliveries_successful": 3, "deliveries_failed": 0,
    }  # fmt: skip
    # Loaded: 101, 102 (D1), 201 (D3), 103, 105 (D2); rejected: 103, 104 (D1), 202, 203 (D3).
    assert (overview["rows_read"], overview["rows_loaded"], overview["rows_rejected"]) == (9, 5, 4)
    assert overview["pass_rate"] == pytest.approx(5 / 9)
    assert (overview["datasets_reporting"], overview["datasets_total"]) == (1, 1)
    assert (overview["departments_reporting"], overview["departments_total"]) == (2, 2)
    covered = [d["domain"] for d in overview["key_domains"] if d["covered"]]
    assert covered == ["工商", "医疗卫生"] and len(overview["key_domains"]) == 20
    assert (overview["key_domains_covered"], overview["key_domains_total"]) == (2, 20)


def test_department_scorecard_and_ranking(built):
    scjg, wjw = built.metrics["departments"]
    assert (scjg["department"], scjg["rank"], wjw["department"], wjw["rank"]) == ("scjg", 1, "wjw", 2)
    # scjg: D1 and D2; both halves of October delivered.
    assert {k: scjg[k] for k in (
        "deliveries", "deliveries_successful", "deliveries_required", "on_time", "rows_read", "rows_loaded",
        "rows_rejected", "publication_records", "publication_on_time", "publication_late", "code_records",
        "code_errors", "rows_rejected_in_quarantine", "rows_corrected",
    )} == {
        "deliveries": 2, "deliveries_successful": 2, "deliveries_required": 2, "on_time": 2, "rows_read": 6,
        "rows_loaded": 4, "rows_rejected": 2,
        # first published in October: 101 (decided 09-28, due 10-13, loaded 10-09: on time), 102
        # (09-01, due 09-10: late), 103 (10-08, due 10-16, loaded 10-20: late), 105 (10-12, due
        # 10-21, loaded 10-20: on time)
        "publication_records": 4, "publication_on_time": 2, "publication_late": 2,
        # 103's bad check character in D1, of the 6 rows read from deliveries with a USCC field
        "code_records": 6, "code_errors": 1,
        # 103 came back loaded in D2; 104 never did
        "rows_rejected_in_quarantine": 2, "rows_corrected": 1,
    }  # fmt: skip
    assert (scjg["on_time_rate"], scjg["publication_rate"], scjg["correction_rate"]) == (1.0, 0.5, 0.5)
    assert scjg["pass_rate"] == pytest.approx(4 / 6) and scjg["code_error_rate"] == pytest.approx(1 / 6)
    assert scjg["score"] == pytest.approx(100 * (0.3 * 1 + 0.3 * 4 / 6 + 0.2 * 0.5 + 0.1 * 5 / 6 + 0.1 * 0.5))
    # wjw: D3 only, nothing in the second half; 201 decided 10-09, due 10-19, loaded 10-12.
    assert {k: wjw[k] for k in (
        "deliveries_successful", "deliveries_required", "on_time", "rows_loaded", "rows_rejected",
        "publication_on_time", "publication_late", "code_records", "code_errors", "rows_corrected",
    )} == {
        "deliveries_successful": 1, "deliveries_required": 2, "on_time": 1, "rows_loaded": 1,
        "rows_rejected": 2,
        "publication_on_time": 1, "publication_late": 0,
        # the bad identity number is not a unified-code error
        "code_records": 3, "code_errors": 0,
        # 202 repeats 201's key in the same delivery: not a later delivery, not a correction
        "rows_corrected": 0,
    }  # fmt: skip
    assert (wjw["on_time_rate"], wjw["publication_rate"], wjw["code_error_rate"], wjw["correction_rate"]) == (
        0.5, 1.0, 0.0, 0.0)  # fmt: skip
    assert wjw["score"] == pytest.approx(100 * (0.3 * 0.5 + 0.3 / 3 + 0.2 * 1 + 0.1 * 1 + 0.1 * 0))


def test_quality_by_dimension_and_data_docs_link(built):
    (penalty,) = built.metrics["datasets"]
    # 9 rows read; rejected: 104 completeness, 103 and 203 accuracy, 202 uniqueness.
    assert {k: penalty[k] for k in ("completeness_failed", "conformity_failed", "accuracy_failed",
                                    "uniqueness_failed")} == {
        "completeness_failed": 1, "conformity_failed": 0, "accuracy_failed": 2, "uniqueness_failed": 1,
    }  # fmt: skip
    assert penalty["completeness"] == pytest.approx(8 / 9) and penalty["conformity"] == 1.0
    assert penalty["accuracy"] == pytest.approx(7 / 9) and penalty["uniqueness"] == pytest.approx(8 / 9)
    # Current records: 001, 002, 101, 102, 103, 105 (scjg) and 201 (wjw); name A carries code A on
    # 101 and 103 and code B on 201: one 一名多码 finding involving 3 of the 7.
    assert (penalty["consistency_checked"], penalty["consistency_involved"]) == (7, 3)
    assert penalty["consistency"] == pytest.approx(4 / 7)
    assert (penalty["deliveries_required"], penalty["on_time"], penalty["timeliness"]) == (4, 3, 0.75)
    assert penalty["publication_rate"] == pytest.approx(3 / 5)
    assert penalty["data_docs"] == "data_docs/expectations/admin_penalty.html"
    dimensions = {row["dimension"] for row in built.metrics["rule_dimensions"]}
    assert dimensions == {"completeness", "conformity", "accuracy", "consistency", "uniqueness", "timeliness"}


def test_top_reasons_with_masked_examples(built):
    reasons = [(r["rule"], r["dimension"], r["reasons"], r["rows"]) for r in built.metrics["reasons"]]
    assert reasons == [
        ("IDCARD_BAD_CHECK", "accuracy", 1, 1), ("USCC_BAD_CHECK", "accuracy", 1, 1),
        ("duplicate", "uniqueness", 1, 1), ("required", "completeness", 1, 1),
    ]  # fmt: skip
    examples = {r["rule"]: r["examples"] for r in built.metrics["reasons"]}
    (idcard,) = examples["IDCARD_BAD_CHECK"]
    assert (idcard["department"], idcard["file_name"], idcard["source_row"]) == ("wjw", "D3.csv", 4)
    assert idcard["value"] == BAD_ID[:4] + "*" * 10 + BAD_ID[-4:]
    assert (examples["required"][0]["file_name"], examples["required"][0]["source_row"]) == ("D1.csv", 5)
    assert examples["required"][0]["field_title"] == "违法事实"
    text = json.dumps(built.metrics, ensure_ascii=False)
    assert BAD_ID not in text and VALID_ID not in text


def test_open_breaches_as_the_run_after_the_period_sees_them(built):
    assert built.metrics["breaches_as_of"] == "2026-11-01"
    (breach,) = built.metrics["breaches"]
    assert (breach["department"], breach["rule"]) == ("wjw", "twice_monthly")
    assert (breach["deadline"], breach["due"]) == ("2026-10-31", "2026年10月下半月（10月16日至31日）")


def test_trend_over_six_months(built):
    trend = [(t["period"], t["deliveries"], t["rows_loaded"], t["rows_rejected"], t["deliveries_required"],
              t["on_time"]) for t in built.metrics["trend"]]  # fmt: skip
    # Obligations start with the first half-month after the first delivery (D0, 09-20): 10-H1.
    assert trend == [("2026-05", 0, 0, 0, 0, 0), ("2026-06", 0, 0, 0, 0, 0), ("2026-07", 0, 0, 0, 0, 0),
                     ("2026-08", 0, 0, 0, 0, 0), ("2026-09", 1, 2, 0, 0, 0), ("2026-10", 3, 5, 4, 4, 3)]


def test_figures_reconcile_with_the_ledger_and_the_quarantine(built):
    ledger = [r for r in built.warehouse.ledger() if r.status != "duplicate"]
    october = [r for r in ledger if r.received_at.month == 10]
    overview = built.metrics["overview"]
    assert overview["rows_loaded"] == sum(r.rows_loaded for r in october)
    assert overview["rows_rejected"] == sum(r.rows_rejected for r in october)
    assert overview["rows_read"] == overview["rows_loaded"] + overview["rows_rejected"]
    quarantined = built.warehouse.table_snapshot("quarantine").num_rows
    assert quarantined == overview["rows_rejected"]
    departments = built.metrics["departments"]
    assert sum(d["rows_rejected_in_quarantine"] for d in departments) == quarantined
    assert sum(d["rows_loaded"] for d in departments) == overview["rows_loaded"]
    assert json.loads(built.files.metrics.read_text(encoding="utf-8")) == built.metrics


def test_second_half_of_october(built, tmp_path):
    from dataclasses import replace

    from etl.report.queries import read_inputs

    period = ReportPeriod.parse("2026-10", half=2)
    inputs = replace(read_inputs(built.warehouse, built.catalog, period), generated_at=GENERATED_AT)
    _, metrics = render(inputs, tmp_path, docs_base=None)
    overview = metrics["overview"]
    # Only D2 (D4 is its duplicate): 103 and 105 loaded; one of two sources delivered this half.
    assert (overview["deliveries"], overview["rows_loaded"], overview["rows_rejected"]) == (1, 2, 0)
    assert [(d["department"], d["deliveries_required"], d["on_time"]) for d in metrics["departments"]] == [
        ("scjg", 1, 1), ("wjw", 1, 0)]  # fmt: skip
    assert metrics["reasons"] == [] and metrics["datasets"][0]["data_docs"] is None
    assert [t["period"] for t in metrics["trend"]] == [
        "2026-08-H1", "2026-08-H2", "2026-09-H1", "2026-09-H2", "2026-10-H1", "2026-10-H2"]  # fmt: skip
    # 103 was corrected by D2, but it was rejected in the first half: nothing to correct in this one.
    assert sum(d["rows_corrected"] for d in metrics["departments"]) == 0


def test_breaches_say_what_the_freshness_monitor_recorded(built, tmp_path):
    """The monitor recorded wjw's missed half and escalated it: the report says since when and how far."""
    import datetime as dt
    from dataclasses import replace

    from etl.alerts.plan import AlertRow
    from etl.report.queries import read_inputs

    inputs = replace(read_inputs(built.warehouse, built.catalog, ReportPeriod.parse("2026-10")),
                     generated_at=GENERATED_AT)  # fmt: skip
    assert inputs.alerts == ()  # the fixture never ran the monitor
    (breach,) = built.metrics["breaches"]
    assert (breach["first_alerted"], breach["escalation_level"]) == (None, None)
    alert = AlertRow(breach["breach_id"], breach["source"], "admin_penalty", "wjw", "twice_monthly",
                     "breached", dt.date(2026, 10, 31), dt.date(2026, 10, 30),
                     escalation_level=2)  # fmt: skip
    _, metrics = render(replace(inputs, alerts=(alert,)), tmp_path, docs_base=None)
    (breach,) = metrics["breaches"]
    assert breach["breach_id"] == "admin_penalty__wjw__landing:twice_monthly:2026-10-H2"
    assert (breach["first_alerted"], breach["escalation_level"]) == ("2026-10-30", 2)


def test_text_from_deliveries_cannot_inject_markup(built):
    import copy

    from etl.report.html import render_html

    metrics = copy.deepcopy(built.metrics)
    metrics["reasons"][0]["examples"][0]["message"] = "<script>alert(1)</script>"
    metrics["departments"][0]["short_name"] = '<img src="http://x/">'
    page = render_html(metrics)
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=" in page
