"""A source scan for SQL built by formatting values in (the complement of
``test_sql_values_bound``, which watches the SQL that actually runs).

SQL text is any string literal or f-string holding an SQL keyword. In the modules of ``etl`` such
text must not be built with ``%`` or ``str.format`` over non-constants, and an f-string's
substitutions must not use a conversion or format spec (``!r``, ``:>10`` — how values get into
text) nor substitute a variable whose name says it holds a value (``value``, ``since``, ``sha256``…).
Identifiers enter through ``schema.ident`` and its kin, which check them; everything else is
``$name`` parameters or COPY. A tripwire, not a proof: the scan is checked against examples that
must be caught.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ETL = Path(__file__).resolve().parents[2] / "etl"
SQL = re.compile(r"\b(SELECT|INSERT INTO|UPDATE|DELETE FROM|CREATE|ALTER TABLE|WHERE|VALUES|COPY)\b")
# Names that carry data values, not identifiers or SQL fragments.
VALUE_NAMES = re.compile(
    r"^(value|values|cell|cells|since|until|moment|day|date|as_of|sha256|delivery_id|file_name|department|"
    r"text|message|reason|uscc|subject|subject_name|raw|row_value|literal|term|needle|search)$"
)


def _sql_text(node: ast.AST) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    return ""


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
    }


def _constant(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) or (isinstance(node, ast.Name) and node.id.isupper())


def problems(source: str, where: str) -> list[str]:
    """Places in ``source`` where SQL text is built by formatting in something that may be a value."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.JoinedStr) and SQL.search(_sql_text(node)):
            for part in node.values:
                if not isinstance(part, ast.FormattedValue):
                    continue
                shown = ast.unparse(part.value)
                if part.conversion != -1 or part.format_spec is not None:
                    found.append(f"{where}:{node.lineno}: {{{shown}}} converted or formatted into SQL")
                elif any(VALUE_NAMES.match(name) for name in _names(part.value)):
                    found.append(f"{where}:{node.lineno}: {{{shown}}} looks like a value formatted into SQL")
        elif (
            isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and SQL.search(_sql_text(node.left))
        ):
            found.append(f"{where}:{node.lineno}: SQL built with %")
        elif (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
            and SQL.search(_sql_text(node.func.value))
            and not all(_constant(a) for a in [*node.args, *(k.value for k in node.keywords)])
        ):  # fmt: skip
            found.append(f"{where}:{node.lineno}: SQL built with str.format")
    return found


@pytest.mark.parametrize(
    "snippet",
    [
        "c.execute(f\"SELECT * FROM t WHERE a = '{value}'\")",
        "c.execute(f\"SELECT * FROM t WHERE d >= '{since}'\")",
        "c.execute(f'DELETE FROM deliveries WHERE sha256 = {drop.sha256!r}')",
        'c.execute(f"UPDATE t SET n = {n:d}")',
        "c.execute(\"SELECT * FROM t WHERE a = '%s'\" % name)",
        "c.execute(\"SELECT * FROM t WHERE a = '{}'\".format(name))",
    ],
)
def test_the_scan_catches_values_formatted_into_sql(snippet):
    assert problems(snippet, "example")


def test_the_scan_lets_identifiers_and_parameters_through():
    ok = 'c.execute(f"SELECT {ident(column)} FROM {ident(table.name)} WHERE d >= $since", {"since": since})'
    assert problems(ok, "example") == []


def test_no_module_formats_values_into_sql():
    found = []
    for path in sorted(ETL.rglob("*.py")):
        found += problems(path.read_text(encoding="utf-8"), str(path.relative_to(ETL.parent)))
    assert found == []
