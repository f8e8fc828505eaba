"""The shared pool of subjects (companies, 个体工商户, persons …) that every delivery draws from.

One pool per seed and scale. A company that appears in the market registry is the same company,
with the same name and codes, when it turns up in a penalty, a licence or a black list, the way real
subjects recur across departments' data. Every code is computed with the real algorithms over
Liuzhou division codes (``etl.codes``), so all of them validate.

>>> pool = build_pool(seed=7, scale=0.01)
>>> i = pool.indices(("company",))[0]
>>> from etl.codes import uscc
>>> uscc.is_valid(pool.uscc[i]) and pool.uscc[i][8:17] == pool.orgcode[i]
True
>>> make_uscc("91", "450204", make_orgcode("MA5K0B3C"))
'91450204MA5K0B3C1A'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields

import numpy as np

from etl.codes import idcard, orgcode, regno, uscc
from etl.demo_data import words
from etl.demo_data.settings import LAST_DAY, POOL_MAXIMUMS, POOL_MINIMUMS, POOL_SIZES

KINDS = ("company", "shop", "person", "cooperative", "collective", "social_org", "institution")
ORGANISATION_KINDS = ("company", "cooperative", "collective", "social_org", "institution")
CATEGORY_OF_KIND = {
    "company": "法人及非法人组织",
    "shop": "个体工商户",
    "person": "自然人",
    "cooperative": "法人及非法人组织",
    "collective": "法人及非法人组织",
    "social_org": "法人及非法人组织",
    "institution": "法人及非法人组织",
}
KINDS_OF_CATEGORY = {
    category: tuple(k for k in KINDS if CATEGORY_OF_KIND[k] == category)
    for category in ("法人及非法人组织", "个体工商户", "自然人")
}
USCC_ALPHABET = uscc.ALPHABET
# The unified codes introduced on 2015-10-01 carry new-style organisation codes (MA…).
NEW_CODES_FROM = dt.date(2015, 10, 1).toordinal()


def make_orgcode(body: str) -> str:
    """An organisation code: the eight-character body and its check character.

    >>> make_orgcode("60003734")
    '600037341'
    """
    return body + orgcode.calc_check_char(body)


def make_uscc(prefix: str, division: str, organisation_code: str) -> str:
    """A USCC from its authority/type pair, division and embedded organisation code."""
    body = prefix + division + organisation_code
    return body + uscc.calc_check_char(body)


def make_regno(division: str, sequence: str) -> str:
    """A 15-digit business registration number.

    >>> make_regno("450200", "00001234")
    '450200000012340'
    """
    body = division + sequence
    return body + regno.calc_check_char(body)


def make_idcard(address: str, birth: dt.date, sequence: int) -> str:
    """An 18-digit identity number; an odd ``sequence`` is a man's.

    >>> make_idcard("360426", dt.date(1991, 1, 1), 7)
    '360426199101010071'
    """
    body = f"{address}{birth:%Y%m%d}{sequence:03d}"
    return body + idcard.calc_check_char(body)


@dataclass(frozen=True)
class People:
    """Persons: natural-person subjects first, then legal representatives and finance heads."""

    name: np.ndarray
    gender: np.ndarray
    id_no: np.ndarray
    # A few persons identify with a passport or a Hong Kong/Macao permit where a form allows it.
    alt_id_type: np.ndarray
    alt_id_no: np.ndarray


@dataclass(frozen=True)
class SubjectPool:
    """Column arrays, one entry per subject; ``""`` where a subject has no such attribute."""

    people: People
    kind: np.ndarray
    category: np.ndarray
    name: np.ndarray
    uscc: np.ndarray
    regno: np.ndarray
    orgcode: np.ndarray
    division: np.ndarray
    address: np.ndarray
    tags: np.ndarray  # theme letters, see words.TRADES
    scope: np.ndarray
    entity_type: np.ndarray
    capital: np.ndarray  # 万元, as text
    established: np.ndarray  # date ordinals
    rep: np.ndarray  # index into people (legal representative / operator), -1 for persons
    person: np.ndarray  # index into people for natural persons, else -1
    cert_no: np.ndarray  # 事业单位法人证书号
    social_reg_no: np.ndarray
    social_type: np.ndarray
    supervisor: np.ndarray
    sponsor: np.ndarray
    funding: np.ndarray
    popularity: np.ndarray  # sampling weight: some subjects turn up far more often than others

    def __len__(self) -> int:
        return len(self.kind)

    def indices(
        self,
        kinds: Iterable[str],
        *,
        tags: str = "",
        local_only: bool = False,
        real_uscc: bool = False,
    ) -> np.ndarray:
        """Subjects of ``kinds``; with ``tags``, only those sharing a theme letter (if any do);
        with ``real_uscc``, no 个体工商户 registered under the placeholder code."""
        mask = np.isin(self.kind, list(kinds))
        if local_only:
            mask &= np.char.startswith(self.division.astype(str), "4502")
        if real_uscc:
            mask &= self.uscc != uscc.PLACEHOLDER
        if tags:
            themed = mask & np.array([any(t in s for t in tags) for s in self.tags])
            if themed.sum() >= 10:
                mask = themed
        return np.flatnonzero(mask)


def build_pool(seed: int, scale: float) -> SubjectPool:
    """The subject pool of a seed: sizes follow ``settings.POOL_SIZES`` times ``scale``."""
    rng = np.random.default_rng([seed, 1])
    sizes = {
        k: min(POOL_MAXIMUMS.get(k, 1 << 40), max(POOL_MINIMUMS[k], round(POOL_SIZES[k] * scale)))
        for k in KINDS
    }
    builder = _Builder(rng)
    n_reps = sum(n for k, n in sizes.items() if k != "person")
    builder.people(sizes["person"] + n_reps + n_reps // 3, persons=sizes["person"])
    adders: dict[str, Callable[[], None]] = {
        "company": builder.company,
        "shop": builder.shop,
        "person": builder.person,
        "cooperative": builder.cooperative,
        "collective": builder.collective,
        "social_org": builder.social_org,
        "institution": builder.institution,
    }
    for kind in KINDS:
        for _ in range(sizes[kind]):
            adders[kind]()
    return builder.finish()


# ---------------------------------------------------------------------------------------------------
# Building


def _ordinal(year: int, month: int = 1, day: int = 1) -> int:
    return dt.date(year, month, day).toordinal()


def _place(division: str) -> str:
    """How a body names its place: 柳州市柳南区 for a district, 鹿寨县 for a county."""
    name = words.DISTRICTS.get(division, "")
    return name if division >= "450222" else f"柳州市{name}"


def _addresses_by_year(first: int, last: int) -> dict[int, tuple[list[str], np.ndarray]]:
    """Identity-number address codes in use in each birth year, with their cumulative weights."""
    table = {}
    for year in range(first, last + 1):
        usable = [(code, w) for code, start, end, w in words.ID_ADDRESS_CODES if start <= year <= end]
        weights = np.array([w for _, w in usable], dtype=float)
        table[year] = ([code for code, _ in usable], np.cumsum(weights / weights.sum())[:-1])
    return table


class _Builder:
    """Adds one subject at a time; keeps names and codes unique."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.rows: list[dict[str, object]] = []
        self.names: set[str] = set()
        self.bodies: set[str] = set()
        self.sequences: set[str] = set()
        self.next_person = 0
        self.person_count = 0
        self._people: People | None = None
        self.rep_range = (0, 0)

    # -- persons ------------------------------------------------------------------------------------

    def people(self, count: int, persons: int) -> None:
        """Draws every person at once: name, sex, identity number, sometimes a passport or permit."""
        rng = self.rng
        male = rng.random(count) < 0.55
        weights = 1.0 / np.arange(1, len(words.SURNAMES) + 1) ** 0.7
        surnames = rng.choice(len(words.SURNAMES), size=count, p=weights / weights.sum())
        lengths = np.where(rng.random(count) < 0.3, 1, 2)
        given = rng.integers(0, 1 << 30, (count, 2))
        births = rng.integers(_ordinal(1955), _ordinal(2005, 12, 31) + 1, count)
        picks = rng.random(count)
        sequences = rng.integers(0, 500, count) * 2 + male
        alt = rng.random(count) < 0.04
        alt_kind = rng.integers(0, 2, count)
        alt_numbers = rng.integers(10**7, 10**8, count)
        addresses = _addresses_by_year(1955, 2005)
        names, ids, used = [], [], set()
        for i in range(count):
            chars = words.GIVEN_MALE if male[i] else words.GIVEN_FEMALE
            names.append(
                words.SURNAMES[surnames[i]] + "".join(chars[g % len(chars)] for g in given[i, : lengths[i]])
            )
            birth = dt.date.fromordinal(int(births[i]))
            codes, cumulative = addresses[birth.year]
            address = codes[int(np.searchsorted(cumulative, picks[i], side="right"))]
            sequence = int(sequences[i])
            number = make_idcard(address, birth, sequence)
            while number in used:  # the same place, day and sequence twice: take the next sequence
                sequence = (sequence + 2) % 1000
                number = make_idcard(address, birth, sequence)
            used.add(number)
            ids.append(number)
        kinds = np.array(["护照号", "港澳居民来往内地通行证"], dtype=object)[alt_kind]
        letters = np.array(["E", "H"], dtype=object)[alt_kind]
        self._people = People(
            name=np.array(names, dtype=object),
            gender=np.where(male, "男", "女").astype(object),
            id_no=np.array(ids, dtype=object),
            alt_id_type=np.where(alt, kinds, "").astype(object),
            alt_id_no=np.where(alt, letters + alt_numbers.astype(str).astype(object), "").astype(object),
        )
        self.person_count = persons
        self.rep_range = (persons, count)

    def _rep(self) -> int:
        low, high = self.rep_range
        return int(self.rng.integers(low, high))

    def _person_name(self, index: int) -> str:
        assert self._people is not None
        return str(self._people.name[index])

    # -- codes --------------------------------------------------------------------------------------

    def _body(self, new_style: bool) -> str:
        rng = self.rng
        while True:
            if new_style:
                body = "MA5" + "".join(USCC_ALPHABET[int(i)] for i in rng.integers(0, 31, 5))
            else:
                body = str("0356789"[int(rng.integers(7))]) + f"{int(rng.integers(0, 10**7)):07d}"
            if body not in self.bodies:
                self.bodies.add(body)
                return body

    def _regno(self, division: str, first: str) -> str:
        while True:
            sequence = first + f"{int(self.rng.integers(0, 10**7)):07d}"
            if division + sequence not in self.sequences:
                self.sequences.add(division + sequence)
                return make_regno(division, sequence)

    def _established(self, low_year: int, new_share: float) -> int:
        rng = self.rng
        if rng.random() < new_share:
            return int(rng.integers(NEW_CODES_FROM, LAST_DAY.toordinal() - 7))
        return int(rng.integers(_ordinal(low_year), NEW_CODES_FROM))

    # -- names and places ---------------------------------------------------------------------------

    def _pick(self, items: tuple[str, ...] | list[str]) -> str:
        return items[int(self.rng.integers(len(items)))]

    def _trade_name(self) -> str:
        chars = words.TRADE_NAME_CHARS
        a, b = self.rng.choice(len(chars), 2, replace=False)
        return chars[int(a)] + chars[int(b)]

    def _district(self, counties: bool = True) -> str:
        codes = list(words.DISTRICT_WEIGHTS) if counties else list(words.DISTRICTS)[:5]
        p = np.array([words.DISTRICT_WEIGHTS[c] for c in codes])
        return codes[self.rng.choice(len(codes), p=p / p.sum())]

    def _address(self, division: str) -> str:
        rng = self.rng
        number = int(rng.integers(1, 400))
        if division in words.OUTSIDE_ROADS:
            return f"{self._pick(words.OUTSIDE_ROADS[division])}{number}号"
        district = division if division in words.DISTRICTS else self._district()
        road = self._pick(words.ROADS[district])
        tail = ""
        roll = rng.random()
        if roll < 0.3:
            tail = f"{int(rng.integers(1, 30))}栋{int(rng.integers(1, 25))}{int(rng.integers(1, 12)):02d}室"
        elif roll < 0.45:
            tail = f"{int(rng.integers(1, 6))}楼"
        prefix = "广西柳州市" if rng.random() < 0.2 else "柳州市"
        return f"{prefix}{words.DISTRICTS[district]}{road}{number}号{tail}"

    def _unique(self, make: Callable[[], str]) -> str:
        for _ in range(1000):
            name = make()
            if name not in self.names:
                self.names.add(name)
                return name
        raise RuntimeError("could not find a unique subject name; the word lists are too small")

    def _capital(self, choices: tuple[float, ...]) -> str:
        value = choices[int(self.rng.integers(len(choices)))]
        if self.rng.random() < 0.15:
            value = round(value * float(self.rng.uniform(0.3, 1.0)), 2)
        return f"{value:.4f}".rstrip("0").rstrip(".")

    # -- one subject of each kind -------------------------------------------------------------------

    def _add(self, **values: object) -> None:
        self.rows.append(values)

    def company(self) -> None:
        rng = self.rng
        trade, scope, tags = words.TRADES[int(rng.integers(len(words.TRADES)))]
        roll = rng.random()
        joint_stock = rng.random() < 0.06
        suffix = "股份有限公司" if joint_stock else "有限公司"
        if roll < 0.42:
            division = words.CITY_DIVISION
            place = "柳州市" if rng.random() < 0.7 else "柳州"
        elif roll < 0.86:
            division = self._district()
            short = words.DISTRICTS[division]
            place = short if division >= "450222" else ("柳州市" if rng.random() < 0.6 else f"柳州市{short}")
        else:
            division = self._pick(list(words.OUTSIDE_REGISTRATIONS))
            place = words.OUTSIDE_REGISTRATIONS[division]
            place += "" if place in ("广西", "长沙") else ("市" if division.startswith("44") else "")
        name = self._unique(lambda: f"{place}{self._trade_name()}{trade}{suffix}")
        established = self._established(1995, 0.65)
        new_style = established >= NEW_CODES_FROM
        code = make_orgcode(self._body(new_style))
        types = words.ENTITY_TYPES_JOINT_STOCK if joint_stock else words.ENTITY_TYPES_LIMITED
        entity_type = types[0] if rng.random() < 0.6 else self._pick(types)
        self._add(
            kind="company", name=name, division=division, orgcode=code,
            uscc=make_uscc("91", division, code),
            regno="" if new_style else self._regno(division, self._pick("0123")),
            address=self._address(division), tags=tags, scope=scope, entity_type=entity_type,
            capital=self._capital((10, 50, 100, 200, 300, 500, 800, 1000, 2000, 5000, 10000)),
            established=established, rep=self._rep(),
        )  # fmt: skip

    def shop(self) -> None:
        rng = self.rng
        trade, scope, tags = words.SHOP_TRADES[int(rng.integers(len(words.SHOP_TRADES)))]
        division = self._district()
        rep = self._rep()
        surname = self._person_name(rep)[:1]
        short = words.DISTRICT_SHORT[division]

        def make() -> str:
            label = self._trade_name() if rng.random() < 0.7 else f"{surname}记"
            return f"{'柳州市' if rng.random() < 0.3 else ''}{short}{label}{trade}"

        name = self._unique(make)
        established = self._established(2003, 0.7)
        new_style = established >= NEW_CODES_FROM
        code = make_orgcode(self._body(True))
        registration = self._regno(division, "6")
        # Older 个体工商户 without a unified code yet are listed under the placeholder plus their
        # registration number (the only acceptable use of the placeholder).
        placeholder = not new_style and rng.random() < 0.4
        self._add(
            kind="shop", name=name, division=division,
            orgcode="" if placeholder else code,
            uscc=uscc.PLACEHOLDER if placeholder else make_uscc("92", division, code),
            regno=registration if (placeholder or not new_style) else "",
            address=self._address(division), tags=tags, scope=scope, entity_type="个体工商户",
            capital=self._capital((1, 2, 3, 5, 10, 20, 50)) if rng.random() < 0.6 else "",
            established=established, rep=rep,
        )  # fmt: skip

    def person(self) -> None:
        index = self.next_person
        self.next_person += 1
        assert self._people is not None
        self._add(
            kind="person", name=str(self._people.name[index]), division="", orgcode="", uscc="",
            regno="", address=self._address(self._district()), tags="", scope="", entity_type="",
            capital="", established=0, rep=-1, person=index,
        )  # fmt: skip

    def cooperative(self) -> None:
        rng = self.rng
        division = self._pick([c for c in words.TOWNS])
        short = words.DISTRICT_SHORT[division]
        produce = self._pick(words.COOPERATIVE_PRODUCE)
        kind = "种植" if produce not in ("生猪", "罗非鱼") else "养殖"
        name = self._unique(
            lambda: (
                f"{short}{self._pick(words.VILLAGES)}{produce}{kind if rng.random() < 0.5 else ''}专业合作社"
            )
        )
        code = make_orgcode(self._body(True))
        self._add(
            kind="cooperative", name=name, division=division, orgcode=code,
            uscc=make_uscc("93", division, code), regno="",
            address=f"柳州市{words.DISTRICTS[division]}{self._pick(words.TOWNS[division])}"
                    f"{self._pick(words.VILLAGES)}村{int(rng.integers(1, 30))}屯",
            tags="f", scope=f"组织收购、销售成员种养的{produce}；引进新技术、新品种，开展技术培训",
            entity_type="农民专业合作社", capital=self._capital((20, 50, 100, 200, 500)),
            established=self._established(2008, 0.6), rep=self._rep(),
        )  # fmt: skip

    def collective(self) -> None:
        division = self._pick([c for c in words.TOWNS])
        town = self._pick(words.TOWNS[division])
        villages: list[str] = []

        def make() -> str:
            villages.append(self._pick(words.VILLAGES))
            return f"{_place(division)}{town}{villages[-1]}村股份经济合作联合社"

        name = self._unique(make)
        code = make_orgcode(self._body(True))
        self._add(
            kind="collective", name=name, division=division, orgcode=code,
            uscc=make_uscc("N2", division, code), regno="",
            address=f"柳州市{words.DISTRICTS[division]}{town}{villages[-1]}村村民委员会办公楼",
            tags="f", scope="集体资产经营与管理；集体资源开发与利用；农业生产发展与服务",
            entity_type="农村集体经济组织", capital="",
            established=int(self.rng.integers(_ordinal(2019), _ordinal(2022))), rep=self._rep(),
        )  # fmt: skip

    def social_org(self) -> None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.45:
            prefix, social_type, supervisor = "51", "社会团体", "柳州市民政局"
            scope = "行业自律；业务培训；交流合作；咨询服务；维护会员合法权益"

            def make() -> str:
                form = rng.random()
                if form < 0.4:
                    return f"柳州市{self._pick(words.SOCIAL_GROUP_TRADES)}"
                if form < 0.8:
                    district = words.DISTRICTS[self._district()]
                    return f"柳州市{district}{self._pick(words.SOCIAL_GROUP_TRADES)}"
                return f"柳州市{self._pick([t[0] for t in words.TRADES])}行业协会"

        elif roll < 0.93:
            prefix = "52"
            social_type = "民办非企业单位" if rng.random() < 0.6 else "社会服务机构"
            kind, scope, supervisor = words.PRIVATE_NONPROFIT_KINDS[int(rng.integers(6))]

            def make() -> str:
                return f"柳州市{self._trade_name()}{kind}"

        else:
            prefix, social_type, supervisor = "53", "基金会", "柳州市民政局"
            scope = "接受社会捐赠；开展公益资助项目；奖励资助"

            def make() -> str:
                return f"柳州市{self._trade_name()}{self._pick(words.FOUNDATION_NAMES)}"

        name = self._unique(make)
        code = make_orgcode(self._body(rng.random() < 0.7))
        word = {"51": "社", "52": "民", "53": "基"}[prefix]
        self._add(
            kind="social_org", name=name, division=words.CITY_DIVISION, orgcode=code,
            uscc=make_uscc(prefix, words.CITY_DIVISION, code), regno="",
            address=self._address(self._district(counties=False)), tags="s", scope=scope,
            entity_type=social_type, capital=self._capital((3, 10, 30, 50, 200, 400)),
            established=self._established(1995, 0.5), rep=self._rep(),
            social_reg_no=f"柳{word}证字第{int(rng.integers(1, 2000)):04d}号", social_type=social_type,
            supervisor=supervisor if rng.random() < 0.8 else "",
        )  # fmt: skip

    def institution(self) -> None:
        rng = self.rng
        chosen: list[tuple[tuple[str, ...], str]] = []

        def make() -> str:
            entry = words.INSTITUTIONS[int(rng.integers(len(words.INSTITUTIONS)))]
            template = entry[0]
            division = self._district() if "{p}" in template else words.CITY_DIVISION
            chosen.append((entry, division))
            number = self._pick(words.CHINESE_NUMBERS[: 15 if "中学" in template else 25])
            town = self._pick(words.TOWNS.get(division, ("城区",)))
            return template.format(p=_place(division), t=town, n=number)

        name = self._unique(make)
        (_, sector, scope, sponsor, funding), division = chosen[-1]
        code = make_orgcode(self._body(False))
        self._add(
            kind="institution", name=name, division=division, orgcode=code,
            uscc=make_uscc("12", division, code), regno="",
            address=self._address(division), tags=sector, scope=scope, entity_type="事业单位",
            capital=self._capital((10, 50, 100, 300, 1000, 5000)),
            established=int(rng.integers(_ordinal(1950), _ordinal(2012))), rep=self._rep(),
            cert_no=f"1{division}{int(rng.integers(0, 10**5)):05d}",
            sponsor=sponsor.format(p=_place(division)), funding=funding,
        )  # fmt: skip

    # -- result -------------------------------------------------------------------------------------

    def finish(self) -> SubjectPool:
        assert self._people is not None
        n = len(self.rows)
        columns: dict[str, np.ndarray] = {}
        for f in fields(SubjectPool):
            if f.name in ("people", "category", "popularity"):
                continue
            default: object = -1 if f.name in ("rep", "person") else ""
            values = [row.get(f.name, default) for row in self.rows]
            numeric = f.name in ("rep", "person", "established")
            columns[f.name] = np.array(values, dtype=np.int64 if numeric else object)
        columns["category"] = np.array([CATEGORY_OF_KIND[k] for k in columns["kind"]], dtype=object)
        # A long tail: a few subjects are in many records, most in one or two.
        rank = self.rng.permutation(n)
        popularity = 1.0 / (rank + 25.0) ** 0.9
        return SubjectPool(people=self._people, popularity=popularity, **columns)
