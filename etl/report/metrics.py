"""Every figure of the NDRC report, computed from a ``ReportInputs`` (no I/O).

``compute(inputs)`` returns one JSON-ready dict (``metrics.json`` is exactly it; the HTML and the
workbook render its tables). Rates are fractions in [0, 1], ``None`` when there is nothing to
divide by. Definitions (the report's footnotes say the same in Chinese, ``DEFINITIONS``):

deliveries
    ledger rows received in the period (Shanghai dates), duplicates (the same bytes again) left
    out, a reprocessed delivery counted once (its latest attempt); *successful* ones ended
    ``loaded`` or ``loaded_with_rejections``.
deliveries required
    for each catalog source with ``sla.twice_monthly``, one per half-month of the period, from the
    first half-month starting on or after the platform's first ledger row (``etl.freshness``);
    sources with only a change rule owe none per period.
on time
    a required half-month in which the source had a successful delivery received (the freshness
    rule: the deadline is the half's last day); on-time rate = on time / required.
pass rate
    rows loaded / (rows loaded + rows rejected) over the period's deliveries.
双公示 compliance
    of the 双公示 records first published (loaded) in the period, those published within the
    dataset's ``sla.publication.working_days`` working days of the decision date
    (``etl.freshness.assess_publication``); records without a judgeable date are left out.
unified-code error rate 重错码率
    rows rejected with an identifier-check reason (USCC_*, ORGCODE_*, REGNO_*, IDCARD_*,
    SCIENTIFIC_NOTATION, UNRECOGNISED_CODE) on a unified-social-credit-code field / rows read
    from the period's deliveries of datasets that have such a field.
correction rate 纠正率
    of the rows rejected in the period, those whose dedup key was loaded by a successful delivery
    received after the rejecting one and before the end of the period.
dimensions
    per dataset, 1 - rows rejected with a reason of that dimension / rows read (a row with reasons
    of two dimensions counts in both); consistency 1 - current records involved in a 一码多名 /
    一名多码 / organisation-code finding / current records checked (whole warehouse at report time);
    timeliness = the dataset's on-time rate.
score
    0.3 on-time rate + 0.3 pass rate + 0.2 双公示 compliance + 0.1 (1 - 重错码率) + 0.1 纠正率,
    times 100; a figure a department has nothing to be judged on is left out and the weights of
    the others scaled up. Ranking: score, highest first; no score last.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from etl.catalog import KEY_DOMAINS, Catalog, Dataset
from etl.freshness import (
    BREACHED,
    SHANGHAI,
    SUCCESSFUL_STATUSES,
    Delivery,
    HalfMonth,
    assess_publication,
    default_watch_from,
    evaluate,
    shanghai_date,
)
from etl.report import dimensions as dim
from etl.report.period import ReportPeriod
from etl.report.queries import Rejection, ReportInputs
from etl.warehouse.ledger import LedgerRow

TOP_REASONS = 10
EXAMPLES_PER_REASON = 3
SCORE_WEIGHTS = (("on_time_rate", 0.3), ("pass_rate", 0.3), ("publication_rate", 0.2),
                 ("code_accuracy", 0.1), ("correction_rate", 0.1))  # fmt: skip

DEFINITIONS = (
    ("报送次数", "统计期内收到的报送（按上海时间的接收日期），不含内容完全相同的重复报送；"
             "成功报送指全部或部分入库的报送。"),
    ("应报次数", "目录中要求“每半月至少报送一次”的每个报送渠道，统计期内每个半月应报1次"
             "（整月2次，半月1次），自平台收到第一笔报送后的第一个完整半月起计。"),
    ("按时报送率", "应报的半月中，该渠道在该半月内有成功报送的比例。"),
    ("入库通过率", "入库行数 ÷（入库行数 + 拒收行数）。"),
    ("双公示7个工作日公示率", "统计期内首次公示（入库）的双公示记录中，自决定日期起7个工作日内公示的比例；"
                       "无决定日期或日历无法判断的记录不计入。"),
    ("重错码率", "因统一社会信用代码字段校验不通过（长度、字符、登记管理部门、行政区划、校验位、"
             "科学计数法、无法识别等）被拒收的行数 ÷ 含统一社会信用代码字段的数据集"
             "在统计期内报送的总行数。"),
    ("纠正率", "统计期内被拒收的行中，其去重键（如决定书文号+相对人名称）在统计期结束前"
            "被之后的成功报送入库的比例。"),
    ("质量维度", "各维度通过率 = 1 − 因该维度规则被拒收的行数 ÷ 报送行数（同一行违反多个维度分别计入）；"
             "一致性 = 1 − 涉及一码多名、一名多码、组织机构代码不符的现存记录数 ÷ "
             "参与检查的现存记录数（全库，报告生成时）；及时性 = 该数据集的按时报送率。"),
    ("综合得分", "100 ×（0.3 按时报送率 + 0.3 入库通过率 + 0.2 双公示公示率 + "
             "0.1 ×（1 − 重错码率）+ 0.1 纠正率）；无可评价数据的指标不计，其余权重按比例放大。"),
    ("身份证号", "报告中的身份证号码一律只显示前4位和后4位。"),
)  # fmt: skip


def ratio(part: int, whole: int) -> float | None:
    """``part / whole``; None when ``whole`` is 0.

    >>> ratio(1, 4), ratio(0, 0)
    (0.25, None)
    """
    return part / whole if whole else None


def mask_identity_numbers(text: str) -> str:
    """Masks every identity-number-shaped run in ``text``, old 15-digit numbers too
    (``etl.codes.idcard.mask_in_text``; a 15-digit 注册号 quoted in an example is masked as well:
    a report cannot tell the two apart, and it errs towards privacy).

    >>> mask_identity_numbers("证件 450203199001011234，代码 91450200MA5K000001")
    '证件 4502**********1234，代码 91450200MA5K000001'
    """
    from etl.codes import idcard

    return idcard.mask_in_text(text)


def masked(value: Any) -> Any:
    """``value`` with ``mask_identity_numbers`` applied to every string inside it."""
    if isinstance(value, str):
        return mask_identity_numbers(value)
    if isinstance(value, Mapping):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------------
# Ledger figures


@dataclass(frozen=True)
class _Tally:
    deliveries: int = 0
    successful: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0

    @classmethod
    def of(cls, rows: Iterable[LedgerRow]) -> _Tally:
        rows = list(rows)
        return cls(
            deliveries=len(rows),
            successful=sum(r.status in SUCCESSFUL_STATUSES for r in rows),
            rows_read=sum(r.rows_read for r in rows),
            rows_loaded=sum(r.rows_loaded for r in rows),
            rows_rejected=sum(r.rows_rejected for r in rows),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "deliveries": self.deliveries,
            "deliveries_successful": self.successful,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
            "pass_rate": ratio(self.rows_loaded, self.rows_loaded + self.rows_rejected),
        }


def in_period(ledger: Iterable[LedgerRow], period: ReportPeriod) -> list[LedgerRow]:
    """The period's deliveries: received in it, duplicates left out, and of a delivery processed
    again (``credit-etl reprocess``: same delivery id and receipt) only its latest attempt."""
    latest: dict[str, LedgerRow] = {}
    for row in ledger:
        if row.status == "duplicate" or not period.contains(shanghai_date(row.received_at)):
            continue
        seen = latest.get(row.delivery_id)
        if seen is None or (row.ledger_id or 0) > (seen.ledger_id or 0):
            latest[row.delivery_id] = row
    return sorted(latest.values(), key=lambda r: (r.received_at, r.ledger_id or 0))


def _successful(rows: Iterable[LedgerRow]) -> list[LedgerRow]:
    return [r for r in rows if r.status in SUCCESSFUL_STATUSES]


@dataclass(frozen=True)
class Obligation:
    """A source's twice-monthly obligations in a period: required half-months and those met."""

    source: str
    dataset: str
    department: str
    required: int
    on_time: int


def obligations(catalog: Catalog, ledger: Iterable[LedgerRow], period: ReportPeriod) -> list[Obligation]:
    """One per catalog source, in catalog order (see ``deliveries required`` and ``on time``)."""
    rows = list(ledger)
    watch = HalfMonth.starting_from(default_watch_from([Delivery.from_ledger(r) for r in rows], period.end))
    delivered: dict[str, set[HalfMonth]] = defaultdict(set)
    for row in _successful(rows):
        delivered[row.source].add(HalfMonth.of(shanghai_date(row.received_at)))
    found = []
    for ref in catalog.sources():
        halves = [h for h in period.half_months() if h >= watch] if ref.dataset.sla.twice_monthly else []
        met = sum(h in delivered[ref.id] for h in halves)
        found.append(Obligation(ref.id, ref.dataset.id, ref.source.department, len(halves), met))
    return found


def _on_time(found: Iterable[Obligation]) -> dict[str, Any]:
    found = list(found)
    required, met = sum(o.required for o in found), sum(o.on_time for o in found)
    return {"deliveries_required": required, "on_time": met, "on_time_rate": ratio(met, required)}


# ---------------------------------------------------------------------------------------------------
# Rejections


def _code_fields(dataset: Dataset | None) -> frozenset[str]:
    return frozenset() if dataset is None else frozenset(f.name for f in dataset.fields if f.type == "uscc")


def is_code_error(rejection: Rejection, catalog: Catalog) -> bool:
    """Rejected for an identifier-check reason on a unified-social-credit-code field."""
    fields = _code_fields(catalog.datasets.get(rejection.dataset))
    return any(r.field in fields and dim.is_code_rule(r.rule) for r in rejection.reasons)


def is_corrected(rejection: Rejection, received_at: dt.datetime | None,
                 later_loads: Mapping[tuple[str, int], dt.datetime]) -> bool:  # fmt: skip
    """Its dedup key was loaded by a successful delivery received after the rejecting delivery."""
    latest = later_loads.get((rejection.delivery_id, rejection.source_row))
    return latest is not None and received_at is not None and latest > received_at


def _dimensions_of(rejection: Rejection, catalog: Catalog) -> set[str]:
    dataset = catalog.datasets.get(rejection.dataset)
    return {dim.dimension_of(r.rule, dataset) for r in rejection.reasons}


@dataclass(frozen=True)
class _RejectionFigures:
    rejected: int
    code_errors: int
    corrected: int


def _grouped(rejections: Iterable[Rejection], by: str) -> dict[str, list[Rejection]]:
    groups: dict[str, list[Rejection]] = defaultdict(list)
    for rejection in rejections:
        groups[getattr(rejection, by)].append(rejection)
    return groups


def _rejection_figures(rejections: Iterable[Rejection], inputs: ReportInputs,
                       received: Mapping[str, dt.datetime]) -> _RejectionFigures:  # fmt: skip
    rejected = code = corrected = 0
    for rejection in rejections:
        rejected += 1
        code += is_code_error(rejection, inputs.catalog)
        corrected += is_corrected(rejection, received.get(rejection.delivery_id), inputs.later_loads)
    return _RejectionFigures(rejected, code, corrected)


def _received_at(ledger: Iterable[LedgerRow]) -> dict[str, dt.datetime]:
    """Delivery id -> when it was first received (a reprocessed delivery keeps its id)."""
    received: dict[str, dt.datetime] = {}
    for row in ledger:
        if row.status != "duplicate":
            first = received.get(row.delivery_id)
            received[row.delivery_id] = row.received_at if first is None else min(first, row.received_at)
    return received


def _code_records(rows: Iterable[LedgerRow], catalog: Catalog) -> int:
    """Rows read from deliveries of datasets with a unified-social-credit-code field."""
    return sum(r.rows_read for r in rows if _code_fields(catalog.datasets.get(r.dataset)))


# ---------------------------------------------------------------------------------------------------
# Sections


def overview(inputs: ReportInputs, period_rows: list[LedgerRow]) -> dict[str, Any]:
    catalog = inputs.catalog
    good = _successful(period_rows)
    refs = {ref.id: ref for ref in catalog.sources()}
    domains = set()
    for row in good:
        ref = refs.get(row.source)
        if ref is not None:
            domains.add(catalog.domain_of(ref))
        elif row.dataset in catalog.datasets:
            domains.add(catalog.datasets[row.dataset].domain)
    obliged = {ref.source.department for ref in catalog.sources()}
    return {
        **_Tally.of(period_rows).as_dict(),
        "deliveries_failed": sum(r.status in ("rejected", "failed") for r in period_rows),
        "datasets_reporting": len({r.dataset for r in good}),
        "datasets_total": len(catalog.datasets),
        "departments_reporting": len({r.department for r in good}),
        "departments_total": len(obliged),
        "key_domains_covered": len(domains & set(KEY_DOMAINS)),
        "key_domains_total": len(KEY_DOMAINS),
        "key_domains": [{"domain": d, "covered": d in domains} for d in KEY_DOMAINS],
    }


def _score(row: Mapping[str, Any]) -> float | None:
    values = {"code_accuracy": None if row["code_error_rate"] is None else 1 - row["code_error_rate"]}
    weighted = [(row.get(name, values.get(name)), weight) for name, weight in SCORE_WEIGHTS]
    present = [(value, weight) for value, weight in weighted if value is not None]
    total = sum(weight for _, weight in present)
    return 100 * sum(value * weight for value, weight in present) / total if total else None


def departments(inputs: ReportInputs, period_rows: list[LedgerRow], found: list[Obligation],
                received: Mapping[str, dt.datetime]) -> list[dict[str, Any]]:  # fmt: skip
    catalog = inputs.catalog
    publication = _publication_report(inputs)
    rates = {r.department: r for r in publication.department_rates}
    ids = list(dict.fromkeys(ref.source.department for ref in catalog.sources()))
    ids += sorted({r.department for r in period_rows} - set(ids))
    rejections = _grouped(inputs.rejections, "department")
    result = []
    for department in ids:
        rows = [r for r in period_rows if r.department == department]
        figures = _rejection_figures(rejections.get(department, []), inputs, received)
        rate = rates.get(department)
        code_records = _code_records(rows, catalog)
        info = catalog.departments.get(department)
        entry = {
            "department": department,
            "name": info.name if info else department,
            "short_name": info.short_name if info else department,
            **_Tally.of(rows).as_dict(),
            **_on_time(o for o in found if o.department == department),
            "publication_records": rate.on_time + rate.late if rate else 0,
            "publication_on_time": rate.on_time if rate else 0,
            "publication_late": rate.late if rate else 0,
            "publication_rate": rate.rate if rate else None,
            "code_records": code_records,
            "code_errors": figures.code_errors,
            "code_error_rate": ratio(figures.code_errors, code_records),
            "rows_rejected_in_quarantine": figures.rejected,
            "rows_corrected": figures.corrected,
            "correction_rate": ratio(figures.corrected, figures.rejected),
        }
        entry["score"] = _score(entry)
        result.append(entry)
    result.sort(key=lambda e: (e["score"] is None, -(e["score"] or 0), e["department"]))
    for rank, entry in enumerate(result, start=1):
        entry["rank"] = rank if entry["score"] is not None else None
    return result


def _publication_report(inputs: ReportInputs) -> Any:
    windows = {
        d.id: d.sla.publication.working_days
        for d in inputs.catalog.datasets.values()
        if d.sla.publication is not None
    }
    records = [
        r for r in inputs.publication if inputs.period.contains(r.first_loaded_on) and r.dataset in windows
    ]
    return assess_publication(records, windows, inputs.calendar)


def _consistency_by_dataset(inputs: ReportInputs) -> tuple[dict[str, tuple[int, int]], Any]:
    """Dataset -> (records checked, records involved in a finding), and the findings."""
    from etl.codes.warehouse_consistency import checked_records, find_inconsistencies

    result = find_inconsistencies(inputs.identifiers, inputs.catalog)
    checked = Counter(checked_records(inputs.identifiers)["dataset"].to_pylist())
    involved: Counter[str] = Counter()
    for records in result.findings["records"].to_pylist():
        for record in records:
            involved[record["dataset"]] += 1
    return {d: (checked[d], involved[d]) for d in set(checked) | set(involved)}, result


def datasets(inputs: ReportInputs, period_rows: list[LedgerRow], found: list[Obligation],
             docs_base: str | None) -> list[dict[str, Any]]:  # fmt: skip
    from etl.validate.docs import page_path

    catalog = inputs.catalog
    consistency, _ = _consistency_by_dataset(inputs)
    publication = _publication_report(inputs)
    rejections = _grouped(inputs.rejections, "dataset")
    result = []
    for dataset in catalog.datasets.values():
        rows = [r for r in period_rows if r.dataset == dataset.id]
        tally = _Tally.of(rows)
        failing: Counter[str] = Counter()
        for rejection in rejections.get(dataset.id, []):
            failing.update(_dimensions_of(rejection, catalog))
        checked, involved = consistency.get(dataset.id, (0, 0))
        on_time = _on_time(o for o in found if o.dataset == dataset.id)
        pub = [r for r in publication.rates if r.dataset == dataset.id]
        judged = sum(r.on_time + r.late for r in pub)
        entry: dict[str, Any] = {
            "dataset": dataset.id,
            "title": dataset.title,
            "domain": dataset.domain,
            **tally.as_dict(),
            **on_time,
            "publication_rate": ratio(sum(r.on_time for r in pub), judged),
            "consistency_checked": checked,
            "consistency_involved": involved,
            "data_docs": f"{docs_base.rstrip('/')}/{page_path(dataset.id)}" if docs_base else None,
        }
        for name in (dim.COMPLETENESS, dim.CONFORMITY, dim.ACCURACY, dim.UNIQUENESS):
            entry[f"{name}_failed"] = failing[name]
            entry[name] = None if not tally.rows_read else 1 - failing[name] / tally.rows_read
        entry[dim.CONSISTENCY] = None if not checked else 1 - involved / checked
        entry[dim.TIMELINESS] = on_time["on_time_rate"]
        result.append(entry)
    return result


def _short_name(catalog: Catalog, department: str) -> str:
    info = catalog.departments.get(department)
    return info.short_name if info else department


def top_reasons(inputs: ReportInputs, ledger: Iterable[LedgerRow]) -> list[dict[str, Any]]:
    """The most frequent rejection reasons (by reasons given), each with a few examples."""
    from etl.codes import idcard

    catalog = inputs.catalog
    files = {r.delivery_id: r.file_name for r in ledger if r.status != "duplicate"}
    counts: Counter[str] = Counter()
    rows: Counter[str] = Counter()
    examples: dict[str, list[dict[str, Any]]] = defaultdict(list)
    first_dataset: dict[str, Dataset | None] = {}
    for rejection in inputs.rejections:
        dataset = catalog.datasets.get(rejection.dataset)
        for rule in {r.rule for r in rejection.reasons}:
            rows[rule] += 1
            first_dataset.setdefault(rule, dataset)
        for reason in rejection.reasons:
            counts[reason.rule] += 1
            if len(examples[reason.rule]) >= EXAMPLES_PER_REASON:
                continue
            field = dataset.field(reason.field) if dataset and reason.field in dataset.field_names else None
            value = reason.value
            if value and field is not None and field.is_personal:
                value = idcard.mask(value)
            examples[reason.rule].append({
                "dataset": rejection.dataset,
                "dataset_title": dataset.title if dataset else rejection.dataset,
                "department": rejection.department,
                "department_name": _short_name(catalog, rejection.department),
                "file_name": files.get(rejection.delivery_id, ""),
                "source_row": rejection.source_row,
                "field": reason.field,
                "field_title": field.title if field else (reason.field or "整行"),
                "value": value,
                "message": reason.message,
            })  # fmt: skip
    ranked = sorted(counts, key=lambda rule: (-counts[rule], rule))[:TOP_REASONS]
    result = []
    for rule in ranked:
        # A catalog rule id (one_of, require, compare) is judged in the first dataset that used it.
        dimension = dim.dimension_of(rule, first_dataset.get(rule))
        result.append({
            "rule": rule, "dimension": dimension, "dimension_title": dim.TITLES[dimension],
            "reasons": counts[rule], "rows": rows[rule], "examples": examples[rule],
        })  # fmt: skip
    return result


def breaches(inputs: ReportInputs, as_of: dt.date) -> list[dict[str, Any]]:
    """Sources in breach of their SLA at ``as_of`` (the day after the period, or today if earlier)."""
    catalog = inputs.catalog
    deliveries = [Delivery.from_ledger(r) for r in inputs.ledger]
    alerts = {a.breach_id: a for a in inputs.alerts}
    result = []
    for source in evaluate(catalog, deliveries, as_of, inputs.calendar):
        if source.state != BREACHED:
            continue
        info = catalog.departments.get(source.department)
        for check in source.checks:
            if check.state != BREACHED:
                continue
            result.append({
                "source": source.source_id, "dataset": source.dataset,
                "dataset_title": catalog.datasets[source.dataset].title, "department": source.department,
                "department_name": info.name if info else source.department, "rule": check.rule,
                "due": check.due_label, "deadline": check.deadline.isoformat() if check.deadline else None,
                "days_late": check.days_late, "detail": check.detail, "breach_id": check.breach_id,
                **_alerted(alerts.get(check.breach_id or "")),
            })  # fmt: skip
    result.sort(key=lambda b: (-(b["days_late"] or 0), b["source"], b["rule"]))
    return result


def _alerted(alert: Any) -> dict[str, Any]:
    """What the freshness monitor recorded of a breach: first seen, escalation level (0: none yet)."""
    if alert is None:
        return {"first_alerted": None, "escalation_level": None}
    return {"first_alerted": alert.first_seen.isoformat(), "escalation_level": alert.escalation_level}


def trend(inputs: ReportInputs) -> list[dict[str, Any]]:
    result = []
    for period in inputs.period.trend():
        rows = in_period(inputs.ledger, period)
        good = _successful(rows)
        result.append({
            "period": period.key, "label": period.label, **_Tally.of(rows).as_dict(),
            **_on_time(obligations(inputs.catalog, inputs.ledger, period)),
            "datasets_reporting": len({r.dataset for r in good}),
            "departments_reporting": len({r.department for r in good}),
        })  # fmt: skip
    return result


def compute(inputs: ReportInputs, *, docs_base: str | None = None) -> dict[str, Any]:
    """Every figure of the report for ``inputs.period``; identity numbers masked everywhere."""
    period = inputs.period
    period_rows = in_period(inputs.ledger, period)
    found = obligations(inputs.catalog, inputs.ledger, period)
    received = _received_at(inputs.ledger)
    generated = inputs.generated_at.astimezone(SHANGHAI)
    # Breaches as the run after the period sees them (the half that ends the period has just been
    # missed or not), or as of today for a period not over yet.
    as_of = min(period.end + dt.timedelta(days=1), generated.date())
    document = {
        "period": {
            "key": period.key, "label": period.label, "start": period.start.isoformat(),
            "end": period.end.isoformat(), "half": period.half,
        },
        "generated_at": generated.isoformat(timespec="seconds"),
        "breaches_as_of": as_of.isoformat(),
        "overview": overview(inputs, period_rows),
        "departments": departments(inputs, period_rows, found, received),
        "datasets": datasets(inputs, period_rows, found, docs_base),
        "rule_dimensions": [
            {"rule": rule, "dimension": d, "dimension_title": dim.TITLES[d], "checks": text}
            for rule, d, text in dim.RULE_DIMENSIONS
        ],
        "reasons": top_reasons(inputs, inputs.ledger),
        "breaches": breaches(inputs, as_of),
        "trend": trend(inputs),
        "definitions": [{"term": t, "definition": d} for t, d in DEFINITIONS],
    }  # fmt: skip
    return masked(document)
