"""Cross-record code checks over the whole warehouse: 一码多名, 一名多码, and organisation codes
that disagree with positions 9-17 of the USCC on the same record.

The checks are ``etl.codes.consistency``'s, run once over the current records of every dataset
that carries a USCC and a subject name (read by ``etl.warehouse.identifiers``), so a code that
one department delivers under one name and another department under another is found, as is a
contradiction inside one delivery. Values compare as there: codes normalised, names NFKC without
blanks, and the placeholder USCC, blank and missing values left out.

A finding is one contradiction, whatever the number of records carrying it:

``ONE_CODE_MANY_NAMES``
    ``subject`` is the USCC, ``values`` its distinct names;
``ONE_NAME_MANY_CODES``
    ``subject`` is the name (as compared), ``values`` its distinct USCCs;
``ORGCODE_MISMATCH``
    ``subject`` is the USCC, ``values`` the one organisation code that disagrees with it (records
    carrying the same pair are one finding).

Each finding lists its records (dataset, department, delivery, file, row and the values as
stored) and the datasets, departments and deliveries involved; its Chinese ``message`` is the
batch check's, followed by where the records are (department, dataset, file and rows, up to
``MAX_PLACES`` files). ``by_department`` counts, per department of the delivery a record came
from, the records checked and, for each reason, the findings it is involved in and its records
among them: the figures of the NDRC report.

>>> import pyarrow as pa
>>> from etl.warehouse.identifiers import IDENTIFIERS_SCHEMA
>>> records = pa.Table.from_pylist([
...     {"dataset": "admin_penalty", "department": "scjg", "delivery_id": "admin_penalty:scjg:1",
...      "file_name": "a.csv", "source_row": 2, "uscc": "91110000600037341L", "subject_name": "甲公司"},
...     {"dataset": "admin_penalty", "department": "wjw", "delivery_id": "admin_penalty:wjw:2",
...      "file_name": "b.csv", "source_row": 5, "uscc": "91110000600037341L", "subject_name": "乙公司"},
... ], IDENTIFIERS_SCHEMA)
>>> result = find_inconsistencies(records)
>>> finding = result.findings.to_pylist()[0]
>>> finding["reason"], finding["subject"], finding["values"], finding["departments"]
('ONE_CODE_MANY_NAMES', '91110000600037341L', ['乙公司', '甲公司'], ['scjg', 'wjw'])
>>> finding["message"].split("；涉及：")
['同一代码对应2个不同名称：乙公司、甲公司；同一主体应使用登记证照上的全称，请核实名称或代码',
 'scjg《admin_penalty》a.csv 第2行；wjw《admin_penalty》b.csv 第5行']
>>> counts = result.by_department.to_pylist()
>>> [(c["department"], c["reason"], c["records_checked"], c["findings"], c["records"]) for c in counts[:2]]
[('scjg', 'ONE_CODE_MANY_NAMES', 1, 1, 1), ('scjg', 'ONE_NAME_MANY_CODES', 1, 0, 0)]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from etl.codes import consistency, reasons, uscc
from etl.codes._verdicts import mask_idcards_in_text, normalise_array
from etl.warehouse.identifiers import IDENTIFIERS_SCHEMA

if TYPE_CHECKING:
    from etl.catalog import Catalog
    from etl.warehouse import Warehouse

REASONS = (reasons.ONE_CODE_MANY_NAMES, reasons.ONE_NAME_MANY_CODES, reasons.ORGCODE_MISMATCH)

# Files named in a message; the finding's ``records`` list them all.
MAX_PLACES = 5
MAX_ROWS_PER_PLACE = 10

# A finding's records are the warehouse's identifier rows as they were read.
RECORD_TYPE = pa.struct(list(IDENTIFIERS_SCHEMA))

FINDINGS_SCHEMA = pa.schema(
    [
        ("reason", pa.string()),
        ("subject", pa.string()),
        ("values", pa.list_(pa.string())),
        ("message", pa.string()),
        ("datasets", pa.list_(pa.string())),
        ("departments", pa.list_(pa.string())),
        ("deliveries", pa.list_(pa.string())),
        ("records", pa.list_(RECORD_TYPE)),
    ]
)

BY_DEPARTMENT_SCHEMA = pa.schema(
    [
        ("department", pa.string()),
        ("reason", pa.string()),
        ("records_checked", pa.int64()),
        ("findings", pa.int64()),
        ("records", pa.int64()),
    ]
)


@dataclass(frozen=True)
class WarehouseConsistency:
    """Findings (``FINDINGS_SCHEMA``, by reason then subject), counts per department
    (``BY_DEPARTMENT_SCHEMA``, every department with records checked, every reason) and the number
    of records checked (those with a USCC other than the placeholder)."""

    findings: pa.Table
    by_department: pa.Table
    records_checked: int


def check_warehouse(
    warehouse: Warehouse, catalog: Catalog, dataset_ids: Iterable[str] | None = None
) -> WarehouseConsistency:
    """Runs the checks over the datasets ``dataset_ids`` (default: every dataset with a USCC and a
    subject name) as they are in ``warehouse`` now."""
    # The warehouse (and its drivers) load only here: the checks themselves need none of it.
    from etl.warehouse.identifiers import identifier_tables, read_identifiers

    records = read_identifiers(warehouse, identifier_tables(catalog, dataset_ids))
    return find_inconsistencies(records, catalog)


def find_inconsistencies(records: pa.Table, catalog: Catalog | None = None) -> WarehouseConsistency:
    """The findings among ``records`` (``etl.warehouse.identifiers.IDENTIFIERS_SCHEMA``); with a
    catalog, messages name departments and datasets in Chinese, else by id."""
    groups = pa.concat_tables(
        [
            _code_many_names(records),
            _name_many_codes(records),
            _orgcode_mismatches(records),
        ]
    )
    involved = _involved_records(records, groups)
    findings = _findings(groups, involved, _titles(catalog))
    checked = checked_records(records)
    return WarehouseConsistency(findings, _by_department(checked, involved), checked.num_rows)


# Every group below: reason, subject, values, message (the batch check's), rows (into records).
_GROUP_SCHEMA = pa.schema(
    [
        ("reason", pa.string()),
        ("subject", pa.string()),
        ("values", pa.list_(pa.string())),
        ("message", pa.string()),
        ("rows", pa.list_(pa.int64())),
    ]
)


# Subjects and values are shown as a person may see them: a code that may be an identity number, or
# an identity number typed into a name column, masked (the messages are masked by the batch checks).


def _code_many_names(records: pa.Table) -> pa.Table:
    found = consistency.one_code_many_names(records["uscc"], records["subject_name"])
    return _group(found, consistency.shown_codes(found["code"]), mask_idcards_in_text(found["names"]))


def _name_many_codes(records: pa.Table) -> pa.Table:
    found = consistency.one_name_many_codes(records["subject_name"], records["uscc"])
    return _group(found, mask_idcards_in_text(found["name"]), _each(found["codes"], consistency.shown_codes))


def _each(lists: pa.Array | pa.ChunkedArray, shown: Callable[[pa.Array], pa.Array]) -> pa.ListArray:
    """``shown`` applied to the elements of a list column."""
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
    offsets = pa.array([0, *lengths.cumsum().tolist()], pa.int32())
    return pa.ListArray.from_arrays(offsets, shown(pc.list_flatten(lists)))


def _orgcode_mismatches(records: pa.Table) -> pa.Table:
    """Mismatching records, one group per (USCC, organisation code) pair."""
    found = consistency.orgcode_mismatch_table(records["uscc"], records["orgcode"])
    found = found.append_column("code", normalise_array(records["uscc"]).take(found["row"]))
    pairs = (
        found.group_by(["code", "orgcode", "message"], use_threads=False)
        .aggregate([("row", "list")])
        .sort_by([("code", "ascending"), ("orgcode", "ascending")])
    )
    values = pa.ListArray.from_arrays(
        pa.array(range(pairs.num_rows + 1), pa.int32()), consistency.shown_orgcodes(pairs["orgcode"])
    )
    reason = pa.repeat(pa.scalar(reasons.ORGCODE_MISMATCH), pairs.num_rows)
    return _group(pairs.append_column("reason", reason), consistency.shown_codes(pairs["code"]), values,
                  rows="row_list")  # fmt: skip


def _group(found: pa.Table, subject: pa.Array, values: pa.Array, rows: str = "rows") -> pa.Table:
    columns = [found["reason"], subject, values, found["message"], found[rows]]
    return pa.table(columns, names=_GROUP_SCHEMA.names).cast(_GROUP_SCHEMA)


def _involved_records(records: pa.Table, groups: pa.Table) -> pa.Table:
    """One row per (finding, record): the record's columns with ``finding`` (index into ``groups``)
    and ``reason``, ordered by finding, then department, dataset, delivery and row."""
    rows = groups["rows"].combine_chunks()
    finding = pc.list_parent_indices(rows)
    involved = records.take(pc.list_flatten(rows))
    involved = involved.append_column("finding", finding)
    involved = involved.append_column("reason", groups["reason"].combine_chunks().take(finding))
    order = ["finding", "department", "dataset", "delivery_id", "source_row"]
    return involved.sort_by([(name, "ascending") for name in order])


def _findings(groups: pa.Table, involved: pa.Table, titles: _Titles) -> pa.Table:
    counts = pc.list_value_length(groups["rows"].combine_chunks()).to_numpy(zero_copy_only=False)
    offsets = pa.array([0, *counts.cumsum().tolist()], pa.int32())
    record_structs = pa.StructArray.from_arrays(
        [_shown_record_column(f.name, involved[f.name].combine_chunks()) for f in RECORD_TYPE],
        fields=list(RECORD_TYPE),
    )
    records = pa.ListArray.from_arrays(offsets, record_structs)
    datasets, departments, deliveries, messages = [], [], [], []
    for message, places in zip(groups["message"].to_pylist(), records.to_pylist(), strict=True):
        datasets.append(sorted({p["dataset"] for p in places}))
        departments.append(sorted({p["department"] for p in places if p["department"] is not None}))
        deliveries.append(sorted({p["delivery_id"] for p in places}))
        messages.append(f"{message}；涉及：{_where(places, titles)}")
    columns = {
        "reason": groups["reason"],
        "subject": groups["subject"],
        "values": groups["values"],
        "message": mask_idcards_in_text(pa.array(messages, pa.string())),  # file names too
        "datasets": pa.array(datasets, pa.list_(pa.string())),
        "departments": pa.array(departments, pa.list_(pa.string())),
        "deliveries": pa.array(deliveries, pa.list_(pa.string())),
        "records": records,
    }
    return pa.table(columns, schema=FINDINGS_SCHEMA)


def _shown_record_column(name: str, column: pa.Array) -> pa.Array:
    """A record's values as stored, but for what may be an identity number."""
    if name == "uscc":
        return consistency.shown_codes(column)
    if name == "orgcode":
        return consistency.shown_orgcodes(column)
    return mask_idcards_in_text(column) if name == "subject_name" else column


@dataclass(frozen=True)
class _Titles:
    departments: Mapping[str, str]
    datasets: Mapping[str, str]


def _titles(catalog: Catalog | None) -> _Titles:
    if catalog is None:
        return _Titles({}, {})
    return _Titles(
        {d.id: d.short_name for d in catalog.departments.values()},
        {d.id: d.title for d in catalog.datasets.values()},
    )


def _where(records: list[dict], titles: _Titles) -> str:
    """Where a clerk finds the records of a finding: department《dataset》file 第2、5行；…"""
    rows_of: dict[tuple[str, str, str, str], list[int]] = {}
    for r in records:
        place = (r["department"] or "", r["dataset"], r["delivery_id"], r["file_name"] or r["delivery_id"])
        rows_of.setdefault(place, []).append(r["source_row"])
    parts = []
    for (department, dataset, _, file_name), rows in list(rows_of.items())[:MAX_PLACES]:
        shown = "、".join(str(row) for row in rows[:MAX_ROWS_PER_PLACE])
        more = f"等{len(rows)}行" if len(rows) > MAX_ROWS_PER_PLACE else "行"
        department_name = titles.departments.get(department, department)
        dataset_title = titles.datasets.get(dataset, dataset)
        parts.append(f"{department_name}《{dataset_title}》{file_name} 第{shown}{more}")
    if len(rows_of) > MAX_PLACES:
        parts.append(f"等共{len(rows_of)}个文件的{len(records)}条记录")
    return "；".join(parts)


def checked_records(records: pa.Table) -> pa.Table:
    """The records that take part in the checks (``records_checked`` counts them)."""
    return records.filter(_checked(records))


def _checked(records: pa.Table) -> pa.Array:
    """Records whose USCC takes part in the checks: present, not blank, not the placeholder."""
    codes = normalise_array(records["uscc"])
    return pc.fill_null(pc.and_(pc.not_equal(codes, ""), pc.not_equal(codes, uscc.PLACEHOLDER)), False)


def _by_department(checked: pa.Table, involved: pa.Table) -> pa.Table:
    per_department = checked.group_by("department", use_threads=False).aggregate([("source_row", "count")])
    checked_per = dict(
        zip(
            per_department["department"].to_pylist(),
            per_department["source_row_count"].to_pylist(),
            strict=True,
        )
    )
    per_reason = involved.group_by(["department", "reason"], use_threads=False).aggregate(
        [("finding", "count_distinct"), ("finding", "count")]
    )
    counted = {
        (row["department"], row["reason"]): (row["finding_count_distinct"], row["finding_count"])
        for row in per_reason.to_pylist()
    }
    departments = sorted({d for d in checked_per if d is not None} | {d for d, _ in counted if d is not None})
    rows = [
        {
            "department": department,
            "reason": reason,
            "records_checked": checked_per.get(department, 0),
            "findings": counted.get((department, reason), (0, 0))[0],
            "records": counted.get((department, reason), (0, 0))[1],
        }
        for department in departments
        for reason in REASONS
    ]
    return pa.Table.from_pylist(rows, BY_DEPARTMENT_SCHEMA)
