"""``credit-etl codes``: check identifier codes (USCC, organisation code, registration number, ID),
and their consistency across the warehouse."""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from etl.errors import UsageError

if TYPE_CHECKING:
    import pyarrow as pa

    from etl.codes.warehouse_consistency import WarehouseConsistency

KIND_CHOICES = ("auto", "uscc", "orgcode", "regno", "idcard")
COLUMNS = ("line", "input", "kind", "normalised", "valid", "reason", "message")
# Masked unless --show-personal: identity numbers, unrecognised values that are all digits (most
# likely identity numbers with a digit too many or too few), and values of any other kind that fail
# their check and have the shape of an identity number (people type those into USCC columns).
MAY_BE_PERSONAL = r"^[0-9]+X?$"
ID_SHAPED = r"^([0-9]{15}|[0-9]{17}[0-9X])$"

CHECK_EPILOG = """\
Input: one value per line, UTF-8 (with or without BOM) or GB18030; blank lines are skipped.
Output: one verdict per value with the columns line, input, kind, normalised, valid, reason,
message. CSV has a header row; JSON is JSON Lines (one object per line). Identity numbers (and
unrecognised values made of digits, and invalid codes of 15 or 18 digits that may be identity
numbers) are masked as 3604**********0071 unless --show-personal is given.
Exit status: 0 if every value is valid, 1 if any is invalid, 2 on a usage error.
"""

CONSISTENCY_COLUMNS = (
    "reason", "subject", "values", "datasets", "departments", "deliveries", "records", "message",
)  # fmt: skip
# Lists in a finding, joined for CSV.
LIST_SEPARATOR = ";"
CONSISTENCY_EPILOG = """\
Checks the current records of every dataset with a USCC and a subject name (or only those given
with --dataset) across the whole warehouse: one code under several names (ONE_CODE_MANY_NAMES),
one name under several codes (ONE_NAME_MANY_CODES), an organisation code that differs from
positions 9-17 of the USCC on the same record (ORGCODE_MISMATCH). Names compare after NFKC with
blanks removed; the placeholder USCC and empty values are left out.
Output: one finding per row. CSV columns: reason, subject, values, datasets, departments,
deliveries (lists joined with ';'), records (how many), message (Chinese, with the files and rows
involved). JSON is JSON Lines with the records themselves. A summary per department goes to stderr.
Exit status: 0 if there are no findings, 1 if there are, 2 on a usage or warehouse error.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "codes", help="check USCCs, organisation codes, registration and ID numbers"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    check = actions.add_parser(
        "check",
        help="check one code per line and print a verdict for each",
        epilog=CHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("file", nargs="?", default="-", metavar="FILE", help="input file, or - for stdin")
    check.add_argument(
        "--kind",
        choices=KIND_CHOICES,
        default="auto",
        help="kind of code; auto tells them apart by shape (default: auto)",
    )
    check.add_argument(
        "--format", choices=("csv", "json"), default="csv", help="output format (default: csv)"
    )
    check.add_argument(
        "--show-personal", action="store_true", help="print identity numbers unmasked (never in reports)"
    )
    check.set_defaults(handler=run_check)

    consistency = actions.add_parser(
        "consistency",
        help="find codes with several names, names with several codes and orgcode/USCC mismatches "
        "across the warehouse",
        epilog=CONSISTENCY_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    consistency.add_argument(
        "--warehouse", metavar="URL", default=None,
        help="duckdb:///path.duckdb or postgresql://user@host:port/db[?schema=name]",
    )  # fmt: skip
    consistency.add_argument(
        "--dataset", metavar="ID", nargs="+", action="extend", default=None,
        help="check only these datasets (default: every dataset with uscc and subject_name)",
    )  # fmt: skip
    consistency.add_argument(
        "--format", choices=("csv", "json"), default="csv", help="output format (default: csv)"
    )
    consistency.set_defaults(handler=run_consistency)


def run_check(args: argparse.Namespace) -> int:
    import pyarrow as pa
    import pyarrow.compute as pc

    from etl.codes import check, mask_idcards

    line_numbers, values = _read_values(args.file)
    inputs = pa.array(values, type=pa.string())
    verdicts = check(inputs, args.kind)
    table = verdicts.to_table()
    shown_input, shown_normalised = inputs, verdicts.normalised
    if not args.show_personal:
        personal = pc.or_(
            pc.equal(verdicts.kind, "idcard"),
            pc.or_(
                pc.and_(
                    pc.equal(verdicts.kind, "unknown"),
                    pc.match_substring_regex(verdicts.normalised, MAY_BE_PERSONAL),
                ),
                pc.and_(pc.invert(verdicts.valid), pc.match_substring_regex(verdicts.normalised, ID_SHAPED)),
            ),
        )
        shown_input = pc.if_else(personal, mask_idcards(inputs), inputs)
        shown_normalised = pc.if_else(personal, mask_idcards(verdicts.normalised), verdicts.normalised)
    table = pa.table(
        {
            "line": pa.array(line_numbers, pa.int64()),
            "input": shown_input,
            "kind": table["kind"],
            "normalised": shown_normalised,
            "valid": table["valid"],
            "reason": table["reason"],
            "message": table["message"],
        }
    )
    _write(table, args.format, sys.stdout)
    return 1 if pc.any(pc.invert(verdicts.valid)).as_py() else 0


def run_consistency(args: argparse.Namespace) -> int:
    from etl import settings
    from etl.catalog import load_catalog
    from etl.codes.warehouse_consistency import check_warehouse
    from etl.warehouse import open_warehouse
    from etl.warehouse.identifiers import identifier_tables

    catalog = load_catalog(settings.catalog_dir())
    if args.dataset is not None:
        checkable = {t.dataset_id for t in identifier_tables(catalog, args.dataset)}
        lacking = [d for d in dict.fromkeys(args.dataset) if d not in checkable]
        if lacking:
            raise UsageError(
                f"dataset(s) {', '.join(lacking)} have no uscc and subject_name columns to check"
            )
    result = check_warehouse(open_warehouse(args.warehouse), catalog, args.dataset)
    _write_findings(result.findings, args.format, sys.stdout)
    _summarise(result, sys.stderr)
    return 1 if result.findings.num_rows else 0


def _write_findings(findings: pa.Table, fmt: str, out: io.TextIOBase) -> None:
    if fmt == "json":
        for row in findings.to_pylist():
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    import pyarrow as pa
    import pyarrow.compute as pc

    def flat(name: str) -> pa.Array:
        column = findings[name]
        if name == "records":
            return pc.list_value_length(column)
        return pc.binary_join(column, LIST_SEPARATOR) if pa.types.is_list(column.type) else column

    _write(pa.table({name: flat(name) for name in CONSISTENCY_COLUMNS}), "csv", out)


def _summarise(result: WarehouseConsistency, out: io.TextIOBase) -> None:
    """Counts per department and reason, for the engineer running the command."""
    out.write(f"{result.findings.num_rows} finding(s) over {result.records_checked} record(s) checked\n")
    for row in result.by_department.to_pylist():
        if row["findings"]:
            out.write(
                f"  {row['department']}: {row['reason']} {row['findings']} finding(s), "
                f"{row['records']} of its {row['records_checked']} record(s)\n"
            )


def _read_values(file: str) -> tuple[list[int], list[str]]:
    """The non-blank lines of ``file`` (``-`` for stdin) with their 1-based line numbers."""
    if file == "-":
        text = _decode(sys.stdin.buffer)
    else:
        path = Path(file)
        if not path.is_file():
            raise UsageError(f"no such file: {file}")
        with path.open("rb") as stream:
            text = _decode(stream)
    numbered = [(i, line) for i, line in enumerate(text.splitlines(), start=1) if line.strip()]
    return [i for i, _ in numbered], [line for _, line in numbered]


def _decode(stream: BinaryIO) -> str:
    raw = stream.read()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Department spreadsheets exported on Chinese Windows are GBK; GB18030 is its superset.
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise UsageError(f"input is neither UTF-8 nor GB18030 text: {exc}") from None


def _write(table: pa.Table, fmt: str, out: io.TextIOBase) -> None:
    if fmt == "json":
        for row in table.to_pylist():
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    import pyarrow as pa
    import pyarrow.csv

    from etl.feedback import neutralise_column

    # The CSV is opened in spreadsheets: a value read from the input (or the warehouse) that starts
    # like a formula is written as text, as in every CSV the platform writes.
    table = pa.table({name: neutralise_column(column) if pa.types.is_string(column.type) else column
                      for name, column in zip(table.column_names, table.columns, strict=True)})  # fmt: skip
    buffer = io.BytesIO()
    pyarrow.csv.write_csv(table, buffer, pyarrow.csv.WriteOptions(quoting_style="needed"))
    out.write(buffer.getvalue().decode("utf-8"))
