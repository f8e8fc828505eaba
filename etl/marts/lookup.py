"""``credit-etl lookup``: find subjects by code or name and show their profile, the lists they are
on as of a date, why they are key supervision targets, and every fact with its department and delivery.

A query shaped like a code (8-20 letters and digits once normalised: any of the six identifier
kinds or an identity number, 15 or 18 digits) is looked up as a code first; otherwise, or when no
code matches, as a name: exact matches if any, else names containing it. At most ``limit``
subjects are shown.

Identity numbers of natural persons are masked unless ``unmasked``. Every lookup writes a row to
``lookup_audit`` (who, when, the query, whether unmasked, the subjects shown); an unmasked one also
logs a warning line naming the user (never the numbers).
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from etl.codes import idcard
from etl.marts import read, rules
from etl.marts.subjects import MASKED_KINDS
from etl.warehouse.base import Warehouse, _columns

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 20
DEFAULT_FACTS = 50
CATEGORY_LABELS = {
    "licensing": "licences", "penalty": "penalties", "red_list": "red-list entries",
    "black_list": "black-list entries", "basic": "registrations", "other": "other records",
}  # fmt: skip


@dataclass
class SubjectView:
    profile: dict[str, Any]
    domains: list[dict[str, Any]]
    lists: list[dict[str, Any]]
    key_target: dict[str, Any] | None
    facts: list[dict[str, Any]]


@dataclass
class LookupResult:
    query: str
    as_of: dt.date
    matched_by: str  # code, name, partial name, or nothing
    unmasked: bool
    subjects: list[SubjectView] = field(default_factory=list)
    more: int = 0  # matches beyond the limit, not shown


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "unknown"


def lookup(
    warehouse: Warehouse,
    query: str,
    *,
    as_of: dt.date,
    unmasked: bool = False,
    serious_penalties: int | None = None,
    user: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> LookupResult:
    """Finds and shows the subjects ``query`` names; records the lookup in ``lookup_audit``."""
    from etl.errors import UsageError, WarehouseError

    query = query.strip()
    if not query:
        raise UsageError("the query is empty; give a code or a name")
    max_serious = rules.key_target_penalties(serious_penalties)
    user = user or current_user()
    with warehouse._session("looking up subjects") as session, session.transaction():
        if not _columns(session, "mart_subject_profiles"):
            raise WarehouseError(f"no marts in {warehouse.url.display}; run `credit-etl warehouse init`")
        if not session.rows("SELECT count(*) FROM mart_refreshes")[0][0]:
            raise WarehouseError(
                f"the marts in {warehouse.url.display} were never refreshed; run `credit-etl marts refresh`"
            )
        matched_by, keys = _find(session, query)
        result = LookupResult(query, as_of, matched_by, unmasked, more=max(0, len(keys) - limit))
        for key in keys[:limit]:
            found = read.profile(session, key)
            if found is None:  # named by a fact of a subject whose profile is being rebuilt
                continue
            result.subjects.append(
                SubjectView(
                    profile=found,
                    domains=read.domains(session, key),
                    lists=read.lists_on(session, as_of, key),
                    key_target=read.key_target(session, key, as_of, max_serious),
                    facts=read.facts(session, key),
                )
            )
        shown = ",".join(s.profile["subject_key"] for s in result.subjects)
        session.execute(
            "INSERT INTO lookup_audit (looked_up_at, os_user, query, unmasked, subject_keys) "
            "VALUES (now(), $user, $query, $unmasked, $keys)",
            {"user": user, "query": query, "unmasked": unmasked, "keys": shown},
        )
    if unmasked:
        log.warning("unmasked lookup by %s: %d subject(s) shown with identity numbers (lookup_audit)",
                    user, len(result.subjects))  # fmt: skip
    return result


def _find(session: Any, query: str) -> tuple[str, list[str]]:
    keys = read.keys_by_code(session, read.code_candidates(query))
    if keys:
        return "code", keys
    keys = read.keys_by_name(session, query, partial=False)
    if keys:
        return "name", keys
    keys = read.keys_by_name(session, query, partial=True)
    return ("partial name", keys) if keys else ("nothing", [])


# -- output -------------------------------------------------------------------------------------


def as_json(result: LookupResult) -> dict[str, Any]:
    """The result as JSON-ready values, identity numbers masked unless the lookup was unmasked."""
    return plain(
        {
            "query": shown_query(result),
            "as_of": result.as_of,
            "matched_by": result.matched_by,
            "unmasked": result.unmasked,
            "more": result.more,
            "subjects": [_masked(s, result.unmasked) for s in result.subjects],
        }
    )


def as_text(result: LookupResult, *, max_facts: int = DEFAULT_FACTS) -> str:
    """The result for a terminal: at most ``max_facts`` facts per subject, the latest first (the JSON
    has them all)."""
    query = shown_query(result)
    if not result.subjects:
        return f"no subject matches {query!r}\n"
    lines = [f"{len(result.subjects)} subject(s) matching {query!r} by {result.matched_by}, "
             f"lists as of {result.as_of}"]  # fmt: skip
    if result.more:
        lines.append(f"({result.more} more not shown; narrow the query)")
    for view in (_masked(s, result.unmasked) for s in result.subjects):
        lines += ["", *_subject_lines(view, max_facts)]
    return "\n".join(lines) + "\n"


def shown_query(result: LookupResult) -> str:
    """The query as output repeats it: masked when it is (or names) an identity number, unless the
    lookup was unmasked."""
    if result.unmasked:
        return result.query
    codes = read.code_candidates(result.query)
    person = any(s.profile["subject_kind"] in MASKED_KINDS and s.profile["subject_key"] in codes
                 for s in result.subjects)  # fmt: skip
    organisation = any(s.profile["subject_key"] in codes for s in result.subjects) and not person
    looks_personal = bool(codes) and len(codes[0]) in (15, 18) and codes[0][:17].isdigit()
    return idcard.mask(result.query) if person or (looks_personal and not organisation) else result.query


def _subject_lines(view: dict[str, Any], max_facts: int) -> list[str]:
    p = view["profile"]
    lines = [
        f"{p['subject_key']}  {p['name'] or ''}",
        f"  kind {p['subject_kind']}, type {p['subject_type'] or '-'}, division {p['division'] or '-'}",
    ]
    if p["legacy_codes"]:
        lines.append(f"  legacy codes: {p['legacy_codes']}")
    if p["former_names"]:
        lines.append(f"  former names: {p['former_names']}")
    for category in ("licensing", "penalty", "red_list", "black_list"):
        by_domain = [f"{d['domain']} {d['records']}" for d in view["domains"] if d["category"] == category]
        count = sum(d["records"] for d in view["domains"] if d["category"] == category)
        latest = max((d["latest"] for d in view["domains"] if d["category"] == category and d["latest"]),
                     default=None)  # fmt: skip
        detail = f" (latest {latest}; {', '.join(by_domain)})" if count else ""
        lines.append(f"  {CATEGORY_LABELS[category]}: {count}{detail}")
    target = view["key_target"]
    if target:
        lines.append(f"  KEY SUPERVISION TARGET: {target['reasons']} (black lists in "
                     f"{target['black_list_domains']} domains, {target['serious_penalties']} serious "
                     "penalties in 12 months)")  # fmt: skip
    lines.append(f"  on lists: {len(view['lists'])}")
    for entry in view["lists"]:
        until = entry["exit_date"] or "-"
        lines.append(f"    {entry['list_kind']} {entry['list_name']} [{entry['domain']}] since "
                     f"{entry['entry_date']} until {until}, by {entry['authority'] or '-'} "
                     f"(department {entry['department']}, delivery {entry['delivery_id']})")  # fmt: skip
    facts = sorted(view["facts"], key=lambda f: f["fact_date"] or dt.date.min, reverse=True)
    hidden = len(facts) - max_facts
    more = f" ({hidden} older not shown; --json has them all)" if hidden > 0 else ""
    lines.append(f"  facts: {len(facts)}{more}")
    for fact in facts[:max_facts]:
        serious = " serious" if fact["serious"] else ""
        lines.append(f"    {fact['category']}{serious} {fact['dataset']} [{fact['domain']}] "
                     f"{fact['fact_date'] or '-'}: {fact['record_key']} (department {fact['department']}, "
                     f"delivery {fact['delivery_id']}, row {fact['source_row']})")  # fmt: skip
    return lines


def _masked(view: SubjectView, unmasked: bool) -> dict[str, Any]:
    """The view with identity-number keys masked; record keys of a natural person's records may hold
    the number too, so they are masked the same way."""
    kind = view.profile["subject_kind"]
    key = view.profile["subject_key"]
    shown = read.shown_key(key, kind, unmasked=unmasked)

    def hide(value: Any) -> Any:
        return value.replace(key, shown) if isinstance(value, str) and shown != key else value

    def hide_all(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: hide(v) for k, v in row.items()} for row in rows]

    return {
        "profile": {k: hide(v) for k, v in view.profile.items()},
        "domains": view.domains,
        "lists": hide_all(view.lists),
        "key_target": view.key_target,
        "facts": hide_all(view.facts),
    }


def plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def dumps(result: LookupResult) -> str:
    return json.dumps(as_json(result), ensure_ascii=False, indent=2)
