"""The public credit information catalog (公共信用信息目录).

The catalog is the single description of what the platform collects: which departments deliver,
which datasets, how (landing zone, SFTP, database), with which fields and rules, into which table,
and under which freshness SLA. Everything downstream — readers, GX suites, warehouse DDL, DAGs,
freshness, reports — is derived from it, so a department's real template is followed by editing
YAML, not code.

Layout of a catalog directory::

    departments.yaml         the providing departments and where their alerts go
    calendar.yaml            working-day overrides for years chinesecalendar does not know
    fieldsets/NAME.yaml      field lists shared by several datasets (e.g. the 双公示 party columns)
    datasets/ID.yaml         one dataset per file; the file name is the dataset id

``load_catalog`` checks structure (unknown keys, types) with pydantic and meaning (references,
identifiers, regexes) with the checks below, and raises ``CatalogError`` listing every problem with
the file, dataset and field it concerns.

>>> catalog = load_catalog(DEFAULT_CATALOG_DIR)
>>> catalog.datasets["admin_penalty"].title
'行政处罚信息'
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from etl.errors import CatalogError

DEFAULT_CATALOG_DIR = Path(__file__).resolve().parent.parent / "catalog_yaml"

# The 20 key domains of the city plan (重点领域); a dataset's domain must be one of them.
KEY_DOMAINS = (
    "工商", "纳税", "价格", "金融", "安全生产", "食品药品", "产品质量", "流通服务", "工程建设", "政府采购",
    "招标投标", "交通运输", "电子商务", "医疗卫生", "社会保障", "环境保护", "知识产权", "法院", "检察院",
    "公共安全",
)  # fmt: skip

# Catalog names become table and column names: lower-case ASCII, no quoting ever needed.
SQL_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Airflow connection ids and national column codes are plain tokens too.
CONN_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,249}$")
CRON = re.compile(r"^(@(hourly|daily|weekly|monthly)|(\S+\s+){4}\S+)$")

# The C implementation of the safe loader where libyaml is present: DAG files parse the catalog.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

FieldType = Literal["string", "date", "decimal", "integer", "uscc", "orgcode", "regno", "idcard"]
CODE_TYPES = ("uscc", "orgcode", "regno", "idcard")
SubjectType = Literal["法人及非法人组织", "自然人", "个体工商户"]
Category = Literal["basic", "licensing", "penalty", "red_list", "black_list", "other"]
Openness = Literal["公开", "有条件共享", "不予公开"]
Method = Literal["landing", "sftp", "database"]
FileFormat = Literal["csv", "xlsx", "json", "parquet"]

# Polling defaults: files several times a working day, database pulls daily over their interval.
DEFAULT_SCHEDULES: Mapping[str, str] = {
    "landing": "0 9,12,15,18 * * 1-6",
    "sftp": "30 9,12,15,18 * * 1-6",
    "database": "0 2 * * *",
}


class _Strict(BaseModel):
    """Unknown keys are errors, so a typo in YAML never silently drops a rule."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _sql_identifier(value: str) -> str:
    if not SQL_IDENTIFIER.match(value):
        raise ValueError(f"{value!r} is not a safe SQL identifier (want {SQL_IDENTIFIER.pattern})")
    return value


def _conn_id_token(value: str | None) -> str | None:
    if value is not None and not CONN_ID.match(value):
        raise ValueError(f"{value!r} is not a valid Airflow connection id")
    return value


class Condition(_Strict):
    """When a rule applies: a field equals a value, is one of several, or contains a value."""

    field: str
    equals: str | None = None
    in_: tuple[str, ...] | None = Field(default=None, alias="in")
    contains: str | None = None

    @model_validator(mode="after")
    def _exactly_one_test(self) -> Condition:
        tests = [t for t in (self.equals, self.in_, self.contains) if t is not None]
        if len(tests) != 1:
            raise ValueError("a condition needs exactly one of 'equals', 'in', 'contains'")
        return self


class CatalogField(_Strict):
    """One column of a dataset: its canonical name, the headers departments use, and its checks."""

    name: str
    title: str = Field(min_length=1)
    code: str | None = None
    aliases: tuple[str, ...] = ()
    type: FieldType = "string"
    required: bool = False
    max_length: int | None = Field(default=None, gt=0)
    allowed: tuple[str, ...] | None = None
    allowed_prefixes: tuple[str, ...] = ()
    separator: str | None = None
    pattern: str | None = None
    unit: str | None = None
    type_when: Condition | None = None
    personal: bool = False
    description: str = ""

    _check_name = field_validator("name")(_sql_identifier)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _value_rules_fit_type(self) -> CatalogField:
        if (self.allowed or self.allowed_prefixes or self.separator) and self.type != "string":
            raise ValueError(f"'allowed' values only apply to string fields, not {self.type}")
        if self.separator and not self.allowed:
            raise ValueError("'separator' splits a multi-valued field for 'allowed'; give 'allowed' too")
        if self.unit and self.type != "decimal":
            raise ValueError("'unit' only applies to decimal fields")
        if self.type_when is not None and self.type not in CODE_TYPES:
            raise ValueError("'type_when' only applies to code types (uscc, orgcode, regno, idcard)")
        return self

    @property
    def headers(self) -> tuple[str, ...]:
        """Every header this field is recognised by: title, national code, aliases, canonical name.

        The canonical name comes last: database views and re-exports of our own data use it.
        """
        return (self.title, *((self.code,) if self.code else ()), *self.aliases, self.name)

    @property
    def is_code(self) -> bool:
        return self.type in CODE_TYPES

    @property
    def is_personal(self) -> bool:
        """Personal data is masked in reports, alerts and exports (identity numbers always are)."""
        return self.personal or self.type == "idcard"


class OneOfGroup(_Strict):
    """At least one of these fields must be filled (e.g. the six identifier columns)."""

    id: str
    fields: tuple[str, ...] = Field(min_length=2)
    when: Condition | None = None
    message: str = Field(min_length=1)


class RequireRule(_Strict):
    """If ``when`` holds, every field in ``require`` must be filled."""

    kind: Literal["require"]
    id: str
    when: Condition
    require: tuple[str, ...] = Field(min_length=1)
    message: str = Field(min_length=1)


class CompareRule(_Strict):
    """``left op right`` must hold where both are filled (e.g. 有效期自 <= 有效期至)."""

    kind: Literal["compare"]
    id: str
    left: str
    op: Literal["<", "<=", ">", ">="]
    right: str
    message: str = Field(min_length=1)


Rule = Annotated[RequireRule | CompareRule, Field(discriminator="kind")]


class ListSpec(_Strict):
    """For red and black lists: the list's name and the fields that date entry and exit."""

    name: str = Field(min_length=1)
    entry_date_field: str
    exit_date_field: str


class PublicationSla(_Strict):
    """双公示: each record must be public within N working days of a date in the record."""

    working_days: int = Field(gt=0)
    from_field: str


class Sla(_Strict):
    """Freshness rules evaluated from the ledger (see etl/freshness.py)."""

    twice_monthly: bool = True
    within_working_days_of_change: int | None = Field(default=None, gt=0)
    publication: PublicationSla | None = None
    due_soon_working_days: int = Field(default=1, ge=0)

    @model_validator(mode="after")
    def _says_something(self) -> Sla:
        if not self.twice_monthly and self.within_working_days_of_change is None:
            raise ValueError("an SLA needs 'twice_monthly: true' or 'within_working_days_of_change'")
        return self


class Source(_Strict):
    """One way one department delivers one dataset."""

    department: str
    method: Method
    domain: str | None = None
    formats: tuple[FileFormat, ...] | None = None
    schedule: str | None = None
    # landing zone: a directory under the landing root; default <department>/<dataset>
    directory: str | None = None
    complete_marker: Literal[".ok", ".done"] | None = None
    # sftp
    conn_id: str | None = None
    remote_path: str | None = None
    archive_path: str | None = None
    # database
    table: str | None = None
    query: str | None = None
    watermark: str | None = None

    _check_conn_id = field_validator("conn_id")(_conn_id_token)

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None and not CRON.match(value):
            raise ValueError(f"{value!r} is not a cron expression or preset")
        return value

    @field_validator("directory", "remote_path", "archive_path")
    @classmethod
    def _no_traversal(cls, value: str | None) -> str | None:
        if value is not None and ".." in Path(value).parts:
            raise ValueError(f"{value!r} must not contain '..'")
        return value

    @model_validator(mode="after")
    def _location_fits_method(self) -> Source:
        needs: dict[str, tuple[str, ...]] = {
            "landing": (),
            "sftp": ("conn_id", "remote_path"),
            "database": ("conn_id", "watermark"),
        }
        missing = [key for key in needs[self.method] if getattr(self, key) is None]
        if missing:
            raise ValueError(f"a {self.method} source needs {', '.join(missing)}")
        if self.method == "database" and (self.table is None) == (self.query is None):
            raise ValueError("a database source needs exactly one of 'table' and 'query'")
        if self.method != "database" and (self.table or self.query or self.watermark):
            raise ValueError("'table', 'query' and 'watermark' belong to database sources only")
        if self.table is not None:
            _sql_table_name(self.table)
        if self.watermark is not None:
            _sql_identifier(self.watermark)
        return self

    @property
    def cron(self) -> str:
        return self.schedule or DEFAULT_SCHEDULES[self.method]


def _sql_table_name(value: str) -> str:
    """A source table may be schema-qualified: each part must be a safe identifier."""
    for part in value.split("."):
        _sql_identifier(part)
    return value


class Dataset(_Strict):
    """One dataset of the catalog (one file in ``datasets/``)."""

    id: str
    title: str = Field(min_length=1)
    description: str = ""
    departments: tuple[str, ...] = Field(min_length=1)
    domain: str
    subject_types: tuple[SubjectType, ...] = Field(min_length=1)
    category: Category
    formats: tuple[FileFormat, ...] = Field(min_length=1)
    sources: tuple[Source, ...] = Field(min_length=1)
    fields: tuple[CatalogField, ...] = Field(min_length=1)
    one_of: tuple[OneOfGroup, ...] = ()
    rules: tuple[Rule, ...] = ()
    dedup_key: tuple[str, ...] = Field(min_length=1)
    openness: Openness
    table: str
    list_spec: ListSpec | None = Field(default=None, alias="list")
    sla: Sla

    _check_id = field_validator("id", "table")(_sql_identifier)

    @field_validator("domain")
    @classmethod
    def _key_domain(cls, value: str) -> str:
        if value not in KEY_DOMAINS:
            raise ValueError(f"{value!r} is not one of the 20 key domains: {'、'.join(KEY_DOMAINS)}")
        return value

    def field(self, name: str) -> CatalogField:
        return self._fields_by_name()[name]

    def _fields_by_name(self) -> dict[str, CatalogField]:
        return {f.name: f for f in self.fields}

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def source_id(self, source: Source) -> str:
        """Stable id of a source: ``<dataset>__<department>__<method>``."""
        return f"{self.id}__{source.department}__{source.method}"

    def landing_directory(self, source: Source) -> str:
        return source.directory or f"{source.department}/{self.id}"

    def source_formats(self, source: Source) -> tuple[str, ...]:
        return source.formats or self.formats


class Alerts(_Strict):
    """Where a department's freshness alerts go; secrets stay in the Airflow connection."""

    emails: tuple[str, ...] = ()
    dingtalk_conn_id: str | None = None
    webhook_conn_id: str | None = None

    @field_validator("emails")
    @classmethod
    def _emails(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", value):
                raise ValueError(f"{value!r} is not a mail address")
        return values

    _check_conn_ids = field_validator("dingtalk_conn_id", "webhook_conn_id")(_conn_id_token)


class Department(_Strict):
    id: str
    name: str = Field(min_length=1)
    short_name: str = Field(min_length=1)
    uscc: str
    division: str = "450200"
    coordinator: bool = False
    alerts: Alerts = Alerts()

    _check_id = field_validator("id")(_sql_identifier)

    @field_validator("uscc")
    @classmethod
    def _valid_uscc(cls, value: str) -> str:
        from etl.codes import uscc

        if not uscc.is_valid(value):
            raise ValueError(f"{value!r} is not a valid unified social credit code")
        return value


class YearOverride(_Strict):
    """A year's official arrangement, copied by an operator from the State Council notice."""

    holidays: tuple[dt.date, ...] = ()
    workdays: tuple[dt.date, ...] = ()
    note: str = ""


class CalendarOverrides(_Strict):
    """Operator-supplied years. A notice may reach into the neighbouring year (the 2018 notice gave
    2018-12-29 as a make-up day and 2019-01-01 off), so a year's entry may list days of the year
    before or after; each listed day must say something a Monday-Friday week does not already."""

    years: dict[int, YearOverride] = {}

    @model_validator(mode="after")
    def _dates_consistent(self) -> CalendarOverrides:
        problems: list[str] = []
        said: dict[dt.date, tuple[bool, int]] = {}  # day -> (working, the year whose entry said so)
        for year, override in sorted(self.years.items()):
            for working, days in ((False, override.holidays), (True, override.workdays)):
                for day in days:
                    problems.extend(_override_day_problems(year, day, working, said.get(day)))
                    said[day] = (working, year)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def explicit_days(self) -> dict[dt.date, tuple[bool, int]]:
        """Every listed day: whether it is a working day, and the year whose entry lists it."""
        return {
            day: (working, year)
            for year, override in self.years.items()
            for working, days in ((False, override.holidays), (True, override.workdays))
            for day in days
        }


def _override_day_problems(
    year: int, day: dt.date, working: bool, earlier: tuple[bool, int] | None
) -> list[str]:
    """What is wrong with ``day`` listed as a holiday (``working`` False) or workday under ``year``."""
    kind = "workdays" if working else "holidays"
    problems = []
    if abs(day.year - year) > 1:
        problems.append(f"{day} is listed under year {year}")
    if working and day.weekday() < 5:
        problems.append(f"{day} is a {day:%A}: 'workdays' lists weekend make-up days only")
    if not working and day.weekday() >= 5:
        problems.append(f"{day} is a {day:%A}: 'holidays' lists Monday-Friday days off only")
    if earlier is not None and earlier[0] != working:
        other = "workdays" if earlier[0] else "holidays"
        problems.append(f"{day} is in {other} of {earlier[1]} and in {kind} of {year}")
    return problems


@dataclass(frozen=True)
class SourceRef:
    """A (dataset, source) pair with its stable id: what a DAG or a fetch works on."""

    id: str
    dataset: Dataset
    source: Source


@dataclass(frozen=True)
class Catalog:
    root: Path
    departments: Mapping[str, Department]
    datasets: Mapping[str, Dataset]
    calendar: CalendarOverrides

    def sources(self) -> Iterator[SourceRef]:
        for dataset in self.datasets.values():
            for source in dataset.sources:
                yield SourceRef(dataset.source_id(source), dataset, source)

    def source(self, source_id: str) -> SourceRef:
        for ref in self.sources():
            if ref.id == source_id:
                return ref
        raise CatalogError([f"unknown source {source_id!r}; `credit-etl catalog sources` lists them"])

    def dataset(self, dataset_id: str) -> Dataset:
        try:
            return self.datasets[dataset_id]
        except KeyError:
            known = ", ".join(sorted(self.datasets))
            raise CatalogError([f"unknown dataset {dataset_id!r}; known: {known}"]) from None

    def domain_of(self, ref: SourceRef) -> str:
        return ref.source.domain or ref.dataset.domain


# ---------------------------------------------------------------------------------------------------
# Loading


class _Problems:
    """Collects problems so that one run of `catalog check` reports all of them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.items: list[str] = []

    def add(self, path: Path, message: str, dataset: str | None = None, field: str | None = None) -> None:
        where = [str(_relative(path, self.root))]
        if dataset:
            where.append(f"dataset '{dataset}'")
        if field:
            where.append(f"field '{field}'")
        self.items.append(f"{': '.join(where)}: {message}")


def _relative(path: Path, root: Path) -> Path:
    try:
        return path.relative_to(root.parent)
    except ValueError:
        return path


def _read_yaml(path: Path, problems: _Problems) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=SAFE_LOADER)
    except FileNotFoundError:
        problems.add(path, "file is missing")
    except UnicodeDecodeError:
        problems.add(path, "file is not UTF-8 text")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        problems.add(path, f"YAML syntax error{line}: {getattr(exc, 'problem', exc)}")
    return None


def _describe_pydantic(exc: ValidationError, raw: Any) -> Iterator[tuple[str | None, str]]:
    """Turns pydantic's locations into (field name, message) a catalog author understands."""
    for error in exc.errors():
        loc = list(error["loc"])
        field_name = None
        if len(loc) >= 2 and loc[0] == "fields" and isinstance(loc[1], int):
            try:
                field_name = raw["fields"][loc[1]].get("name")
            except (KeyError, IndexError, TypeError, AttributeError):
                field_name = None
            field_name = field_name or f"#{loc[1] + 1}"
            loc = loc[2:]
        path = ".".join(str(p) for p in loc if not str(p).startswith(("function-", "tagged-union")))
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = f"unknown key '{loc[-1]}'"
            path = ".".join(str(p) for p in loc[:-1])
        elif error["type"] == "missing":
            message = f"missing required key '{loc[-1]}'"
            path = ".".join(str(p) for p in loc[:-1])
        yield field_name, f"{path}: {message}" if path else message


def _expand_fieldsets(raw: dict[str, Any], fieldsets: Mapping[str, list[Any]]) -> list[str]:
    """Replaces ``{fieldset: NAME, code_prefix: P}`` entries by the named shared fields."""
    errors: list[str] = []
    fields = raw.get("fields")
    if not isinstance(fields, list):
        return errors
    expanded: list[Any] = []
    for entry in fields:
        if isinstance(entry, dict) and "fieldset" in entry:
            name = entry["fieldset"]
            extra = set(entry) - {"fieldset", "code_prefix"}
            if extra:
                errors.append(f"fieldset '{name}': unknown key(s) {', '.join(sorted(extra))}")
            if name not in fieldsets:
                errors.append(f"unknown fieldset '{name}' (known: {', '.join(sorted(fieldsets))})")
                continue
            prefix = entry.get("code_prefix", "")
            for shared in fieldsets[name]:
                item = dict(shared)
                if prefix and item.get("code"):
                    item["code"] = f"{prefix}{item['code']}"
                expanded.append(item)
        else:
            expanded.append(entry)
    raw["fields"] = expanded
    return errors


def load_catalog(root: Path | str = DEFAULT_CATALOG_DIR) -> Catalog:
    """Loads and checks a catalog directory; raises ``CatalogError`` listing every problem."""
    root = Path(root)
    problems = _Problems(root)
    if not root.is_dir():
        raise CatalogError([f"{root}: catalog directory does not exist"])

    departments = _load_departments(root / "departments.yaml", problems)
    calendar = _load_calendar(root / "calendar.yaml", problems)
    fieldsets = _load_fieldsets(root / "fieldsets", problems)
    datasets = _load_datasets(root / "datasets", fieldsets, problems)
    for path, dataset in datasets:
        _check_dataset(path, dataset, departments, problems)
    _check_unique_ids([(p, d.id, d.id) for p, d in datasets], "dataset id", problems)
    _check_unique_ids([(p, d.id, d.table) for p, d in datasets], "table", problems)

    if problems.items:
        raise CatalogError(problems.items)
    return Catalog(
        root=root,
        departments=departments,
        datasets={d.id: d for _, d in sorted(datasets, key=lambda pd: pd[1].id)},
        calendar=calendar or CalendarOverrides(),
    )


def _load_departments(path: Path, problems: _Problems) -> dict[str, Department]:
    raw = _read_yaml(path, problems)
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not isinstance(raw.get("departments"), list):
        problems.add(path, "expected a mapping with a list under 'departments'")
        return {}
    departments: dict[str, Department] = {}
    for index, item in enumerate(raw["departments"]):
        label = item.get("id") if isinstance(item, dict) else None
        try:
            department = Department.model_validate(item)
        except ValidationError as exc:
            for _, message in _describe_pydantic(exc, item):
                problems.add(path, f"department '{label or f'#{index + 1}'}': {message}")
            continue
        if department.id in departments:
            problems.add(path, f"department '{department.id}': duplicate id")
        departments[department.id] = department
    if not any(d.coordinator for d in departments.values()):
        problems.add(path, "no department is marked 'coordinator: true' (the 发改委 gets copies of alerts)")
    return departments


def _load_calendar(path: Path, problems: _Problems) -> CalendarOverrides | None:
    if not path.exists():
        return None
    raw = _read_yaml(path, problems)
    try:
        return CalendarOverrides.model_validate(raw or {})
    except ValidationError as exc:
        for _, message in _describe_pydantic(exc, raw):
            problems.add(path, message)
    return None


def _load_fieldsets(folder: Path, problems: _Problems) -> dict[str, list[Any]]:
    fieldsets: dict[str, list[Any]] = {}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        raw = _read_yaml(path, problems)
        if not isinstance(raw, dict) or not isinstance(raw.get("fields"), list):
            problems.add(path, "expected a mapping with a list under 'fields'")
            continue
        fieldsets[path.stem] = raw["fields"]
    return fieldsets


def _load_datasets(
    folder: Path, fieldsets: Mapping[str, list[Any]], problems: _Problems
) -> list[tuple[Path, Dataset]]:
    datasets: list[tuple[Path, Dataset]] = []
    paths = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    if not paths:
        problems.add(folder, "no dataset files (datasets/*.yaml)")
    for path in paths:
        raw = _read_yaml(path, problems)
        if raw is None:
            continue
        if not isinstance(raw, dict):
            problems.add(path, "expected a mapping at the top level")
            continue
        label = str(raw.get("id") or path.stem)
        for message in _expand_fieldsets(raw, fieldsets):
            problems.add(path, message, dataset=label)
        try:
            dataset = Dataset.model_validate(raw)
        except ValidationError as exc:
            for field_name, message in _describe_pydantic(exc, raw):
                problems.add(path, message, dataset=label, field=field_name)
            continue
        if dataset.id != path.stem:
            problems.add(path, f"id '{dataset.id}' differs from the file name '{path.stem}'", dataset=label)
        datasets.append((path, dataset))
    return datasets


def _check_unique_ids(items: list[tuple[Path, str, str]], what: str, problems: _Problems) -> None:
    """``items`` are (file, dataset id, value): each file sharing a value with another is named."""
    counts = Counter(value for _, _, value in items)
    for path, dataset_id, value in items:
        if counts[value] > 1:
            message = f"duplicate {what} '{value}' (used by {counts[value]} datasets)"
            problems.add(path, message, dataset=dataset_id)


def _check_dataset(
    path: Path, dataset: Dataset, departments: Mapping[str, Department], problems: _Problems
) -> None:
    """Checks what pydantic cannot see: references between parts of the catalog."""

    def add(message: str, field: str | None = None) -> None:
        problems.add(path, message, dataset=dataset.id, field=field)

    _check_fields(dataset, add)
    _check_sources(dataset, departments, add)
    _check_references(dataset, add)
    _check_conditions(dataset, add)
    _check_rule_types(dataset, add)
    _check_category_needs(dataset, add)


_Add = Callable[..., None]


def _check_fields(dataset: Dataset, add: _Add) -> None:
    for name, count in Counter(dataset.field_names).items():
        if count > 1:
            add("field name appears more than once", field=name)
    headers = Counter(h for f in dataset.fields for h in set(f.headers))
    for f in dataset.fields:
        for header in f.headers:
            if headers[header] > 1:
                add(f"header '{header}' is claimed by more than one field", field=f.name)


def _check_sources(dataset: Dataset, departments: Mapping[str, Department], add: _Add) -> None:
    for department in dataset.departments:
        if department not in departments:
            add(f"unknown department '{department}' (see departments.yaml)")
    for source in dataset.sources:
        if source.department not in dataset.departments:
            add(f"source department '{source.department}' is not among the dataset's departments")
        if source.domain is not None and source.domain not in KEY_DOMAINS:
            add(f"source domain '{source.domain}' is not one of the 20 key domains")
        # The watermark is read back from the loaded rows to advance the pull, so it must be a field.
        if source.watermark is not None and source.watermark not in dataset.field_names:
            add(f"source '{dataset.source_id(source)}' watermark names field '{source.watermark}', "
                "which the dataset does not have")
    for source_id, count in Counter(dataset.source_id(s) for s in dataset.sources).items():
        if count > 1:
            add(f"source '{source_id}' is declared {count} times")


def _referenced_fields(dataset: Dataset) -> Iterator[tuple[str, str]]:
    """Every (field name, where it is named) outside the field list itself."""
    for group in dataset.one_of:
        yield from ((name, f"one_of group '{group.id}'") for name in group.fields)
        if group.when:
            yield group.when.field, f"one_of group '{group.id}' condition"
    for rule in dataset.rules:
        if isinstance(rule, RequireRule):
            yield rule.when.field, f"rule '{rule.id}' condition"
            yield from ((name, f"rule '{rule.id}'") for name in rule.require)
        else:
            yield rule.left, f"rule '{rule.id}'"
            yield rule.right, f"rule '{rule.id}'"
    for f in dataset.fields:
        if f.type_when is not None:
            yield f.type_when.field, f"field '{f.name}' type_when"
    yield from ((name, "dedup_key") for name in dataset.dedup_key)
    if dataset.sla.publication is not None:
        yield dataset.sla.publication.from_field, "sla.publication.from_field"
    if dataset.list_spec is not None:
        yield dataset.list_spec.entry_date_field, "list.entry_date_field"
        yield dataset.list_spec.exit_date_field, "list.exit_date_field"


def _check_references(dataset: Dataset, add: _Add) -> None:
    names = set(dataset.field_names)
    for name, where in _referenced_fields(dataset):
        if name not in names:
            add(f"{where} names field '{name}', which the dataset does not have")
        elif where.startswith(("sla.publication", "list.")) and dataset.field(name).type != "date":
            add(f"{where} must name a date field; '{name}' is of type {dataset.field(name).type}",
                field=name)


def _conditions(dataset: Dataset) -> Iterator[tuple[Condition, str]]:
    for group in dataset.one_of:
        if group.when:
            yield group.when, f"one_of group '{group.id}' condition"
    for rule in dataset.rules:
        if isinstance(rule, RequireRule):
            yield rule.when, f"rule '{rule.id}' condition"
    for f in dataset.fields:
        if f.type_when is not None:
            yield f.type_when, f"field '{f.name}' type_when"


def _check_conditions(dataset: Dataset, add: _Add) -> None:
    """A condition testing for a value its field never allows would silently never apply."""
    names = set(dataset.field_names)
    for condition, where in _conditions(dataset):
        if condition.field not in names:
            continue  # reported by _check_references
        target = dataset.field(condition.field)
        if target.allowed is None:
            continue
        values = (condition.equals,) if condition.equals is not None else condition.in_ or ()
        for value in values:
            allowed = value in target.allowed or any(value.startswith(p) for p in target.allowed_prefixes)
            if not allowed:
                add(f"{where} tests for '{value}', which is not an allowed value of the field",
                    field=condition.field)


def _check_rule_types(dataset: Dataset, add: _Add) -> None:
    names = set(dataset.field_names)
    for rule in dataset.rules:
        if isinstance(rule, CompareRule) and rule.left in names and rule.right in names:
            types = {dataset.field(rule.left).type, dataset.field(rule.right).type}
            if len(types) != 1 or types - {"date", "decimal", "integer"}:
                add(f"rule '{rule.id}' compares fields of types {sorted(types)}; "
                    "both must be the same date or number type")


def _check_category_needs(dataset: Dataset, add: _Add) -> None:
    if dataset.category in ("licensing", "penalty") and dataset.sla.publication is None:
        add("双公示 datasets (licensing, penalty) need sla.publication")
    is_list = dataset.category in ("red_list", "black_list")
    if is_list and dataset.list_spec is None:
        add(f"a {dataset.category} dataset needs 'list' with its entry and exit date fields")
    if not is_list and dataset.list_spec is not None:
        add(f"'list' only applies to red_list and black_list datasets, not {dataset.category}")
