"""``credit-etl catalog check``: the shipped catalog passes; each kind of breakage is named precisely.

Every broken case starts from a copy of the real ``catalog_yaml/`` in ``tmp_path``, applies one edit,
and expects exit code 1 with a line naming the file, the dataset, the field and the problem.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from etl.catalog import DEFAULT_CATALOG_DIR, KEY_DOMAINS, SQL_IDENTIFIER
from etl.cli import main

Breakage = Callable[[Path], None]


def run_check(directory: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["catalog", "check", str(directory)])
    return code, capsys.readouterr().out.splitlines()


def edit_yaml(path: Path, change: Callable[[Any], Any]) -> None:
    """Loads ``path``, lets ``change`` mutate the data in place, writes it back."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def edit_dataset(dataset_id: str, change: Callable[[dict[str, Any]], Any]) -> Breakage:
    return lambda root: edit_yaml(root / "datasets" / f"{dataset_id}.yaml", change)


def field_of(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in data["fields"] if isinstance(f, dict) and f.get("name") == name)


def edit_field(dataset_id: str, name: str, change: Callable[[dict[str, Any]], Any]) -> Breakage:
    return edit_dataset(dataset_id, lambda data: change(field_of(data, name)))


def rule_of(data: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(r for r in data["rules"] if r["id"] == rule_id)


def edit_rule(dataset_id: str, rule_id: str, change: Callable[[dict[str, Any]], Any]) -> Breakage:
    return edit_dataset(dataset_id, lambda data: change(rule_of(data, rule_id)))


def copy_dataset_file(source_id: str, new_name: str) -> Breakage:
    def breakage(root: Path) -> None:
        shutil.copy(root / "datasets" / f"{source_id}.yaml", root / "datasets" / f"{new_name}.yaml")

    return breakage


def replace_line(relative: str, line_no: int, text: str) -> Breakage:
    def breakage(root: Path) -> None:
        path = root / relative
        lines = path.read_text(encoding="utf-8").splitlines()
        lines[line_no - 1] = text
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    return breakage


def edit_department(department_id: str, change: Callable[[dict[str, Any]], Any]) -> Breakage:
    def on_departments(data: dict[str, Any]) -> None:
        change(next(d for d in data["departments"] if d["id"] == department_id))

    return lambda root: edit_yaml(root / "departments.yaml", on_departments)


def without(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda mapping: mapping.pop(key)


def setting(key: str, value: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda mapping: mapping.__setitem__(key, value)


LICENSING = "catalog_yaml/datasets/admin_licensing.yaml: dataset 'admin_licensing'"
WJW_LANDING = {"department": "wjw", "method": "landing"}
IDENTIFIER_RULE = f"is not a safe SQL identifier (want {SQL_IDENTIFIER.pattern})"

# (case id, breakage, a line the output must contain exactly)
CASES: list[tuple[str, Breakage, str]] = [
    (
        "unknown key at top level",
        edit_dataset("admin_licensing", setting("owner", "xzsp")),
        f"{LICENSING}: unknown key 'owner'",
    ),
    (
        "unknown key inside a field",
        edit_field("admin_licensing", "content", setting("requried", True)),
        f"{LICENSING}: field 'content': unknown key 'requried'",
    ),
    (
        "bad field type",
        edit_field("admin_licensing", "valid_to", setting("type", "datetime")),
        f"{LICENSING}: field 'valid_to': type: Input should be 'string', 'date', 'decimal', 'integer', "
        "'uscc', 'orgcode', 'regno' or 'idcard'",
    ),
    (
        "bad value type",
        edit_field("admin_licensing", "decision_no", setting("max_length", "long")),
        f"{LICENSING}: field 'decision_no': max_length: "
        "Input should be a valid integer, unable to parse string as an integer",
    ),
    (
        "unknown department",
        edit_dataset("dishonest_judgment_debtor", lambda d: d["departments"].append("fy")),
        "catalog_yaml/datasets/dishonest_judgment_debtor.yaml: dataset 'dishonest_judgment_debtor': "
        "unknown department 'fy' (see departments.yaml)",
    ),
    (
        "source department not among the dataset's departments",
        edit_dataset("admin_licensing", lambda d: d["sources"].append(WJW_LANDING)),
        f"{LICENSING}: source department 'wjw' is not among the dataset's departments",
    ),
    (
        "duplicate dataset id",
        copy_dataset_file("tax_credit_grade_a", "tax_credit_grade_a_2024"),
        "catalog_yaml/datasets/tax_credit_grade_a_2024.yaml: dataset 'tax_credit_grade_a': "
        "duplicate dataset id 'tax_credit_grade_a' (used by 2 datasets)",
    ),
    (
        "duplicate table",
        edit_dataset("tax_credit_grade_a", setting("table", "major_tax_violation")),
        "catalog_yaml/datasets/tax_credit_grade_a.yaml: dataset 'tax_credit_grade_a': "
        "duplicate table 'major_tax_violation' (used by 2 datasets)",
    ),
    (
        "duplicate field name",
        edit_field("licensed_physician", "practice_scope", setting("name", "practice_category")),
        "catalog_yaml/datasets/licensed_physician.yaml: dataset 'licensed_physician': "
        "field 'practice_category': field name appears more than once",
    ),
    (
        "header claimed by two fields",
        edit_field("admin_licensing", "valid_from", lambda f: f["aliases"].append("决定日期")),
        f"{LICENSING}: field 'valid_from': header '决定日期' is claimed by more than one field",
    ),
    (
        "one_of naming a missing field",
        edit_dataset("admin_licensing", lambda d: d["one_of"][0]["fields"].append("credit_code")),
        f"{LICENSING}: one_of group 'subject_identifier' names field 'credit_code', "
        "which the dataset does not have",
    ),
    (
        "rule naming a missing field",
        edit_rule("admin_licensing", "valid_period_ordered", lambda r: r.update(left="valid_start")),
        f"{LICENSING}: rule 'valid_period_ordered' names field 'valid_start', "
        "which the dataset does not have",
    ),
    (
        "rule condition testing a value the field does not allow",
        edit_rule("admin_licensing", "natural_person_needs_id", lambda r: r["when"].update(equals="个人")),
        f"{LICENSING}: field 'subject_category': rule 'natural_person_needs_id' condition tests for '个人', "
        "which is not an allowed value of the field",
    ),
    (
        "compare rule over a date and a string",
        edit_rule("admin_licensing", "valid_period_ordered", lambda r: r.update(right="licence_no")),
        f"{LICENSING}: rule 'valid_period_ordered' compares fields of types ['date', 'string']; "
        "both must be the same date or number type",
    ),
    (
        "missing sla",
        edit_dataset("social_organization", without("sla")),
        "catalog_yaml/datasets/social_organization.yaml: dataset 'social_organization': "
        "missing required key 'sla'",
    ),
    (
        "licensing without the publication sla",
        edit_dataset("admin_licensing", lambda d: d["sla"].pop("publication")),
        f"{LICENSING}: 双公示 datasets (licensing, penalty) need sla.publication",
    ),
    (
        "unsafe table identifier",
        edit_dataset("social_organization", setting("table", "social_organization; drop table x")),
        "catalog_yaml/datasets/social_organization.yaml: dataset 'social_organization': "
        f"table: 'social_organization; drop table x' {IDENTIFIER_RULE}",
    ),
    (
        "unsafe source table identifier",
        edit_dataset("major_tax_violation", lambda d: d["sources"][0].update(table='credit_exchange."V x"')),
        "catalog_yaml/datasets/major_tax_violation.yaml: dataset 'major_tax_violation': "
        f"sources.0: '\"V x\"' {IDENTIFIER_RULE}",
    ),
    (
        "unsafe column identifier",
        edit_field("licensed_physician", "gender", setting("name", "Gender")),
        "catalog_yaml/datasets/licensed_physician.yaml: dataset 'licensed_physician': "
        f"field 'Gender': name: 'Gender' {IDENTIFIER_RULE}",
    ),
    (
        "invalid regex",
        edit_field("basic_deposit_account", "basic_account_no", setting("pattern", "^J[0-9{13}$")),
        "catalog_yaml/datasets/basic_deposit_account.yaml: dataset 'basic_deposit_account': "
        "field 'basic_account_no': pattern: invalid regular expression '^J[0-9{13}$': "
        "unterminated character set at position 2",
    ),
    (
        "domain not a key domain",
        edit_dataset("social_organization", setting("domain", "民政")),
        "catalog_yaml/datasets/social_organization.yaml: dataset 'social_organization': "
        f"domain: '民政' is not one of the 20 key domains: {'、'.join(KEY_DOMAINS)}",
    ),
    (
        "source domain not a key domain",
        edit_dataset("admin_licensing", lambda d: d["sources"][2].update(domain="建设")),
        f"{LICENSING}: source domain '建设' is not one of the 20 key domains",
    ),
    (
        "sftp source without conn_id",
        edit_dataset("road_transport_practitioner", lambda d: d["sources"][0].pop("conn_id")),
        "catalog_yaml/datasets/road_transport_practitioner.yaml: dataset 'road_transport_practitioner': "
        "sources.0: a sftp source needs conn_id",
    ),
    (
        "database source with both table and query",
        edit_dataset("major_tax_violation", lambda d: d["sources"][0].update(query="SELECT * FROM t")),
        "catalog_yaml/datasets/major_tax_violation.yaml: dataset 'major_tax_violation': "
        "sources.0: a database source needs exactly one of 'table' and 'query'",
    ),
    (
        "database watermark that is not a field",
        edit_dataset("tax_credit_grade_a", lambda d: d["fields"].remove(field_of(d, "updated_at"))),
        "catalog_yaml/datasets/tax_credit_grade_a.yaml: dataset 'tax_credit_grade_a': "
        "source 'tax_credit_grade_a__tax__database' watermark names field 'updated_at', "
        "which the dataset does not have",
    ),
    (
        "landing directory escaping the landing root",
        edit_dataset("product_quality_spot_check", lambda d: d["sources"][0].update(directory="../scjg")),
        "catalog_yaml/datasets/product_quality_spot_check.yaml: dataset 'product_quality_spot_check': "
        "sources.0.directory: '../scjg' must not contain '..'",
    ),
    (
        "bad cron schedule",
        edit_dataset("licensed_physician", lambda d: d["sources"][0].update(schedule="every day")),
        "catalog_yaml/datasets/licensed_physician.yaml: dataset 'licensed_physician': "
        "sources.0.schedule: 'every day' is not a cron expression or preset",
    ),
    (
        "dedup_key naming a missing field",
        edit_dataset("product_quality_spot_check", setting("dedup_key", ["report_number"])),
        "catalog_yaml/datasets/product_quality_spot_check.yaml: dataset 'product_quality_spot_check': "
        "dedup_key names field 'report_number', which the dataset does not have",
    ),
    (
        "id differing from the file name",
        edit_dataset("tax_credit_grade_a", setting("id", "tax_credit_a")),
        "catalog_yaml/datasets/tax_credit_grade_a.yaml: dataset 'tax_credit_a': "
        "id 'tax_credit_a' differs from the file name 'tax_credit_grade_a'",
    ),
    (
        "YAML syntax error",
        replace_line("datasets/licensed_physician.yaml", 2, "title: 医师: 执业注册信息"),
        "catalog_yaml/datasets/licensed_physician.yaml: YAML syntax error at line 2: "
        "mapping values are not allowed in this context",
    ),
    (
        "unknown fieldset",
        edit_dataset("admin_licensing", lambda d: d["fields"][0].update(fieldset="parties")),
        f"{LICENSING}: unknown fieldset 'parties' (known: party)",
    ),
    (
        "invalid department USCC",
        edit_department("mz", setting("uscc", "11450200007638904X")),
        "catalog_yaml/departments.yaml: department 'mz': uscc: "
        "'11450200007638904X' is not a valid unified social credit code",
    ),
    (
        "no coordinator department",
        edit_department("fgw", setting("coordinator", False)),
        "catalog_yaml/departments.yaml: no department is marked 'coordinator: true' "
        "(the 发改委 gets copies of alerts)",
    ),
    (
        "red list without list spec",
        edit_dataset("contract_honouring_enterprise", without("list")),
        "catalog_yaml/datasets/contract_honouring_enterprise.yaml: dataset 'contract_honouring_enterprise': "
        "a red_list dataset needs 'list' with its entry and exit date fields",
    ),
    (
        "list spec on a dataset that is not a list",
        edit_dataset(
            "licensed_physician",
            setting("list", {"name": "医师名单", "entry_date_field": "registration_date",
                             "exit_date_field": "registration_date"}),
        ),
        "catalog_yaml/datasets/licensed_physician.yaml: dataset 'licensed_physician': "
        "'list' only applies to red_list and black_list datasets, not other",
    ),
    (
        "list entry field that is not a date",
        edit_dataset("tax_credit_grade_a", lambda d: d["list"].update(entry_date_field="list_year")),
        "catalog_yaml/datasets/tax_credit_grade_a.yaml: dataset 'tax_credit_grade_a': field 'list_year': "
        "list.entry_date_field must name a date field; 'list_year' is of type integer",
    ),
    (
        "type_when on a field that is not a code",
        edit_field("road_transport_practitioner", "person_name",
                   setting("type_when", {"field": "id_type", "equals": "身份证"})),
        "catalog_yaml/datasets/road_transport_practitioner.yaml: dataset 'road_transport_practitioner': "
        "field 'person_name': 'type_when' only applies to code types (uscc, orgcode, regno, idcard)",
    ),
]


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    root = tmp_path / "catalog_yaml"
    shutil.copytree(DEFAULT_CATALOG_DIR, root)
    return root


def test_shipped_catalog_passes(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = run_check(DEFAULT_CATALOG_DIR, capsys)
    assert code == 0, "\n".join(lines)
    summary = re.fullmatch(
        r"catalog ok: (\d+) departments, (\d+) datasets, (\d+) sources, (\d+) key domains covered", lines[-1]
    )
    assert summary, lines
    departments, datasets, sources, domains = map(int, summary.groups())
    assert departments >= 12
    assert datasets >= 12
    assert sources >= datasets
    assert domains >= 12


def test_unchanged_copy_passes(catalog_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The helpers' round trip through yaml.safe_dump changes nothing that matters."""
    for path in catalog_copy.glob("datasets/*.yaml"):
        edit_yaml(path, lambda data: None)
    code, lines = run_check(catalog_copy, capsys)
    assert code == 0, "\n".join(lines)


@pytest.mark.parametrize(("breakage", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_catalog_is_reported(
    catalog_copy: Path, capsys: pytest.CaptureFixture[str], breakage: Breakage, expected: str
) -> None:
    breakage(catalog_copy)
    code, lines = run_check(catalog_copy, capsys)
    assert code == 1
    assert expected in lines, "\n".join(lines)
    assert re.fullmatch(r"catalog invalid: \d+ problem\(s\)", lines[-1])


def test_every_problem_is_reported_in_one_run(catalog_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An author fixes everything in one pass: three breakages in three files, three problems listed."""
    edit_dataset("admin_licensing", setting("owner", "xzsp"))(catalog_copy)
    edit_dataset("social_organization", without("sla"))(catalog_copy)
    edit_department("mz", setting("uscc", "11450200007638904X"))(catalog_copy)
    code, lines = run_check(catalog_copy, capsys)
    assert code == 1
    assert lines[-1] == "catalog invalid: 3 problem(s)"
    assert {line.split(":")[0] for line in lines[:-1]} == {
        "catalog_yaml/datasets/admin_licensing.yaml",
        "catalog_yaml/datasets/social_organization.yaml",
        "catalog_yaml/departments.yaml",
    }


def test_missing_directory_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["catalog", "check", str(tmp_path / "nowhere")])
    captured = capsys.readouterr()
    assert code == 1
    assert f"{tmp_path / 'nowhere'}: catalog directory does not exist" in captured.out
    assert "Traceback" not in captured.out + captured.err
