"""The SQL templates of the marts (``sql/marts/*.sql``) and their rendering.

A template's ``{slot}`` receives an SQL fragment built by ``etl.marts`` from identifiers checked by
``etl.warehouse.schema.ident`` (or our own constants); values are never formatted in, they stay
``$name`` parameters. Full-line comments are dropped so that a ``$name`` or ``{slot}`` mentioned in a
comment is neither bound nor filled.

>>> print(render("on_list.sql").splitlines()[-1].strip())
AND (exit_date IS NULL OR exit_date > CAST($as_of AS DATE))
"""

from __future__ import annotations

from functools import cache

from etl.settings import PROJECT_ROOT

SQL_DIR = PROJECT_ROOT / "sql" / "marts"


@cache
def template(name: str) -> str:
    """The text of ``sql/marts/<name>`` without its full-line comments."""
    text = (SQL_DIR / name).read_text(encoding="utf-8")
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--")).strip()


def render(name: str, **slots: str) -> str:
    """``name`` with its slots filled by SQL fragments (never by values)."""
    return template(name).format(**slots) if slots else template(name)
