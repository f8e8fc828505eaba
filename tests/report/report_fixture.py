"""A small warehouse for the NDRC report, built by real pipeline runs over hand-written 行政处罚 CSVs.

The catalog is the project's with only admin_penalty, delivered by scjg (工商) and wjw (医疗卫生)
through their landing zones. The warehouse stamps ``_loaded_at`` and the pipeline ``finished_at``
with the real clock; each delivery's are moved to five minutes after its receipt, as if it had run
then, so the hand-computed figures do not depend on the day the tests run.

Deliveries (Shanghai time), decision numbers 柳市监罚〔2026〕NNN号:

====  =====  ==========  ===========================================================================
id    dept   received    rows
====  =====  ==========  ===========================================================================
D0    scjg   2026-09-20  001, 002 (company C) — loaded; before the period
D1    scjg   2026-10-09  101 (A, decided 09-28), 102 (C, 09-01) loaded; 103 (A) bad USCC check
                         digit; 104 (C) no 违法事实 — loaded_with_rejections
D2    scjg   2026-10-20  103 again (A, decided 10-08, USCC fixed), 105 (C, decided 10-12) — loaded
D4    scjg   2026-10-21  the bytes of D2 again — duplicate
D3    wjw    2026-10-12  201 (name A with code B, decided 10-09) loaded; 202 repeats 201's key;
                         203 (C) legal representative's identity number with a wrong check digit
====  =====  ==========  ===========================================================================
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from penalty_deliveries import penalty_catalog_dir  # the catalog cut down to admin_penalty

from etl.catalog import Catalog, load_catalog
from etl.drop import receive_file
from etl.freshness import at
from etl.pipeline import process_drop
from etl.storage import Storage
from etl.warehouse import open_warehouse
from etl.warehouse.base import Warehouse

HEADER = (
    "行政相对人名称,行政相对人类别,统一社会信用代码,法定代表人,法定代表人证件类型,法定代表人证件号码,"
    "行政处罚决定书文号,违法行为类型,违法事实,处罚依据,处罚类别,处罚内容,处罚决定日期,处罚有效期,处罚机关,"
    "处罚机关统一社会信用代码,数据来源单位,数据来源单位统一社会信用代码"
)
AUTHORITY = "柳州市市场监督管理局,91310115MA1K3BTP2B,柳州市市场监督管理局,91310115MA1K3BTP2B"
COMPANY_A = ("柳州螺蛳粉有限公司", "91110000600037341L")
COMPANY_C = ("柳州市鱼峰区某某食品厂", "91450200MA5K00012P")
CODE_B = "91450200MA5K00020J"
BAD_USCC = "91110000600037341A"  # company A's code with a wrong check character
VALID_ID = "450203199001011233"  # legal representative of the clean rows
BAD_ID = "450203199001011234"  # wrong check digit: rejected, and must never show unmasked

# The report of October is written as the 20th of November would write it.
GENERATED_AT = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)

SCJG = "admin_penalty__scjg__landing"
WJW = "admin_penalty__wjw__landing"


def row(number: str, company: tuple[str, str], decided: str, *, facts: str = "经查，当事人销售不合格产品。",
        rep_id: str = VALID_ID) -> str:  # fmt: skip
    name, code = company
    return (
        f"{name},法人及非法人组织,{code},李四,身份证,{rep_id},柳市监罚〔2026〕{number}号,销售不合格产品,"
        f"{facts},《中华人民共和国产品质量法》第四十九条,警告,警告,{decided},2027-12-31,{AUTHORITY}"
    )


DELIVERIES = (
    ("D0", SCJG, at(2026, 9, 20), [row("001", COMPANY_C, "2026-09-15"), row("002", COMPANY_C, "2026-09-16")]),
    ("D1", SCJG, at(2026, 10, 9), [
        row("101", COMPANY_A, "2026-09-28"), row("102", COMPANY_C, "2026-09-01"),
        row("103", (COMPANY_A[0], BAD_USCC), "2026-10-08"), row("104", COMPANY_C, "2026-10-08", facts=""),
    ]),
    ("D3", WJW, at(2026, 10, 12), [
        row("201", (COMPANY_A[0], CODE_B), "2026-10-09"), row("201", (COMPANY_A[0], CODE_B), "2026-10-09"),
        row("203", COMPANY_C, "2026-10-09", rep_id=BAD_ID),
    ]),
    ("D2", SCJG, at(2026, 10, 20), [
        row("103", COMPANY_A, "2026-10-08"), row("105", COMPANY_C, "2026-10-12"),
    ]),
    ("D4", SCJG, at(2026, 10, 21), "D2"),
)  # fmt: skip


def _move_clock(warehouse: Warehouse, delivery_id: str, ledger_id: int, moment: dt.datetime) -> None:
    with warehouse._session("test: moving the clock") as session, session.transaction():
        session.execute(
            "UPDATE deliveries SET finished_at = CAST($at AS TIMESTAMPTZ) "
            "WHERE ledger_id = CAST($id AS BIGINT)",
            {"at": moment, "id": ledger_id},
        )
        session.execute(
            'UPDATE "admin_penalty" SET "_loaded_at" = CAST($at AS TIMESTAMPTZ) WHERE "_delivery_id" = $d',
            {"at": moment, "d": delivery_id},
        )


def build_warehouse(tmp_path: Path, warehouse_url: str) -> tuple[Catalog, Warehouse, dict[str, str]]:
    """Runs the deliveries through the pipeline; returns the catalog, warehouse and statuses by id."""
    catalog = load_catalog(penalty_catalog_dir(tmp_path, (SCJG, WJW)))
    warehouse = open_warehouse(warehouse_url)
    warehouse.init(catalog)
    storage = Storage(tmp_path / "storage")
    files: dict[str, Path] = {}
    statuses = {}
    for name, source, received, rows in DELIVERIES:
        department = source.split("__")[1]
        if isinstance(rows, str):
            path = tmp_path / f"{name}.csv"
            path.write_bytes(files[rows].read_bytes())
        else:
            path = tmp_path / f"{name}.csv"
            path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
        files[name] = path
        drop = receive_file(storage, path, dataset="admin_penalty", department=department, source=source,
                            received_at=received)  # fmt: skip
        result = process_drop(drop, catalog=catalog, warehouse=warehouse, storage=storage)
        statuses[name] = result.ledger.status
        if result.ledger.status != "duplicate":
            moment = received + dt.timedelta(minutes=5)
            _move_clock(warehouse, drop.delivery_id, result.ledger.ledger_id, moment)
    return catalog, warehouse, statuses
