"""A small hand-made set of deliveries whose marts can be computed by hand.

Subjects (codes computed here, all valid):

- A 柳州市甲建材有限公司: 安全生产 black list 2026-03-01 → exit 2026-06-30 (the exit comes in a
  correction of the first delivery), court black list 2026-05-01 (no exit);
- B 柳州市乙物流有限公司: 安全生产 black list since 2026-01-10, court list 2025-12-01 → 2026-02-01;
- C 韦某某 (natural person, identity number): court list since 2026-04-01;
- D 柳州市丁化工有限公司: penalties 2025-12-10 吊销许可证件, 2026-03-05 fine 12 万元, 2026-08-20
  责令停产停业 (serious), 2026-09-01 警告 (not serious); carries registration number REGNO_D;
- E 柳州市戊食品有限公司: serious penalties 2025-09-01 (outside twelve months of 2026-09-15),
  2026-02-01, 2026-06-01;
- F 柳州市己商贸有限公司: two 警告 whose dedup keys (文书号, 名称) contain '|'.

Key supervision targets with N = 2 are worked out by hand in ``EXPECTED_TARGETS`` (twelve months
up to a day D: decided after D minus twelve months, up to D).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from etl.codes import idcard, orgcode, regno, uscc

SCJG_USCC = "11450200MB1955851R"  # any valid code serves as the authority's


def org_code(body: str) -> str:
    return body + orgcode.calc_check_char(body)


def make_uscc(division: str, body: str, prefix: str = "91") -> str:
    head = prefix + division + org_code(body)
    return head + uscc.calc_check_char(head)


def make_idcard(body17: str) -> str:
    return body17 + idcard.calc_check_char(body17)


A = make_uscc("450202", "MA5A0001")
B = make_uscc("450203", "MA5B0002")
C = make_idcard("45020219800101123")
D = make_uscc("450204", "MA5D0004")
E = make_uscc("450205", "MA5E0005")
F = make_uscc("450206", "MA5F0006")
REGNO_D = "45020000001234" + regno.calc_check_char("45020000001234")
AUTHORITY_USCC = make_uscc("450200", "00000011", prefix="11")
NAMES = {A: "柳州市甲建材有限公司", B: "柳州市乙物流有限公司", C: "韦某某", D: "柳州市丁化工有限公司",
         E: "柳州市戊食品有限公司", F: "柳州市己商贸有限公司"}  # fmt: skip


def safety_rows(*, with_exit: bool) -> list[dict[str, str]]:
    """安全生产失信联合惩戒对象名单 (yjgl, landing CSV); the correction adds A's exit date."""
    common = {"legal_rep": "张三", "dishonest_behaviour": "发生较大生产安全事故",
              "authority": "柳州市应急管理局"}  # fmt: skip
    return [
        {**common, "subject_name": NAMES[A], "uscc": A, "decision_no": "柳应急失信〔2026〕1号",
         "entry_date": "2026-03-01", "exit_date": "2026-06-30" if with_exit else ""},
        {**common, "subject_name": NAMES[B], "uscc": B, "decision_no": "柳应急失信〔2026〕2号",
         "entry_date": "2026-01-10", "exit_date": ""},
    ]  # fmt: skip


ORGANISATION = "法人及非法人组织"


def court_rows() -> list[dict[str, str]]:
    """失信被执行人名单 (court, database pull as JSON lines)."""
    common = {"court": "柳州市中级人民法院", "basis_doc_no": "（2025）桂02民初1号",
              "basis_issuer": "柳州市中级人民法院", "obligation": "支付货款", "performance": "全部未履行",
              "dishonest_behaviour": "有履行能力而拒不履行"}  # fmt: skip
    return [
        {**common, "case_no": "（2026）桂02执1号", "subject_name": NAMES[A], "subject_category": ORGANISATION,
         "uscc": A, "legal_rep": "张三", "filing_date": "2026-04-20", "publish_date": "2026-05-01"},
        {**common, "case_no": "（2025）桂02执9号", "subject_name": NAMES[B], "subject_category": ORGANISATION,
         "uscc": B, "legal_rep": "李四", "filing_date": "2025-11-20", "publish_date": "2025-12-01",
         "exit_date": "2026-02-01"},
        {**common, "case_no": "（2026）桂02执3号", "subject_name": NAMES[C], "subject_category": "自然人",
         "gender": "男", "id_no": C, "filing_date": "2026-03-20", "publish_date": "2026-04-01"},
    ]  # fmt: skip


def _penalty(subject: str, number: int, day: str, types: str, fine: str = "", **extra: str) -> dict[str, str]:
    return {
        "subject_name": NAMES[subject], "subject_category": ORGANISATION, "uscc": subject,
        "legal_rep": "王五", "decision_no": f"柳市监罚〔2026〕{number}号", "violation_type": "违反产品质量法",
        "violation_facts": "生产不合格产品", "legal_basis": "《中华人民共和国产品质量法》第四十九条",
        "penalty_types": types, "penalty_content": types, "fine_amount": fine, "decision_date": day,
        "valid_until": "2027-12-31", "authority": "柳州市市场监督管理局", "authority_uscc": AUTHORITY_USCC,
        "source_unit": "柳州市市场监督管理局", "source_unit_uscc": AUTHORITY_USCC, **extra,
    }  # fmt: skip


def penalty_rows() -> list[dict[str, str]]:
    """行政处罚 (scjg, landing JSON). The last one's remark would be a formula in a spreadsheet."""
    return [
        _penalty(D, 1, "2025-12-10", "吊销许可证件", regno=REGNO_D),
        _penalty(D, 2, "2026-03-05", "罚款", "12"),
        _penalty(D, 3, "2026-08-20", "责令停产停业;罚款", "0.5"),
        _penalty(D, 4, "2026-09-01", "警告"),
        _penalty(E, 5, "2025-09-01", "责令关闭"),
        _penalty(E, 6, "2026-02-01", "罚款;没收违法所得", "6", confiscated_amount="4"),
        _penalty(E, 7, "2026-06-01", "降低资质等级", remarks="=HYPERLINK(\"http://x\")"),
        {**_penalty(D, 8, "2026-06-03", "警告"), "subject_name": NAMES[C], "subject_category": "自然人",
         "uscc": "", "legal_rep": "", "id_type": "身份证", "id_no": C},
        # Two keys whose parts joined with '|' would read the same: the marts must keep both.
        {**_penalty(F, 9, "2026-01-15", "警告"), "decision_no": "柳市监罚〔2026〕9号|补"},
        {**_penalty(F, 9, "2026-01-15", "警告"), "subject_name": "补|" + NAMES[F]},
    ]


# Serious penalties by decision date (12 万, 6+4 = 10 万 reach the 10 万 threshold; 0.5 万 alone
# does not, but 责令停产停业 does; 警告 never).
SERIOUS = {D: ["2025-12-10", "2026-03-05", "2026-08-20"], E: ["2025-09-01", "2026-02-01", "2026-06-01"]}

# Worked by hand from the dates above (N = 2: more than two serious penalties in the twelve months
# up to the day; two black-list domains on the day):
EXPECTED_TARGETS = {
    # A on 安全生产 only (法院 from 05-01), B on 安全生产 only (法院 exited 02-01); D: 12-10, 03-05;
    # E: 2025-09-01, 02-01 (two each: not more than two).
    dt.date(2026, 4, 15): {},
    # A on both lists; E: 2025-09-01, 02-01, 06-01; D still two.
    dt.date(2026, 6, 15): {A: "black_lists", E: "serious_penalties"},
    dt.date(2026, 6, 29): {A: "black_lists", E: "serious_penalties"},
    # A left the 安全生产 list on 06-30 (the correction's exit date).
    dt.date(2026, 6, 30): {E: "serious_penalties"},
    # D: 12-10, 03-05, 08-20; E's 2025-09-01 still inside.
    dt.date(2026, 8, 31): {D: "serious_penalties", E: "serious_penalties"},
    # E's 2025-09-01 falls out on 2026-09-01.
    dt.date(2026, 9, 1): {D: "serious_penalties"},
    dt.date(2026, 12, 9): {D: "serious_penalties"},
    # D's 2025-12-10 falls out.
    dt.date(2026, 12, 10): {},
}
# Before the correction A has no exit date on the 安全生产 list; E: 2025-09-01, 02-01, 06-01.
EXPECTED_TARGETS_BEFORE_CORRECTION = {dt.date(2026, 7, 1): {A: "black_lists", E: "serious_penalties"}}


def write_json(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path
