"""一码多名, 一名多码 and orgcode/USCC mismatches over the warehouse, on DuckDB and PostgreSQL.

Deliveries go through the real pipeline (``receive_file`` + ``process_drop``): the registry
(legal_entity_basic, 市场监管局) and penalties from 市场监管局 and 卫健委 (admin_penalty). Between
them they carry one code under two names across datasets and departments, one name under two
codes, and one wrong organisation code in two datasets; everything else in them is consistent
only once names are compared as the batch check compares them (NFKC, no blanks), or is left out
(the placeholder USCC, natural persons without a USCC).
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from backends import BACKENDS, backend_url
from csv_files import write_csv

import etl.cli
from etl.catalog import Catalog, load_catalog
from etl.codes import orgcode, uscc
from etl.codes import regno as regnos
from etl.codes.warehouse_consistency import check_warehouse
from etl.drop import receive_file
from etl.pipeline import process_drop
from etl.storage import Storage
from etl.warehouse import open_warehouse


def make_uscc(prefix: str, organisation: str) -> str:
    """A valid USCC: ``prefix`` (authority, type, division) + the organisation code of ``organisation``."""
    body = prefix + organisation + orgcode.calc_check_char(organisation)
    return body + uscc.calc_check_char(body)


JIA = make_uscc("91450202", "MA5K0001")  # registered as 柳州市甲商贸有限公司, penalised as 柳州市甲商贸公司
YI_REGISTRY = make_uscc("91450203", "MA5K0002")  # 柳州市乙机械厂 in the registry …
YI_PENALTY = make_uscc("91450204", "MA5K0003")  # … and under another code in a penalty
BING = make_uscc("91450205", "MA5K0004")  # a branch written with full- and half-width brackets
DING = make_uscc("91450206", "MA5K0005")  # its organisation code column is another code
DING_WRONG_ORGCODE = "MA5K0006" + orgcode.calc_check_char("MA5K0006")
PERSON_ID = "360426199101010071"

REGISTRY = "legal_entity_basic"
PENALTY = "admin_penalty"


def registry_row(name: str, code: str, **changes: str) -> dict[str, str]:
    row = {
        "subject_name": name, "subject_category": "法人及非法人组织", "uscc": code, "legal_rep": "张三",
        "entity_type": "有限责任公司（自然人投资或控股）", "established_date": "2015-03-02",
        "address": "柳州市城中区文昌路1号", "business_scope": "日用百货销售",
        "authority": "柳州市市场监督管理局", "status": "存续",
    }  # fmt: skip
    return row | changes


def penalty_row(n: int, name: str, code: str, **changes: str) -> dict[str, str]:
    row = {
        "subject_name": name, "subject_category": "法人及非法人组织", "uscc": code, "legal_rep": "李四",
        "decision_no": f"柳罚〔2026〕{n}号", "violation_type": "销售不合格产品",
        "violation_facts": "经查属实",
        "legal_basis": "《中华人民共和国产品质量法》第四十九条", "penalty_types": "警告",
        "penalty_content": "警告", "decision_date": "2026-09-01", "valid_until": "2027-09-01",
        "authority": "柳州市某局", "authority_uscc": "11450200007638234C", "source_unit": "柳州市某局",
        "source_unit_uscc": "11450200007638234C",
    }  # fmt: skip
    return row | changes


def self_employed(n: int, name: str) -> dict[str, str]:
    """An individual business still without a code: the placeholder USCC and its registration number."""
    body = f"450202{n:08d}"
    regno = body + regnos.calc_check_char(body)
    return penalty_row(n, name, uscc.PLACEHOLDER, subject_category="个体工商户", legal_rep="", regno=regno)


REGISTRY_ROWS = [
    registry_row("柳州市甲商贸有限公司", JIA),
    registry_row("柳州市乙机械厂", YI_REGISTRY),
    registry_row("柳州市丙食品有限公司（柳北分店）", BING, orgcode=f"{BING[8:16]}-{BING[16]}"),
    registry_row("柳州市丁建材有限公司", DING, orgcode=DING_WRONG_ORGCODE),
]
SCJG_PENALTY_ROWS = [
    penalty_row(1, "柳州市乙机械厂", YI_PENALTY),
    penalty_row(2, "柳州市丁建材有限公司", DING, orgcode=DING_WRONG_ORGCODE),
    self_employed(3, "柳州市城中区王记粉店"),
    self_employed(4, "柳州市鱼峰区李记粉店"),
]
WJW_PENALTY_ROWS = [
    penalty_row(11, "柳州市甲商贸公司", JIA),
    penalty_row(12, " 柳州市丙食品有限公司 (柳北分店)", BING.lower()),
    penalty_row(13, "赵六", "", subject_category="自然人", legal_rep="", id_type="身份证", id_no=PERSON_ID),
]


@dataclasses.dataclass
class Loaded:
    url: str
    delivery_ids: dict[str, str]  # file name -> delivery id


def load(url: str, tmp: Path, catalog: Catalog, files: dict[str, tuple[str, str, list]]) -> Loaded:
    """Initialises the warehouse at ``url`` and processes each file (dataset, department, rows)."""
    warehouse = open_warehouse(url)
    small = dataclasses.replace(catalog, datasets={d: catalog.datasets[d] for d in (REGISTRY, PENALTY)})
    warehouse.init(small)
    storage = Storage(tmp / "storage")
    ids = {}
    for file_name, (dataset, department, rows) in files.items():
        method = "database" if dataset == REGISTRY else "landing"
        drop = receive_file(
            storage, write_csv(tmp / file_name, rows), dataset=dataset, department=department,
            source=f"{dataset}__{department}__{method}",
        )  # fmt: skip
        result = process_drop(drop, catalog=catalog, warehouse=warehouse, storage=storage)
        assert result.ledger.status == "loaded", (file_name, result.ledger)
        ids[file_name] = drop.delivery_id
    return Loaded(url, ids)


DELIVERIES = {
    "registry.csv": (REGISTRY, "scjg", REGISTRY_ROWS),
    "scjg_penalties.csv": (PENALTY, "scjg", SCJG_PENALTY_ROWS),
    "wjw_penalties.csv": (PENALTY, "wjw", WJW_PENALTY_ROWS),
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()




@pytest.fixture(scope="module", params=BACKENDS)
def loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, catalog
) -> Iterator[Loaded]:
    """The three deliveries, loaded once per backend (the tests only read)."""
    tmp = tmp_path_factory.mktemp(request.param)
    with backend_url(request.param, tmp) as url:
        yield load(url, tmp, catalog, DELIVERIES)


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with backend_url(request.param, tmp_path) as url:
        yield url


def records_of(finding: dict) -> list[tuple]:
    return [
        (
            r["dataset"],
            r["department"],
            r["file_name"],
            r["source_row"],
            r["uscc"],
            r["subject_name"],
            r["orgcode"],
        )
        for r in finding["records"]
    ]


def test_findings_across_datasets_and_departments(loaded: Loaded, catalog: Catalog) -> None:
    result = check_warehouse(open_warehouse(loaded.url), catalog)
    ids = loaded.delivery_ids
    findings = result.findings.to_pylist()
    assert [(f["reason"], f["subject"], f["values"]) for f in findings] == [
        ("ONE_CODE_MANY_NAMES", JIA, ["柳州市甲商贸公司", "柳州市甲商贸有限公司"]),
        ("ONE_NAME_MANY_CODES", "柳州市乙机械厂", sorted([YI_REGISTRY, YI_PENALTY])),
        ("ORGCODE_MISMATCH", DING, [DING_WRONG_ORGCODE]),
    ]
    code_names, name_codes, mismatch = findings

    assert code_names["datasets"] == [PENALTY, REGISTRY]
    assert code_names["departments"] == ["scjg", "wjw"]
    assert code_names["deliveries"] == sorted([ids["registry.csv"], ids["wjw_penalties.csv"]])
    assert records_of(code_names) == [
        (REGISTRY, "scjg", "registry.csv", 2, JIA, "柳州市甲商贸有限公司", None),
        (PENALTY, "wjw", "wjw_penalties.csv", 2, JIA, "柳州市甲商贸公司", None),
    ]
    assert code_names["message"] == (
        "同一代码对应2个不同名称：柳州市甲商贸公司、柳州市甲商贸有限公司；同一主体应使用登记证照上的全称，"
        "请核实名称或代码；涉及：市市场监管局《法人及非法人组织基础信息》registry.csv 第2行；"
        "市卫健委《行政处罚信息》wjw_penalties.csv 第2行"
    )

    assert name_codes["departments"] == ["scjg"]
    assert name_codes["deliveries"] == sorted([ids["registry.csv"], ids["scjg_penalties.csv"]])
    assert records_of(name_codes) == [
        (PENALTY, "scjg", "scjg_penalties.csv", 2, YI_PENALTY, "柳州市乙机械厂", None),
        (REGISTRY, "scjg", "registry.csv", 3, YI_REGISTRY, "柳州市乙机械厂", None),
    ]
    assert name_codes["message"] == (
        "名称“柳州市乙机械厂”对应2个不同代码；同一主体只能有一个代码，请核实代码；涉及："
        "市市场监管局《行政处罚信息》scjg_penalties.csv 第2行；"
        "市市场监管局《法人及非法人组织基础信息》registry.csv 第3行"
    )

    # The same wrong pair in two datasets is one finding with both records.
    assert mismatch["datasets"] == [PENALTY, REGISTRY]
    assert [r[:4] for r in records_of(mismatch)] == [
        (PENALTY, "scjg", "scjg_penalties.csv", 3),
        (REGISTRY, "scjg", "registry.csv", 5),
    ]
    assert mismatch["message"] == (
        f"组织机构代码“{DING_WRONG_ORGCODE}”与统一社会信用代码第9-17位“{DING[8:17]}”不一致；"
        "请核实两者是否属于同一主体；涉及：市市场监管局《行政处罚信息》scjg_penalties.csv 第3行；"
        "市市场监管局《法人及非法人组织基础信息》registry.csv 第5行"
    )


def test_counts_per_department(loaded: Loaded, catalog: Catalog) -> None:
    result = check_warehouse(open_warehouse(loaded.url), catalog)
    # scjg: four registry records and two penalties with a real code (the placeholders are left
    # out); wjw: two, the natural person having no USCC.
    assert result.records_checked == 8
    counts = {(c["department"], c["reason"]): c for c in result.by_department.to_pylist()}
    assert {key: (c["records_checked"], c["findings"], c["records"]) for key, c in counts.items()} == {
        ("scjg", "ONE_CODE_MANY_NAMES"): (6, 1, 1),
        ("scjg", "ONE_NAME_MANY_CODES"): (6, 1, 2),
        ("scjg", "ORGCODE_MISMATCH"): (6, 1, 2),
        ("wjw", "ONE_CODE_MANY_NAMES"): (2, 1, 1),
        ("wjw", "ONE_NAME_MANY_CODES"): (2, 0, 0),
        ("wjw", "ORGCODE_MISMATCH"): (2, 0, 0),
    }


def test_only_the_datasets_asked_for(loaded: Loaded, catalog: Catalog) -> None:
    # Within the penalties alone, 甲 and 乙 each have one name and one code.
    result = check_warehouse(open_warehouse(loaded.url), catalog, [PENALTY])
    assert [(f["reason"], f["subject"], len(f["records"])) for f in result.findings.to_pylist()] == [
        ("ORGCODE_MISMATCH", DING, 1)
    ]


def test_a_clean_warehouse_has_no_findings(fresh_url: str, tmp_path: Path, catalog: Catalog) -> None:
    warehouse = open_warehouse(fresh_url)
    warehouse.init(dataclasses.replace(catalog, datasets={PENALTY: catalog.datasets[PENALTY]}))
    empty = check_warehouse(warehouse, catalog)
    assert (empty.findings.num_rows, empty.by_department.num_rows, empty.records_checked) == (0, 0, 0)

    clean = {
        "registry.csv": (REGISTRY, "scjg", [REGISTRY_ROWS[0], REGISTRY_ROWS[2]]),
        "wjw_penalties.csv": (
            PENALTY,
            "wjw",
            [penalty_row(11, "柳州市甲商贸有限公司", JIA), *WJW_PENALTY_ROWS[1:]],
        ),
        "scjg_penalties.csv": (PENALTY, "scjg", SCJG_PENALTY_ROWS[2:]),
    }
    load(fresh_url, tmp_path, catalog, clean)
    result = check_warehouse(open_warehouse(fresh_url), catalog)
    assert result.findings.num_rows == 0
    assert result.records_checked == 4
    assert {
        (c["department"], c["records_checked"], c["findings"]) for c in result.by_department.to_pylist()
    } == {
        ("scjg", 2, 0),
        ("wjw", 2, 0),
    }


# -- the command line ------------------------------------------------------------------------------


@pytest.fixture
def only_the_codes_command(monkeypatch: pytest.MonkeyPatch) -> None:
    # Other command groups are other people's; a broken import there must not fail these tests.
    monkeypatch.setattr(etl.cli, "COMMAND_MODULES", ["etl.cli.codes_cmd"])


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = etl.cli.main(["codes", "consistency", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.usefixtures("only_the_codes_command")
def test_cli_csv_and_json(loaded: Loaded, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "--warehouse", loaded.url)
    assert code == 1
    rows = list(csv.DictReader(out.splitlines()))
    assert [(r["reason"], r["subject"], r["departments"], r["records"]) for r in rows] == [
        ("ONE_CODE_MANY_NAMES", JIA, "scjg;wjw", "2"),
        ("ONE_NAME_MANY_CODES", "柳州市乙机械厂", "scjg", "2"),
        ("ORGCODE_MISMATCH", DING, "scjg", "2"),
    ]
    assert rows[0]["values"] == "柳州市甲商贸公司;柳州市甲商贸有限公司"
    assert rows[0]["datasets"] == f"{PENALTY};{REGISTRY}"
    assert rows[0]["message"].endswith("市卫健委《行政处罚信息》wjw_penalties.csv 第2行")
    assert err.splitlines()[0] == "3 finding(s) over 8 record(s) checked"
    assert "  wjw: ONE_CODE_MANY_NAMES 1 finding(s), 1 of its 2 record(s)" in err.splitlines()

    code, out, _ = run_cli(capsys, "--warehouse", loaded.url, "--format", "json", "--dataset", PENALTY)
    assert code == 1
    (finding,) = [json.loads(line) for line in out.splitlines()]
    assert finding["reason"] == "ORGCODE_MISMATCH"
    assert finding["records"] == [
        {
            "dataset": PENALTY, "department": "scjg",
            "delivery_id": loaded.delivery_ids["scjg_penalties.csv"], "file_name": "scjg_penalties.csv",
            "source_row": 3, "uscc": DING, "subject_name": "柳州市丁建材有限公司",
            "orgcode": DING_WRONG_ORGCODE,
        }
    ]  # fmt: skip


@pytest.mark.usefixtures("only_the_codes_command")
def test_cli_clean_warehouse_exits_0(
    tmp_path: Path, catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"duckdb:///{tmp_path}/clean.duckdb"
    load(url, tmp_path, catalog, {"registry.csv": (REGISTRY, "scjg", REGISTRY_ROWS[:3])})
    code, out, err = run_cli(capsys, "--warehouse", url, "--dataset", REGISTRY, PENALTY)
    assert code == 0
    assert list(csv.reader(out.splitlines())) == [
        ["reason", "subject", "values", "datasets", "departments", "deliveries", "records", "message"]
    ]
    assert err == "0 finding(s) over 3 record(s) checked\n"


@pytest.mark.usefixtures("only_the_codes_command")
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--dataset", "licensed_physician"], "licensed_physician have no uscc and subject_name columns"),
        (["--dataset", "no_such_dataset"], "unknown dataset 'no_such_dataset'"),
        ([], "run `credit-etl warehouse init`"),
    ],
)
def test_cli_errors_are_messages(
    args: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "--warehouse", f"duckdb:///{tmp_path}/none.duckdb", *args)
    assert code == 2
    assert out == ""
    assert expected in err
    assert "Traceback" not in err


def test_identity_numbers_typed_into_name_or_code_columns_are_masked_in_findings() -> None:
    """Subjects, values, messages and the records listed: an identity number in a name or USCC column
    is shown masked everywhere a finding goes (CSV, JSON, the NDRC report), a valid USCC as it is."""
    import pyarrow as pa

    from etl.codes.warehouse_consistency import find_inconsistencies
    from etl.warehouse.identifiers import IDENTIFIERS_SCHEMA

    def record(row: int, code: str, name: str) -> dict[str, object]:
        return {"dataset": PENALTY, "department": "scjg", "delivery_id": f"{PENALTY}:scjg:1",
                "file_name": "a.csv", "source_row": row, "uscc": code, "subject_name": name,
                "orgcode": None}  # fmt: skip

    records = pa.Table.from_pylist([
        record(2, JIA, "柳州市甲商贸有限公司"), record(3, JIA, PERSON_ID),  # an ID where the name goes
        record(4, PERSON_ID, "张三"), record(5, YI_PENALTY, "张三"),  # … and where the code goes
    ], IDENTIFIERS_SCHEMA)  # fmt: skip
    findings = find_inconsistencies(records).findings.to_pylist()
    assert [(f["reason"], f["subject"], f["values"]) for f in findings] == [
        ("ONE_CODE_MANY_NAMES", JIA, ["3604**********0071", "柳州市甲商贸有限公司"]),
        ("ONE_NAME_MANY_CODES", "张三", ["3604**********0071", YI_PENALTY]),
    ]
    assert "3604**********0071" in findings[0]["message"]
    text = json.dumps(findings, ensure_ascii=False, default=str)
    assert PERSON_ID not in text and "19910101" not in text
    shown = [(r["uscc"], r["subject_name"]) for f in findings for r in f["records"]]
    assert (JIA, "3604**********0071") in shown and ("3604**********0071", "张三") in shown
