"""Small admin_penalty deliveries through the real pipeline, with the clock moved to fixed days.

The warehouse stamps ``_loaded_at`` and the pipeline ``finished_at`` with the real clock; the tests
move both to fixed moments after each load (as if the load had run then), so hand-computed
answers do not depend on the day the tests run.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import yaml

from etl.catalog import DEFAULT_CATALOG_DIR, Catalog
from etl.drop import receive_file
from etl.freshness import PublicationRecord
from etl.pipeline import process_drop
from etl.storage import Storage
from etl.warehouse.base import Warehouse

HEADER = (
    "行政相对人名称,行政相对人类别,统一社会信用代码,法定代表人,行政处罚决定书文号,违法行为类型,违法事实,"
    "处罚依据,处罚类别,处罚内容,处罚决定日期,处罚有效期,处罚机关,处罚机关统一社会信用代码,数据来源单位,"
    "数据来源单位统一社会信用代码"
)
AUTHORITY = "柳州市市场监督管理局,91310115MA1K3BTP2B,柳州市市场监督管理局,91310115MA1K3BTP2B"


def penalty(number: int, decided: str, facts: str = "经查，当事人销售不合格产品。") -> str:
    """One CSV row: decision 柳市监罚〔2026〕<number>号 of the day ``decided``."""
    return (
        f"柳州螺蛳粉有限公司,法人及非法人组织,91110000600037341L,李四,柳市监罚〔2026〕{number}号,"
        f"销售不合格产品,{facts},《中华人民共和国产品质量法》第四十九条,警告,警告,{decided},2027-12-31,{AUTHORITY}"
    )


def number(record: PublicationRecord) -> str:
    """柳市监罚〔2026〕103号 -> 103."""
    return dict(record.key)["decision_no"][10:13]


def deliver(tmp_path: Path, warehouse: Warehouse, catalog: Catalog, department: str, name: str,
            rows: list[str], received: dt.datetime) -> str:  # fmt: skip
    """Delivers ``rows`` as file ``name`` through the pipeline; its load finishes five minutes after
    ``received``. Returns the delivery id."""
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    storage = Storage(tmp_path / "storage")
    drop = receive_file(storage, path, dataset="admin_penalty", department=department,
                        source=f"admin_penalty__{department}__landing", received_at=received)  # fmt: skip
    result = process_drop(drop, catalog=catalog, warehouse=warehouse, storage=storage)
    assert (result.ledger.status, result.ledger.rows_loaded) == ("loaded", len(rows)), result.ledger
    sql = "UPDATE deliveries SET finished_at = CAST($at AS TIMESTAMPTZ) WHERE ledger_id = CAST($id AS BIGINT)"
    with warehouse._session("test: moving finished_at") as session, session.transaction():
        session.execute(sql, {"at": received + dt.timedelta(minutes=5), "id": result.ledger.ledger_id})
    return drop.delivery_id


def stamp(warehouse: Warehouse, numbers: list[int], loaded: dt.datetime) -> None:
    """Moves the load time of the current versions of these records."""
    sql = 'UPDATE "admin_penalty" SET "_loaded_at" = CAST($at AS TIMESTAMPTZ) WHERE "decision_no" = $no'
    with warehouse._session("test: moving _loaded_at") as session, session.transaction():
        for n in numbers:
            assert session.execute(sql, {"at": loaded, "no": f"柳市监罚〔2026〕{n}号"}) == 1


def penalty_catalog_dir(parent: Path, sources: tuple[str, ...]) -> Path:
    """A copy of the project's catalog with only admin_penalty, delivered only by ``sources``."""
    folder = parent / "catalog_yaml"
    shutil.copytree(DEFAULT_CATALOG_DIR, folder)
    for path in (folder / "datasets").glob("*.yaml"):
        if path.stem != "admin_penalty":
            path.unlink()
    path = folder / "datasets" / "admin_penalty.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    wanted = {tuple(source.split("__")[1:]) for source in sources}
    raw["sources"] = [s for s in raw["sources"] if (s["department"], s["method"]) in wanted]
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return folder
