"""The synthetic deliveries: layout, realism of codes, clean rows, answer keys, determinism, CLI."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from demo_deliveries import (
    Delivery,
    dedup_key,
    normalise_code,
    normalised,
    parse_date,
    problems,
    read_answer_key,
    read_delivery,
)
from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc

from etl.catalog import CompareRule, load_catalog
from etl.cli import main as cli_main
from etl.codes import idcard, orgcode, regno, uscc
from etl.codes.exceptions import InvalidChecksum, InvalidCode
from etl.demo_data import DEFECT_KINDS, generate
from etl.demo_data.subjects import build_pool
from etl.errors import UsageError

CATALOG = load_catalog()
SEED = 4242
SCALE = 0.12
RATE = 0.25  # high, so that every kind turns up in a small run


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("demo")
    return out, generate(out, seed=SEED, scale=SCALE, defect_rate=RATE, catalog=CATALOG)


@pytest.fixture(scope="module")
def read_back(
    demo: tuple[Path, dict[str, Any]],
) -> list[tuple[dict[str, Any], Delivery, list[dict[str, str]]]]:
    out, manifest = demo
    result = []
    for record in manifest["deliveries"]:
        dataset = CATALOG.datasets[record["dataset"]]
        delivery = read_delivery(out / record["path"], record["format"], record["encoding"], dataset)
        result.append((record, delivery, read_answer_key(out / record["answer_key"])))
    return result


# -- layout -----------------------------------------------------------------------------------------


def test_every_source_gets_a_delivery_where_its_landing_zone_expects_it(demo):
    out, manifest = demo
    by_source = {d["source_id"]: d for d in manifest["deliveries"]}
    assert set(by_source) == {ref.id for ref in CATALOG.sources()}
    for ref in CATALOG.sources():
        record = by_source[ref.id]
        path = Path(record["path"])
        assert (out / path).is_file() and (out / record["answer_key"]).is_file()
        assert record["answer_key"] == f"answer_keys/{record['path']}.csv"
        if ref.source.method == "landing":
            assert path.parent == Path("landing") / ref.dataset.landing_directory(ref.source) / "incoming"
            assert record["format"] in ref.dataset.source_formats(ref.source)
        elif ref.source.method == "sftp":
            remote = Path(ref.source.remote_path)
            assert path.parent == Path("sftp") / ref.source.department / remote.parent.relative_to("/")
            assert path.match(remote.name)
        else:
            assert path == Path("database") / f"{ref.id}.jsonl"
        if ref.source.complete_marker:
            assert record["marker"] == f"{path}{ref.source.complete_marker}"
            assert (out / record["marker"]).is_file()
        else:
            assert record["marker"] is None
    assert not list(out.glob("landing/**/incoming/*.csv.csv")), "answer keys must not sit in incoming/"


def test_manifest_records_the_run(demo):
    _, manifest = demo
    assert (manifest["seed"], manifest["scale"], manifest["defect_rate"]) == (SEED, SCALE, RATE)
    assert manifest["totals"]["deliveries"] == len(manifest["deliveries"])
    assert manifest["totals"]["rows"] == sum(d["rows"] for d in manifest["deliveries"])
    assert set(manifest["totals"]["defects"]) == set(DEFECT_KINDS), "every kind appears somewhere"


def test_formats_and_encodings_are_as_declared(demo):
    out, manifest = demo
    seen = Counter()
    for record in manifest["deliveries"]:
        data = (out / record["path"]).read_bytes()
        seen[(record["format"], record["encoding"])] += 1
        if record["format"] != "csv":
            continue
        if record["encoding"] == "utf-8-sig":
            assert data.startswith(b"\xef\xbb\xbf")
        elif record["encoding"] == "gbk":
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")
            data.decode("gbk")
        else:
            assert not data.startswith(b"\xef\xbb\xbf")
            data.decode("utf-8")
    assert {
        ("csv", "utf-8"),
        ("csv", "utf-8-sig"),
        ("csv", "gbk"),
        ("xlsx", "utf-8"),
        ("json", "utf-8"),
    } <= set(seen)


def test_workbooks_have_a_merged_title_row_and_mark_required_headers(demo):
    from openpyxl import load_workbook

    out, manifest = demo
    workbooks = [d for d in manifest["deliveries"] if d["format"] == "xlsx"]
    assert workbooks
    for record in workbooks:
        sheet = load_workbook(out / record["path"]).active
        assert next(str(r) for r in sheet.merged_cells.ranges).startswith("A1:")
        assert "（20" in sheet["A1"].value and sheet["A1"].value.endswith("月）")
        headers = [c.value for c in sheet[2]]
        dataset = CATALOG.datasets[record["dataset"]]
        if record["header_style"] != "code":
            required = [h for h in headers if h.endswith("（必填）")]
            assert len(required) == sum(f.required for f in dataset.fields)


def test_headers_use_titles_aliases_and_national_codes(read_back):
    styles = Counter(record["header_style"] for record, _, _ in read_back)
    assert styles["title"] and styles["alias"] and styles["code"] == 1 and styles["canonical"]
    for record, delivery, _ in read_back:
        assert not any(h.startswith("?") for h in delivery.records[0]), record["path"]
        if record["header_style"] == "code":
            assert "CF_WSH" in delivery.raw_headers
        if record["header_style"] == "alias":
            dataset = delivery.dataset
            assert any(h in f.aliases for f in dataset.fields for h in delivery.raw_headers)


# -- clean rows ---------------------------------------------------------------------------------------


def test_rows_outside_the_answer_key_obey_every_catalog_rule(read_back):
    for record, delivery, key in read_back:
        dataset = delivery.dataset
        rejected = {int(k["row"]) for k in key if k["expected"] == "rejected"}
        seen: dict[tuple[Any, ...], int] = {}
        for row, cells in zip(delivery.row_numbers, delivery.records, strict=True):
            if row in rejected:
                continue
            found = list(problems(dataset, normalised(dataset, cells)))
            assert not found, f"{record['path']} row {row}: {found}"
            key_value = dedup_key(dataset, cells)
            assert key_value not in seen, f"{record['path']} row {row} repeats row {seen[key_value]}"
            seen[key_value] = row


def test_subject_categories_are_consistent(read_back):
    for _, delivery, key in read_back:
        rejected = {int(k["row"]) for k in key}
        for row, cells in zip(delivery.row_numbers, delivery.records, strict=True):
            if row in rejected or "subject_category" not in cells:
                continue
            if cells["subject_category"] == "自然人":
                assert cells.get("uscc", "") == ""
                if "id_type" in cells:
                    assert cells["id_type"] and cells["id_no"]
            else:
                assert cells.get("id_no", "") == ""
            if cells.get("uscc") == uscc.PLACEHOLDER:
                assert cells["subject_category"] == "个体工商户" and regno.is_valid(cells["regno"])


def test_datasets_cover_their_subject_types(read_back):
    seen: dict[str, set[str]] = {}
    for record, delivery, _ in read_back:
        categories = {r.get("subject_category", "") for r in delivery.records} - {""}
        seen.setdefault(record["dataset"], set()).update(categories)
    for dataset_id, categories in seen.items():
        allowed = set(CATALOG.datasets[dataset_id].subject_types)
        if categories:
            assert categories <= allowed, dataset_id
            assert len(categories) >= min(2, len(allowed)), f"{dataset_id}: only {categories}"
    assert seen["dishonest_judgment_debtor"] == {"法人及非法人组织", "自然人"}


def test_every_code_validates_with_stdnum_and_etl_codes(read_back):
    checked = Counter()
    for _, delivery, key in read_back:
        defective = {int(k["row"]) for k in key}
        for row, cells in zip(delivery.row_numbers, delivery.records, strict=True):
            if row in defective:
                continue
            for spec in delivery.dataset.fields:
                value = cells.get(spec.name, "")
                if spec.type == "uscc" and value and value != uscc.PLACEHOLDER:
                    assert uscc.is_valid(value), value
                    if value[:2].isdigit():
                        assert stdnum_uscc.is_valid(value), value
                    checked["uscc"] += 1
                elif spec.type == "idcard" and len(value) == 18:
                    assert idcard.is_valid(value) and stdnum_ric.is_valid(value), value
                    checked["idcard"] += 1
                elif spec.type == "orgcode" and value:
                    assert orgcode.is_valid(value), value
                    checked["orgcode"] += 1
                elif spec.type == "regno" and value:
                    assert regno.is_valid(value), value
                    checked["regno"] += 1
    assert min(checked.values()) > 10 and len(checked) == 4


def test_the_whole_pool_has_valid_codes():
    pool = build_pool(seed=SEED, scale=0.2)
    for code in pool.uscc:
        if code and code != uscc.PLACEHOLDER:
            assert uscc.is_valid(code), code
            assert not code[:2].isdigit() or stdnum_uscc.is_valid(code), code
    placeholders = pool.uscc == uscc.PLACEHOLDER
    assert placeholders.any() and all(regno.is_valid(r) for r in pool.regno[placeholders])
    assert {c[:2] for c in pool.uscc if c} >= {"91", "92", "93", "12", "51", "52", "N2", "00"}
    for number in pool.people.id_no:
        assert stdnum_ric.is_valid(number) and idcard.is_valid(number, today=dt.date(2026, 11, 28))
        assert 1955 <= int(number[6:10]) <= 2005
    males = pool.people.gender == "男"
    assert all(int(n[16]) % 2 == 1 for n in pool.people.id_no[males])
    assert all(int(n[16]) % 2 == 0 for n in pool.people.id_no[~males])
    names = pool.name[pool.kind != "person"]
    assert len(set(names)) == len(names), "names of organisations and 个体工商户 are unique"


def test_the_same_subjects_recur_across_datasets(read_back):
    names: dict[str, dict[str, str]] = {}
    for record, delivery, key in read_back:
        defective = {int(k["row"]) for k in key}
        for row, cells in zip(delivery.row_numbers, delivery.records, strict=True):
            code = cells.get("uscc", "")
            if row in defective or not code or code == uscc.PLACEHOLDER:
                continue
            names.setdefault(code, {})[record["dataset"]] = cells["subject_name"]
    registry = {c for c, seen in names.items() if "legal_entity_basic" in seen}
    elsewhere = {c for c in registry if len(names[c]) > 1}
    assert len(elsewhere) >= max(5, 0.3 * len(registry)), (
        "registered subjects recur in penalties, licences, lists"
    )
    for code in elsewhere:
        assert len(set(names[code].values())) == 1, f"{code} has several names: {names[code]}"


# -- answer keys --------------------------------------------------------------------------------------


def _check_defect(
    record: dict[str, Any], delivery: Delivery, entry: dict[str, str], rows: dict[int, dict[str, str]]
):
    dataset = delivery.dataset
    cells = rows[int(entry["row"])]
    field = entry["field"]
    value = cells.get(field, "")
    kind = entry["defect"]
    assert entry["expected"] == (
        "normalised" if kind in ("fullwidth_chars", "lowercase_code") else "rejected"
    )
    spec = dataset.field(field)
    if kind in ("wrong_check_char", "idcard_wrong_check"):
        module = {"uscc": uscc, "orgcode": orgcode, "regno": regno, "idcard": idcard}[spec.type]
        assert spec.type == "idcard" if kind == "idcard_wrong_check" else spec.type != "idcard"
        with pytest.raises(InvalidChecksum):
            module.validate(value)
        assert value[:-1] == entry["original"][:-1] and value != entry["original"]
    elif kind == "fullwidth_chars":
        assert any(ord(c) > 0xFF00 for c in value) and normalise_code(value) == entry["original"]
        assert not list(problems(dataset, normalised(dataset, cells)))
    elif kind == "lowercase_code":
        assert value != value.upper() and value.upper() == entry["original"]
        assert not list(problems(dataset, normalised(dataset, cells)))
    elif kind == "missing_required":
        assert spec.required and value == "" and entry["original"]
    elif kind == "impossible_date":
        assert spec.type == "date" and value and parse_date(value) is None and re.match(r"^\d{4}", value)
    elif kind == "amount_as_text":
        assert spec.type == "decimal" and "元" in value and not re.fullmatch(r"[0-9.]+", value)
    elif kind == "placeholder_without_regno":
        assert value == uscc.PLACEHOLDER
        assert all(cells.get(f.name, "") == "" for f in dataset.fields if f.type == "regno")
        with pytest.raises(InvalidCode):
            uscc.validate(value)
    elif kind == "idcard_wrong_check":
        pass
    elif kind == "valid_to_before_from":
        found = list(problems(dataset, cells))
        broken = [
            r
            for r in dataset.rules
            if isinstance(r, CompareRule)
            and field in (r.left, r.right)
            and any(f"rule {r.id}:" in p for p in found)
        ]
        assert broken, f"{field}={value} breaks no compare rule"
    elif kind == "duplicate_key":
        first = int(re.search(r"row (\d+)", entry["note"]).group(1))
        assert first < int(entry["row"])
        assert dedup_key(dataset, rows[first]) == dedup_key(dataset, cells)
    else:
        raise AssertionError(f"unknown defect kind {kind}")


def test_every_answer_key_row_is_a_real_defect(read_back):
    seen = Counter()
    for record, delivery, key in read_back:
        rows = dict(zip(delivery.row_numbers, delivery.records, strict=True))
        assert len({k["row"] for k in key}) == len(key), "one defect per row"
        for entry in key:
            _check_defect(record, delivery, entry, rows)
            seen[entry["defect"]] += 1
        if record["format"] == "jsonl":
            assert not {k["defect"] for k in key} & {"impossible_date", "amount_as_text"}
    assert set(seen) == set(DEFECT_KINDS)


def test_duplicates_keep_their_first_occurrence_clean(read_back):
    for _, _, key in read_back:
        defective = {int(k["row"]) for k in key}
        for entry in key:
            if entry["defect"] == "duplicate_key":
                assert int(re.search(r"row (\d+)", entry["note"]).group(1)) not in defective


def test_injected_counts_match_the_manifest_and_the_rate(read_back):
    for record, _, key in read_back:
        counts = Counter(k["defect"] for k in key)
        assert dict(counts) == record["defects"], record["path"]
        rates = record["defect_rates"]
        assert set(counts) <= set(rates)
        assert sum(rates.values()) == pytest.approx(RATE, abs=1e-4)
        assert abs(sum(counts.values()) - round(record["rows"] * RATE)) <= 1, record["path"]


def test_row_numbers_are_as_a_clerk_sees_them(demo, read_back):
    out, _ = demo
    for record, delivery, _ in read_back:
        assert delivery.row_numbers[0] == record["first_data_row"]
        if record["format"] == "csv":
            lines = (out / record["path"]).read_bytes().decode(record["encoding"]).split("\r\n")
            assert len(lines) - 1 == len(delivery.records) + 1  # header + rows, trailing newline


def test_per_kind_rates_inject_only_those_kinds(tmp_path):
    manifest = generate(
        tmp_path,
        seed=1,
        scale=0.1,
        datasets=["admin_penalty"],
        defect_rates={"impossible_date": 0.1},
        catalog=CATALOG,
    )
    assert manifest["defect_rates"] == {"impossible_date": 0.1} and manifest["defect_rate"] is None
    files = [d for d in manifest["deliveries"] if d["format"] != "jsonl"]
    for record in files:
        assert set(record["defects"]) == {"impossible_date"}
        assert record["defects"]["impossible_date"] == round(record["rows"] * 0.1)
    database = [d for d in manifest["deliveries"] if d["format"] == "jsonl"]
    assert database and all(not d["defects"] for d in database)


def test_no_defects_at_rate_zero(tmp_path):
    manifest = generate(
        tmp_path, seed=1, scale=0.05, datasets=["admin_licensing"], defect_rate=0, catalog=CATALOG
    )
    assert manifest["totals"]["defects"] == {}


# -- determinism and reruns ---------------------------------------------------------------------------


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files(tmp_path):
    options = {
        "seed": 9,
        "scale": 0.05,
        "datasets": ["admin_penalty", "admin_licensing", "wage_arrears_dishonest"],
    }
    first = _tree(Path(generate(tmp_path / "a", **options, catalog=CATALOG) and tmp_path / "a"))
    second = _tree(Path(generate(tmp_path / "b", **options, catalog=CATALOG) and tmp_path / "b"))
    assert first.keys() == second.keys() and any(k.endswith(".xlsx") for k in first)
    assert first == second
    third = _tree(
        Path(generate(tmp_path / "c", **{**options, "seed": 10}, catalog=CATALOG) and tmp_path / "c")
    )
    assert third != first


def test_filtering_datasets_leaves_other_deliveries_unchanged(demo, tmp_path):
    out, _ = demo
    generate(tmp_path, seed=SEED, scale=SCALE, defect_rate=RATE, datasets=["admin_penalty"], catalog=CATALOG)
    for path, data in _tree(tmp_path).items():
        if path != "manifest.json":
            assert (out / path).read_bytes() == data, path


def test_rerun_replaces_the_previous_output_but_not_foreign_directories(tmp_path):
    generate(tmp_path, seed=1, scale=0.05, datasets=["admin_penalty"], catalog=CATALOG)
    generate(tmp_path, seed=1, scale=0.05, datasets=["public_institution"], catalog=CATALOG)
    assert not list((tmp_path / "landing").glob("*/admin_penalty"))
    foreign = tmp_path / "foreign"
    (foreign / "landing").mkdir(parents=True)
    with pytest.raises(UsageError, match="did not write"):
        generate(foreign, seed=1, scale=0.05, datasets=["public_institution"], catalog=CATALOG)


def test_bad_options_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="unknown defect kind"):
        generate(tmp_path, defect_rates={"typo": 0.1}, catalog=CATALOG)
    with pytest.raises(UsageError, match="scale"):
        generate(tmp_path, scale=0, catalog=CATALOG)
    with pytest.raises(Exception, match="unknown dataset"):
        generate(tmp_path, datasets=["nope"], catalog=CATALOG)


def test_rows_option_and_forced_format(tmp_path):
    manifest = generate(
        tmp_path,
        seed=3,
        rows=50,
        sources=["admin_penalty__scjg__landing"],
        file_format="csv",
        catalog=CATALOG,
    )
    (record,) = manifest["deliveries"]
    assert record["rows"] == 50 and record["format"] == "csv" and record["path"].endswith(".csv")


# -- command line -------------------------------------------------------------------------------------


def test_cli_writes_deliveries(tmp_path, capsys):
    code = cli_main(["demo-data", "--out", str(tmp_path), "--seed", "5", "--scale", "0.05", "--datasets",
                     "admin_penalty,tax_credit_grade_a", "--defect-rate", "0.1"])  # fmt: skip
    assert code == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert {d["dataset"] for d in manifest["deliveries"]} == {"admin_penalty", "tax_credit_grade_a"}
    assert manifest["seed"] == 5 and manifest["defect_rate"] == 0.1
    output = capsys.readouterr().out
    assert "deliveries" in output and str(tmp_path) in output


def test_cli_bad_input_is_a_message_not_a_traceback(tmp_path, capsys):
    assert cli_main(["demo-data", "--out", str(tmp_path), "--datasets", "nope"]) == 2
    assert cli_main(["demo-data", "--out", str(tmp_path), "--defect-rate", "2"]) == 2
    assert cli_main(["demo-data", "--out", str(tmp_path), "--defect-rates", "typo=0.1"]) == 2
    with pytest.raises(SystemExit):  # argparse's own usage error
        cli_main(["demo-data", "--out", str(tmp_path), "--defect-rates", "impossible_date"])
    err = capsys.readouterr().err
    assert "Traceback" not in err and "unknown dataset" in err and "unknown defect kind" in err
    assert "expected KIND=RATE" in err


@pytest.mark.slow
def test_a_million_penalty_rows(tmp_path):
    """Scale: the benchmark's one-million-row file is generated whole (its time is bench's business)."""
    manifest = generate(
        tmp_path, rows=1_000_000, sources=["admin_penalty__scjg__landing"], file_format="csv", catalog=CATALOG
    )
    assert manifest["deliveries"][0]["rows"] == 1_000_000
    delivery = manifest["deliveries"][0]
    with (tmp_path / delivery["path"]).open(encoding=delivery["encoding"]) as handle:
        assert sum(1 for _ in handle) >= 1_000_001


# -- building blocks ----------------------------------------------------------------------------------


def test_every_catalog_field_has_a_named_generator():
    """Fields without one still get valid values (by type and pattern), but not realistic ones."""
    from etl.demo_data.values import NAMED

    missing = sorted(
        {f"{d.id}.{f.name}" for d in CATALOG.datasets.values() for f in d.fields if f.name not in NAMED}
    )
    assert not missing, f"add a generator in etl/demo_data/values/ for: {', '.join(missing)}"


def test_all_vocabulary_is_gbk_encodable():
    from etl.demo_data import themes, words

    def strings(value: Any):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for k, v in value.items():
                yield from strings(k)
                yield from strings(v)
        elif isinstance(value, (tuple, list)):
            for item in value:
                yield from strings(item)
        elif hasattr(value, "__dataclass_fields__"):
            for name in value.__dataclass_fields__:
                yield from strings(getattr(value, name))

    for module in (words, themes):
        for name in dir(module):
            if name.isupper():
                for text in strings(getattr(module, name)):
                    text.encode("gbk")


def test_csv_writer_quotes_like_the_csv_module(tmp_path):
    import csv
    import io

    import numpy as np

    from etl.demo_data.writers import write_csv

    columns = [
        np.array(["a,b", 'say "hi"', "plain", ""], dtype=object),
        np.array(["1", "two\nlines", "", "柳州"], dtype=object),
    ]
    path = tmp_path / "x.csv"
    write_csv(path, ["h1", "h,2"], columns, "gbk")
    expected = io.StringIO(newline="")
    writer = csv.writer(expected, lineterminator="\r\n")
    writer.writerow(["h1", "h,2"])
    writer.writerows(zip(*(c.tolist() for c in columns), strict=True))
    assert path.read_bytes() == expected.getvalue().encode("gbk")


def test_make_demo_writes_and_rewrites_the_demo_tree(tmp_path, monkeypatch, capsys):
    """The deliveries step of `make demo` (the Airflow runs are tested in tests/dags/test_demo.py)."""
    from etl import demo

    monkeypatch.setenv("CREDIT_ETL_HOME", str(tmp_path))
    assert demo.main(["--scale", "0.03", "--no-airflow"]) == 0
    first = capsys.readouterr().out
    work = tmp_path / "demo"
    assert "catalog ok" in first and str(work) in first and "defects:" in first
    stale = work / "landing" / "scjg" / "admin_penalty" / "incoming" / "stale.csv"
    stale.write_text("left over", encoding="utf-8")
    before = _tree(work)
    assert demo.main(["--scale", "0.03", "--no-airflow"]) == 0
    assert not stale.exists(), "the previous demo landing tree is wiped"
    del before[str(stale.relative_to(work))]
    assert _tree(work) == before, "a rerun regenerates the same files"


def test_parquet_on_request(tmp_path):
    import pyarrow.parquet as pq

    manifest = generate(
        tmp_path,
        seed=2,
        rows=40,
        sources=["admin_penalty__jt__landing"],
        file_format="parquet",
        defect_rates={"missing_required": 0.1},
        catalog=CATALOG,
    )
    (record,) = manifest["deliveries"]
    table = pq.read_table(tmp_path / record["path"])
    assert table.num_rows == 40 and record["first_data_row"] == 1
    assert "行政处罚决定书文号" in table.column_names
    key = read_answer_key(tmp_path / record["answer_key"])
    assert len(key) == 4
    for entry in key:
        row = table.slice(int(entry["row"]) - 1, 1).to_pylist()[0]
        field = CATALOG.datasets["admin_penalty"].field(entry["field"])
        assert row[next(h for h in field.headers if h in row)] is None
