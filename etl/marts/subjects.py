"""Which subject (主体) a record names: its subject key and the kind of that key, as SQL.

The key is decided from the record alone, in this order, so that a refresh can rebuild a subject
from the records it touched and get what a full rebuild gets:

1. the unified social credit code (``uscc``), unless empty or the placeholder of 17 zeros + X;
2. the identity number (``id_no``) — natural persons;
3. an 18-character 纳税人识别号 (``tax_reg_no``): the USCC of an organisation, or the identity number
   of a natural person (行政相对人类别 自然人);
4. the first legacy identifier present: registration number, organisation code, other tax number,
   public institution certificate number, social organisation registration number;
5. else the name, as ``name:<name>``.

A record keyed by its USCC keeps the legacy codes it carries (``regno``, ``orgcode``) as facts, so a
lookup by a legacy code finds the USCC subject too. The key is never masked in the warehouse;
output masks keys of kind ``idcard`` (``etl.marts.read``).

>>> from etl.catalog import load_catalog
>>> from etl.warehouse.schema import dataset_table
>>> table = dataset_table(load_catalog().datasets["tax_credit_grade_a"])
>>> [b.kind for b in branches(table)]
['uscc', 'tax_reg_no']
>>> print(subject_key_sql(table))
CASE WHEN length(t."tax_reg_no") = 18 THEN t."tax_reg_no"
     WHEN NULLIF(t."tax_reg_no", '') IS NOT NULL THEN t."tax_reg_no"
     ELSE 'name:' || COALESCE(t."subject_name", '') END
"""

from __future__ import annotations

from dataclasses import dataclass

from etl.warehouse.schema import DatasetTable, ident

NAME_FIELDS = ("subject_name", "person_name")
CATEGORY_FIELD = "subject_category"
NATURAL_PERSON = "自然人"
NAME_PREFIX = "name:"
MASKED_KINDS = ("idcard",)
# Legacy identifiers after the USCC and the identity number, in the order they are preferred.
LEGACY_FIELDS = ("regno", "orgcode", "tax_reg_no", "institution_cert_no", "social_org_reg_no")
KINDS = ("uscc", "idcard", *LEGACY_FIELDS, "name")


def column(name: str) -> str:
    """A column of the dataset table aliased ``t`` in the facts query."""
    return f"t.{ident(name)}"


def present(name: str) -> str:
    return f"NULLIF({column(name)}, '') IS NOT NULL"


def name_field(table: DatasetTable) -> str | None:
    """The field that names the subject, or None when the dataset names none."""
    return next((f for f in NAME_FIELDS if table.has_fields(f)), None)


@dataclass(frozen=True)
class Branch:
    """One rule of the key: when ``condition`` holds, the key is ``key_field`` of kind ``kind``."""

    key_field: str
    condition: str
    kind: str


def branches(table: DatasetTable) -> list[Branch]:
    """The rules that apply to ``table``'s columns, in order."""
    found: list[Branch] = []
    if table.has_fields("uscc"):
        found.append(Branch("uscc", f"{present('uscc')} AND {column('uscc')} <> $placeholder", "uscc"))
    if table.has_fields("id_no"):
        found.append(Branch("id_no", present("id_no"), "idcard"))
    if table.has_fields("tax_reg_no"):
        long_tax_number = f"length({column('tax_reg_no')}) = 18"
        if table.has_fields(CATEGORY_FIELD):
            # The tax number of a natural person is the identity number.
            condition = f"{long_tax_number} AND {column(CATEGORY_FIELD)} = $natural_person"
            found.append(Branch("tax_reg_no", condition, "idcard"))
        found.append(Branch("tax_reg_no", long_tax_number, "uscc"))
    found += [Branch(name, present(name), name) for name in LEGACY_FIELDS if table.has_fields(name)]
    return found


def subject_key_sql(table: DatasetTable) -> str:
    """The subject key of a record of ``table`` (aliased ``t``)."""
    name = name_field(table)
    fallback = f"'{NAME_PREFIX}' || COALESCE({column(name)}, '')" if name else f"'{NAME_PREFIX}'"
    return _case([f"WHEN {b.condition} THEN {column(b.key_field)}" for b in branches(table)], fallback)


def subject_kind_sql(table: DatasetTable) -> str:
    """The kind of the subject key (one of ``KINDS``, our own constants)."""
    return _case([f"WHEN {b.condition} THEN '{b.kind}'" for b in branches(table)], "'name'")


def _case(whens: list[str], fallback: str) -> str:
    if not whens:
        return fallback
    body = "\n     ".join(whens)
    return f"CASE {body}\n     ELSE {fallback} END"


for _kind in KINDS:  # literals of our own, checked once: they are written into the SQL
    assert _kind.replace("_", "").isalpha() and _kind.isascii()
