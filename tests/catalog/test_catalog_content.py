"""What the shipped catalog must contain (project issue 2): datasets, domains, 双公示 fields, SLAs."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict

import pytest
from stdnum.cn import uscc as stdnum_uscc

from etl.catalog import DEFAULT_CATALOG_DIR, KEY_DOMAINS, CompareRule, Dataset, RequireRule, load_catalog
from etl.codes import orgcode, uscc

CATALOG = load_catalog(DEFAULT_CATALOG_DIR)
DATASETS = list(CATALOG.datasets.values())

# The national 双公示 column codes (reference: credit-data.md, 2019+ field lists). Every one must be
# a header of the licensing or penalty dataset, so a department's national template loads unchanged.
LICENSING_CODES = {
    "XK_XDR_MC", "XK_XDR_LB", "XK_XDR_SHXYM", "XK_XDR_GSZC", "XK_XDR_ZZJG", "XK_XDR_SWDJ", "XK_XDR_SYDW",
    "XK_XDR_SHZZ", "XK_FRDB", "XK_FR_ZJLX", "XK_FR_ZJHM", "XK_XDR_ZJLX", "XK_XDR_ZJHM", "XK_XKWS",
    "XK_WSH", "XK_XKLB", "XK_XKZS", "XK_XKBH", "XK_NR", "XK_JDRQ", "XK_YXQZ", "XK_YXQZI", "XK_XKJG",
    "XK_XKJGDM", "XK_ZT", "XK_LYDW", "XK_LYDWDM", "BZ",
}  # fmt: skip
PENALTY_CODES = {
    "CF_XDR_MC", "CF_XDR_LB", "CF_XDR_SHXYM", "CF_XDR_GSZC", "CF_XDR_ZZJG", "CF_XDR_SWDJ", "CF_XDR_SYDW",
    "CF_XDR_SHZZ", "CF_FRDB", "CF_FR_ZJLX", "CF_FR_ZJHM", "CF_XDR_ZJLX", "CF_XDR_ZJHM", "CF_WSH",
    "CF_WFXW", "CF_SY", "CF_YJ", "CF_CFLB", "CF_NR", "CF_NR_FK", "CF_NR_WFFF", "CF_NR_ZKDX", "CF_JDRQ",
    "CF_YXQ", "CF_GSJZQ", "CF_CFJG", "CF_CFJGDM", "CF_SJLY", "CF_SJLYDM", "BZ",
}  # fmt: skip
SIX_IDENTIFIERS = ("uscc", "regno", "orgcode", "tax_reg_no", "institution_cert_no", "social_org_reg_no")

# (id, category, domain, departments that must deliver it, subject types it must cover)
REQUIRED_DATASETS = [
    ("legal_entity_basic", "basic", "工商", {"scjg"}, {"法人及非法人组织"}),
    ("admin_licensing", "licensing", "工商", {"xzsp", "scjg", "zj", "jt", "sthj"},
     {"法人及非法人组织", "自然人", "个体工商户"}),
    ("admin_penalty", "penalty", "工商", {"scjg"}, {"法人及非法人组织", "自然人", "个体工商户"}),
    ("dishonest_judgment_debtor", "black_list", "法院", {"court"}, {"法人及非法人组织", "自然人"}),
    ("major_tax_violation", "black_list", "纳税", {"tax"}, {"法人及非法人组织"}),
    ("tax_credit_grade_a", "red_list", "纳税", {"tax"}, {"法人及非法人组织"}),
    ("contract_honouring_enterprise", "red_list", "工商", {"scjg"}, {"法人及非法人组织"}),
    ("safety_production_dishonest", "black_list", "安全生产", {"yjgl"}, {"法人及非法人组织"}),
    ("wage_arrears_dishonest", "black_list", "社会保障", {"rs"}, {"法人及非法人组织"}),
    ("social_organization", "basic", "工商", {"mz"}, {"法人及非法人组织"}),
    ("public_institution", "basic", "工商", {"bb"}, {"法人及非法人组织"}),
    ("road_transport_practitioner", "other", "交通运输", {"jt"}, {"自然人"}),
    ("licensed_physician", "other", "医疗卫生", {"wjw"}, {"自然人"}),
    ("basic_deposit_account", "other", "金融", {"pbc"}, {"法人及非法人组织"}),
    ("construction_enterprise_qualification", "other", "工程建设", {"zj"}, {"法人及非法人组织"}),
    ("enterprise_environmental_credit", "other", "环境保护", {"sthj"}, {"法人及非法人组织"}),
]  # fmt: skip


def by_id(value: object) -> str | None:
    """Test ids for parametrized datasets: the dataset id."""
    return value.id if isinstance(value, Dataset) else None


def normalised_header(header: str) -> str:
    """How a reader is expected to compare headers: full-width folded, spaces dropped, case-blind."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", header)).casefold()


@pytest.mark.parametrize(("dataset_id", "category", "domain", "departments", "subjects"), REQUIRED_DATASETS,
                         ids=[r[0] for r in REQUIRED_DATASETS])
def test_required_dataset_is_present(
    dataset_id: str, category: str, domain: str, departments: set[str], subjects: set[str]
) -> None:
    dataset = CATALOG.dataset(dataset_id)
    assert dataset.category == category
    assert dataset.domain == domain
    assert departments <= set(dataset.departments)
    assert subjects <= set(dataset.subject_types)


def test_size_and_domain_coverage() -> None:
    assert len(CATALOG.datasets) >= 12
    assert len(CATALOG.departments) >= 12
    own_domains = {d.domain for d in DATASETS}
    assert len(own_domains) >= 12, sorted(own_domains)
    assert own_domains <= set(KEY_DOMAINS)


def test_every_department_but_the_coordinator_delivers_something() -> None:
    delivering = {s.department for d in DATASETS for s in d.sources}
    providers = {d.id for d in CATALOG.departments.values() if not d.coordinator}
    assert providers <= delivering, sorted(providers - delivering)


def test_department_usccs_are_city_bodies_with_valid_embedded_orgcodes() -> None:
    for department in CATALOG.departments.values():
        code = department.uscc
        assert uscc.is_valid(code), department.id
        assert stdnum_uscc.is_valid(code), department.id  # an independent oracle
        assert code[:2] == "11" and code[2:8] == "450200", department.id
        assert orgcode.is_valid(code[8:17]), department.id
    assert len({d.uscc for d in CATALOG.departments.values()}) == len(CATALOG.departments)


def test_delivery_methods_are_a_realistic_mix() -> None:
    methods = Counter(s.method for d in DATASETS for s in d.sources)
    assert methods["landing"] > methods["sftp"] + methods["database"]
    assert methods["sftp"] >= 3
    assert methods["database"] >= 3
    database_departments = {s.department for d in DATASETS for s in d.sources if s.method == "database"}
    assert {"court", "tax"} <= database_departments


def test_database_sources_use_updated_at_as_watermark() -> None:
    for dataset in DATASETS:
        for source in dataset.sources:
            if source.method == "database":
                assert source.watermark == "updated_at", dataset.id
                assert "updated_at" in dataset.field_names, dataset.id


SHUANGGONGSHI = [d for d in DATASETS if d.category in ("licensing", "penalty")]


@pytest.mark.parametrize("dataset", SHUANGGONGSHI, ids=by_id)
def test_shuanggongshi_datasets_publish_within_seven_working_days(dataset: Dataset) -> None:
    publication = dataset.sla.publication
    assert publication is not None
    assert publication.working_days == 7
    assert publication.from_field == "decision_date"
    assert dataset.field("decision_date").required


@pytest.mark.parametrize("dataset", DATASETS, ids=by_id)
def test_every_dataset_has_the_update_sla(dataset: Dataset) -> None:
    assert dataset.sla.twice_monthly
    assert dataset.sla.within_working_days_of_change == 5


@pytest.mark.parametrize(("dataset_id", "prefix", "codes"), [("admin_licensing", "XK_", LICENSING_CODES),
                                                             ("admin_penalty", "CF_", PENALTY_CODES)])
def test_national_shuanggongshi_codes_are_headers(dataset_id: str, prefix: str, codes: set[str]) -> None:
    dataset = CATALOG.dataset(dataset_id)
    declared = {f.code for f in dataset.fields if f.code}
    assert codes <= declared, sorted(codes - declared)
    assert all(code.startswith(prefix) or code == "BZ" for code in declared)


def test_licensing_follows_the_national_field_rules() -> None:
    dataset = CATALOG.dataset("admin_licensing")
    required = {f.name for f in dataset.fields if f.required}
    assert {"subject_name", "subject_category", "decision_doc_name", "decision_no", "licence_category",
            "content", "decision_date", "valid_from", "valid_to", "authority", "authority_uscc",
            "source_unit", "source_unit_uscc"} <= required
    assert dataset.field("authority_uscc").type == "uscc"
    assert dataset.field("licence_category").allowed == ("普通", "特许", "认可", "核准", "登记")
    assert dataset.field("licence_category").allowed_prefixes == ("其他-",)
    compares = [r for r in dataset.rules if isinstance(r, CompareRule)]
    assert any((r.left, r.op, r.right) == ("valid_from", "<=", "valid_to") for r in compares)
    (group,) = dataset.one_of
    assert set(group.fields) == set(SIX_IDENTIFIERS)


@pytest.mark.parametrize("dataset", DATASETS, ids=by_id)
def test_headers_are_unique_within_a_dataset(dataset: Dataset) -> None:
    headers = Counter(normalised_header(h) for f in dataset.fields for h in set(f.headers))
    assert [h for h, n in headers.items() if n > 1] == []


LISTS = [d for d in DATASETS if d.category in ("red_list", "black_list")]


@pytest.mark.parametrize("dataset", LISTS, ids=by_id)
def test_lists_date_their_entry_and_exit(dataset: Dataset) -> None:
    assert dataset.list_spec is not None
    entry = dataset.field(dataset.list_spec.entry_date_field)
    exit_ = dataset.field(dataset.list_spec.exit_date_field)
    assert entry.type == exit_.type == "date"
    assert entry.required and not exit_.required  # a subject still on the list has no exit date
    compares = {(r.left, r.op, r.right) for r in dataset.rules if isinstance(r, CompareRule)}
    assert (entry.name, "<=", exit_.name) in compares


def test_there_are_red_and_black_lists() -> None:
    categories = Counter(d.category for d in DATASETS)
    assert categories["red_list"] >= 2
    assert categories["black_list"] >= 3


@pytest.mark.parametrize("dataset", DATASETS, ids=by_id)
def test_organisation_subjects_carry_an_identifier(dataset: Dataset) -> None:
    if not {"法人及非法人组织", "个体工商户"} & set(dataset.subject_types):
        return
    names = set(dataset.field_names)
    identifiers = names & set(SIX_IDENTIFIERS)
    assert identifiers
    required = {n for n in identifiers if dataset.field(n).required}
    assert required or any(set(g.fields) <= identifiers for g in dataset.one_of)


WITH_USCC_AND_REGNO = [d for d in DATASETS if {"uscc", "regno"} <= set(d.field_names)]


@pytest.mark.parametrize("dataset", WITH_USCC_AND_REGNO, ids=by_id)
def test_placeholder_uscc_requires_a_registration_number(dataset: Dataset) -> None:
    assert any(
        isinstance(r, RequireRule) and r.when.field == "uscc" and r.when.equals == uscc.PLACEHOLDER
        and "regno" in r.require
        for r in dataset.rules
    )


@pytest.mark.parametrize("dataset", [d for d in DATASETS if "自然人" in d.subject_types], ids=by_id)
def test_natural_persons_need_an_identity_number(dataset: Dataset) -> None:
    id_fields = [f for f in dataset.fields if f.name == "id_no"]
    assert id_fields and id_fields[0].type == "idcard" and id_fields[0].is_personal
    if dataset.subject_types == ("自然人",):
        assert id_fields[0].required
    else:
        assert any(
            isinstance(r, RequireRule) and r.when.field == "subject_category" and r.when.equals == "自然人"
            and "id_no" in r.require
            for r in dataset.rules
        )


@pytest.mark.parametrize("dataset", DATASETS, ids=by_id)
def test_person_heavy_datasets_are_not_fully_public(dataset: Dataset) -> None:
    person_only = dataset.subject_types == ("自然人",)
    required_personal = any(f.required and f.is_personal for f in dataset.fields)
    person_black_list = dataset.category == "black_list" and "自然人" in dataset.subject_types
    if person_only or required_personal or person_black_list:
        assert dataset.openness != "公开"


def test_a_canonical_name_has_one_type_everywhere() -> None:
    types: dict[str, set[str]] = defaultdict(set)
    for dataset in DATASETS:
        for f in dataset.fields:
            types[f.name].add(f.type)
    assert {name: t for name, t in types.items() if len(t) > 1} == {}


def test_every_field_name_is_in_the_readme_vocabulary() -> None:
    readme = (DEFAULT_CATALOG_DIR / "README.md").read_text(encoding="utf-8")
    vocabulary_section = readme.split("## Field vocabulary", 1)[1].split("\n## ", 1)[0]
    documented = {
        name
        for line in vocabulary_section.splitlines()
        if line.startswith("| `")
        for name in re.findall(r"`([a-z0-9_]+)`", line.split("|")[1])
    }
    used = {f.name for d in DATASETS for f in d.fields}
    assert used - documented == set()
    assert documented - used == set()  # no stale entries either


def test_readme_lists_every_dataset() -> None:
    readme = (DEFAULT_CATALOG_DIR / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z0-9_]+)` \|", readme.split("## Datasets", 1)[1].split("\n## ", 1)[0],
                            flags=re.MULTILINE))
    assert listed == set(CATALOG.datasets)
