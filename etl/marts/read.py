"""Reading the marts: subjects by code or name, a subject's profile, facts and list memberships.

All functions take an open warehouse ``Session`` and bind every value. Subject keys of kind
``idcard`` (natural persons' identity numbers) are masked by ``shown_key`` unless the caller asks
for them unmasked; the warehouse itself keeps them whole.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from typing import Any

from etl.codes import idcard
from etl.codes.exceptions import InvalidCode
from etl.codes.normalise import normalise
from etl.marts.build import key_target_params, key_targets_sql
from etl.marts.subjects import MASKED_KINDS
from etl.marts.templates import render
from etl.warehouse.base import Session, bind

# A code of any of the six identifier kinds (and identity numbers) once normalised.
CODE_SHAPE = re.compile(r"^[0-9A-Z]{8,20}$")
PROFILE_COLUMNS = (
    "subject_key", "subject_kind", "name", "subject_type", "division", "legacy_codes", "former_names",
    "licences", "latest_licence", "penalties", "latest_penalty", "red_list_entries",
    "latest_red_list_entry", "black_list_entries", "latest_black_list_entry",
)  # fmt: skip
DOMAIN_COLUMNS = ("domain", "category", "records", "latest")
FACT_COLUMNS = (
    "category", "dataset", "domain", "department", "fact_date", "exit_date", "list_name", "authority",
    "serious", "subject_name", "delivery_id", "source_row", "record_key",
)  # fmt: skip
LIST_COLUMNS = (
    "subject_key", "subject_kind", "subject_name", "dataset", "list_kind", "list_name", "domain",
    "department", "authority", "entry_date", "exit_date", "delivery_id", "source_row", "record_key",
)  # fmt: skip
TARGET_COLUMNS = ("as_of", "black_list_domains", "serious_penalties", "reasons")


def shown_key(key: str, kind: str, *, unmasked: bool = False) -> str:
    """The subject key as output shows it: identity numbers masked unless ``unmasked``.

    >>> shown_key("360426199101010071", "idcard"), shown_key("91450200MA5WPLC21K", "uscc")
    ('3604**********0071', '91450200MA5WPLC21K')
    """
    return idcard.mask(key) if kind in MASKED_KINDS and not unmasked else key


def code_candidates(query: str) -> list[str]:
    """The codes ``query`` may stand for: itself normalised, and an old 15-digit identity number
    also as its 18-digit form. Empty when it is not shaped like a code.

    >>> code_candidates(" 9145 0200-ma5wplc21k "), code_candidates("柳州市")
    (['91450200MA5WPLC21K'], [])
    """
    code = normalise(query)
    if not CODE_SHAPE.match(code):
        return []
    candidates = [code]
    if len(code) == idcard.OLD_LENGTH and code.isdigit():
        with contextlib.suppress(InvalidCode):  # not a valid old identity number: the code as given
            candidates.append(idcard.from_15(code))
    return candidates


def keys_by_code(session: Session, codes: list[str]) -> list[str]:
    """Subjects keyed by one of ``codes``, or whose records carry it as USCC, registration number
    or organisation code, or whose USCC embeds it as organisation code (positions 9-17)."""
    if not codes:
        return []
    names = [f"code_{i}" for i in range(len(codes))]
    listed = ", ".join(f"CAST(${n} AS VARCHAR)" for n in names)
    sql = f"""SELECT subject_key FROM mart_subject_profiles WHERE subject_key IN ({listed})
UNION
SELECT subject_key FROM mart_subject_facts
WHERE uscc IN ({listed}) OR regno IN ({listed}) OR orgcode IN ({listed})
UNION
SELECT subject_key FROM mart_subject_profiles
WHERE subject_kind = 'uscc' AND substr(subject_key, 9, 9) IN ({listed})
ORDER BY 1"""
    return [key for (key,) in session.rows(sql, dict(zip(names, codes, strict=True)))]


def keys_by_name(session: Session, name: str, *, partial: bool) -> list[str]:
    """Subjects whose profile name or any record's name is ``name`` (or contains it)."""
    test = "strpos({column}, $name) > 0" if partial else "{column} = $name"
    sql = f"""SELECT subject_key FROM mart_subject_profiles WHERE {test.format(column="name")}
UNION
SELECT subject_key FROM mart_subject_facts WHERE {test.format(column="subject_name")}
ORDER BY 1"""
    return [key for (key,) in session.rows(sql, {"name": name})]


def profile(session: Session, key: str) -> dict[str, Any] | None:
    sql = f"SELECT {', '.join(PROFILE_COLUMNS)} FROM mart_subject_profiles WHERE subject_key = $key"
    rows = _dicts(session, sql, {"key": key}, PROFILE_COLUMNS)
    return rows[0] if rows else None


def domains(session: Session, key: str) -> list[dict[str, Any]]:
    sql = (f"SELECT {', '.join(DOMAIN_COLUMNS)} FROM mart_subject_domains WHERE subject_key = $key "
           "ORDER BY category, domain")  # fmt: skip
    return _dicts(session, sql, {"key": key}, DOMAIN_COLUMNS)


def facts(session: Session, key: str) -> list[dict[str, Any]]:
    """Every current record of the subject, with the department and delivery it came from."""
    sql = (f"SELECT {', '.join(FACT_COLUMNS)} FROM mart_subject_facts WHERE subject_key = $key "
           "ORDER BY category, fact_date DESC NULLS LAST, dataset, record_key")  # fmt: skip
    return _dicts(session, sql, {"key": key}, FACT_COLUMNS)


def lists_on(session: Session, as_of: dt.date, key: str | None = None) -> list[dict[str, Any]]:
    """The list entries in force on ``as_of`` (``sql/marts/on_list.sql``), of one subject or all."""
    where = "WHERE subject_key = $key" if key is not None else ""
    sql = f"SELECT {', '.join(LIST_COLUMNS)} FROM (\n{render('on_list.sql')}\n) listed {where} " \
          "ORDER BY list_kind, entry_date, dataset, record_key, subject_key"  # fmt: skip
    params: dict[str, Any] = {"as_of": as_of, "key": key}
    return _dicts(session, sql, bind(sql, params), LIST_COLUMNS)


def key_target(session: Session, key: str, as_of: dt.date, max_serious: int) -> dict[str, Any] | None:
    """Why the subject is a key supervision target on ``as_of``, or None when it is not."""
    sql = (f"SELECT {', '.join(TARGET_COLUMNS)} FROM (\n{key_targets_sql()}\n) targets "
           "WHERE subject_key = $key")  # fmt: skip
    params = {**key_target_params(as_of, max_serious), "key": key}
    rows = _dicts(session, sql, bind(sql, params), TARGET_COLUMNS)
    return rows[0] if rows else None


def key_targets(session: Session, as_of: dt.date, max_serious: int) -> list[dict[str, Any]]:
    """Every key supervision target on ``as_of``."""
    columns = ("subject_key", *TARGET_COLUMNS)
    sql = f"SELECT {', '.join(columns)} FROM (\n{key_targets_sql()}\n) targets ORDER BY subject_key"
    return _dicts(session, sql, bind(sql, key_target_params(as_of, max_serious)), columns)


def _dicts(
    session: Session, sql: str, params: dict[str, Any], columns: tuple[str, ...]
) -> list[dict[str, Any]]:
    return [dict(zip(columns, row, strict=True)) for row in session.rows(sql, params)]
