"""``credit-etl ingest``: process one delivered file end to end and print its ledger row.

Exit codes: 0 when the delivery was processed (with or without rejected rows) or was a duplicate;
1 when it was rejected whole or every row was rejected; 2 for a usage error; a failure raises after
it is recorded in the ledger. ``--gx-audit`` adds GX's own run on a sample (``etl.gx_audit``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from etl.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ingest", help="process one delivered file and print its ledger row")
    parser.add_argument("file", type=Path)
    parser.add_argument("--dataset", required=True, help="catalog dataset id, e.g. admin_penalty")
    parser.add_argument("--department", help="delivering department id (needed when several deliver)")
    parser.add_argument("--warehouse", metavar="URL", help="default: $CREDIT_ETL_WAREHOUSE")
    parser.add_argument("--storage", metavar="ROOT", help="default: $CREDIT_ETL_STORAGE or var/storage")
    parser.add_argument("--catalog", type=Path, help="catalog directory (default: the project's)")
    parser.add_argument("--json", action="store_true", help="print the ledger row as one JSON object")
    parser.add_argument("--gx-audit", action="store_true",
                        help="then run Great Expectations itself on a sample of the delivery beside the "
                             "Arrow engine (seconds more) and print its result as gx_audit")  # fmt: skip
    parser.set_defaults(handler=run_ingest)


def resolve_department(dataset_departments: tuple[str, ...], department: str | None) -> str:
    """The department a file comes from: given, or the dataset's only one.

    >>> resolve_department(("scjg",), None)
    'scjg'
    >>> resolve_department(("scjg", "sthj"), None)
    Traceback (most recent call last):
        ...
    etl.errors.UsageError: several departments deliver this dataset (scjg, sthj): give --department
    """
    if department is None:
        if len(dataset_departments) == 1:
            return dataset_departments[0]
        raise UsageError(
            f"several departments deliver this dataset ({', '.join(dataset_departments)}): give --department"
        )
    if department not in dataset_departments:
        raise UsageError(f"department {department!r} does not deliver this dataset "
                         f"(it is delivered by {', '.join(dataset_departments)})")
    return department


def run_ingest(args: argparse.Namespace) -> int:
    from etl import settings
    from etl.catalog import load_catalog
    from etl.drop import receive_file
    from etl.pipeline import process_drop
    from etl.storage import Storage
    from etl.warehouse import open_warehouse

    if not args.file.is_file():
        raise UsageError(f"{args.file}: no such file")
    catalog = load_catalog(args.catalog or settings.catalog_dir())
    dataset = catalog.dataset(args.dataset)
    department = resolve_department(dataset.departments, args.department)
    source = next(s for s in dataset.sources if s.department == department)
    storage = Storage(args.storage or settings.storage_root())
    warehouse = open_warehouse(args.warehouse)
    warehouse.init(catalog)
    drop = receive_file(storage, args.file, dataset=dataset.id, department=department,
                        source=dataset.source_id(source))  # fmt: skip
    result = process_drop(drop, catalog=catalog, warehouse=warehouse, storage=storage)
    row = result.as_dict()
    row["feedback_paths"] = [storage.location(key) for key in row["feedback_paths"]]
    if args.gx_audit:
        from etl.gx_audit import audit_drop

        audit = audit_drop(drop, catalog=catalog, storage=storage)
        row["gx_audit"] = None if audit is None else {
            k: audit[k] for k in ("success", "agrees", "evaluated_expectations", "successful_expectations",
                                  "failed", "differences", "rows")
        }  # fmt: skip
    if args.json:
        print(json.dumps(row, ensure_ascii=False, default=str))
    else:
        for key in ("delivery_id", "status", "rows_read", "rows_loaded", "rows_rejected",
                    "error_reason", "error_message", "feedback_paths", "ledger_id", "gx_audit"):  # fmt: skip
            if row.get(key) not in (None, [], ""):
                print(f"{key:>14}: {row[key]}")
    return 0 if result.ok else 1
