"""A monitor simulated day by day over a hand-built ledger, for the alert tests."""

from __future__ import annotations

import dataclasses
import datetime as dt

from etl.alerts.plan import AlertPlan, AlertPolicy, AlertRow, plan_alerts
from etl.calendar import WorkCalendar
from etl.catalog import Catalog
from etl.freshness import Delivery, evaluate

TAX_SOURCE = "admin_penalty__tax__database"


def one_source_catalog(catalog: Catalog, source_id: str = TAX_SOURCE) -> Catalog:
    """The catalog with only admin_penalty, delivered only by ``source_id``."""
    dataset = catalog.datasets["admin_penalty"]
    source = next(s for s in dataset.sources if dataset.source_id(s) == source_id)
    narrowed = dataset.model_copy(update={"sources": (source,)})
    return dataclasses.replace(catalog, datasets={"admin_penalty": narrowed})


@dataclasses.dataclass
class Monitor:
    """Evaluates and plans like the monitor DAG, keeping the alert rows between days."""

    catalog: Catalog
    deliveries: list[Delivery]
    calendar: WorkCalendar = dataclasses.field(default_factory=WorkCalendar)
    policy: AlertPolicy = dataclasses.field(default_factory=AlertPolicy)
    watch_from: dt.date | None = None
    rows: list[AlertRow] = dataclasses.field(default_factory=list)

    def plan(self, day: dt.date) -> AlertPlan:
        sources = evaluate(self.catalog, self.deliveries, day, self.calendar, watch_from=self.watch_from)
        plan = plan_alerts(self.rows, sources, day, self.calendar, self.policy)
        self.rows = plan.merged(self.rows)
        return plan

    def run(self, day: dt.date) -> list[tuple[str, str]]:
        """(kind, rule) of the day's notices."""
        return sorted((n.kind, n.row.rule) for n in self.plan(day).notices)

    def row(self, breach_id: str) -> AlertRow:
        return next(r for r in self.rows if r.breach_id == breach_id)
