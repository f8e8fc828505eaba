"""Realistic values for catalog fields: by canonical field name, else by type, pattern or title.

A generator takes the delivery ``Context`` (see ``etl.demo_data.table``) and the field, and returns
one value per row: text (``""`` for empty) or, for date fields, day ordinals (0 for empty). Named
generators know what a field means (``decision_no`` is 柳市监罚〔2026〕123号 at the market regulator
and 柳环罚〔2026〕45号 at the environment bureau); anything the catalog adds later without a named
generator still gets valid values from ``fallback``, which honours allowed values, patterns and types.

Values that belong together are drawn together: a penalty's violation, legal basis, penalty types,
fine and content come from one case of the department's (``themes.PENALTY_CASES``); a subject's
name, codes, legal representative and address come from the shared pool.

Modules: ``base`` (the registry, subject access, fallback), ``party`` (who a record is about),
``dates``, ``documents`` (文号, 案号, authorities), ``penalties``, ``licences``, ``registers``
(lists, certificates, accounts), ``inspections`` and ``tax``. Importing this package registers
every named generator.
"""

from __future__ import annotations

from etl.demo_data.values import dates, documents, inspections, licences, party, penalties, registers, tax
from etl.demo_data.values.base import (
    NAMED,
    add_years,
    fallback,
    generator_for,
    latest_dates,
    timestamps_after,
    wan,
)
from etl.demo_data.values.party import choose_subjects, lists_each_subject_once

__all__ = [
    "NAMED",
    "add_years",
    "choose_subjects",
    "dates",
    "documents",
    "fallback",
    "generator_for",
    "inspections",
    "latest_dates",
    "licences",
    "lists_each_subject_once",
    "party",
    "penalties",
    "registers",
    "tax",
    "timestamps_after",
    "wan",
]
