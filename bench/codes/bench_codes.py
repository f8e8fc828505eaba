"""USCC check throughput: ``etl.codes.check`` (vectorised) against python-stdnum (one code per call).

One million synthetic USCCs shaped like a Liuzhou delivery (mostly 91/92 codes registered in the
city's districts, new-style ``MA…`` and legacy all-digit organisation codes, a few ``N`` codes),
of which a few per cent carry the damage department spreadsheets do: a wrong check character, a
mistyped or swapped character, a lost last character, letters O/I for 0/1, lower case, blanks,
full-width digits, Excel's scientific notation.

Both checkers see the same codes, each in the form it takes in use: ``etl.codes`` an Arrow array
(as the readers deliver columns), stdnum a list of Python strings it walks calling ``is_valid``.
Neither conversion is timed (the pipeline would have to turn Arrow into Python strings to use
stdnum); both are printed for the record. The runs
are interleaved (ours over all codes, then stdnum over the next fifth, and so on) so that both meet
the same load on a shared machine. stdnum is timed on every code, nothing is extrapolated, because
its verdict on every code it can judge is compared with ours:

- stdnum "can judge" a value when it sees the same characters we do (its ``compact`` equals our
  normalisation: not so for full-width input, which stdnum does not understand) and the value does
  not start with N, A or Y (authorities stdnum wrongly refuses);
- on those, the verdicts must be identical; the exit status is 1 if any differs.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
import pyarrow as pa
from stdnum.cn import uscc as stdnum_uscc

from etl.codes import check, orgcode, uscc
from etl.codes._matrix import pair_columns

TARGET_RATIO = 100

# (authority+type, share): market-regulation enterprises and self-employed dominate.
PAIRS = [("91", 0.55), ("92", 0.30), ("93", 0.03), ("12", 0.04), ("11", 0.01), ("52", 0.02)]
PAIRS += [("51", 0.01), ("31", 0.01), ("N2", 0.01), ("N9", 0.005), ("A1", 0.0025), ("Y1", 0.0025)]
LIUZHOU = ["450200", "450202", "450203", "450204", "450205", "450206", "450221", "450222", "450223"]
LIUZHOU += ["450224", "450225", "450226", "450000"]
ELSEWHERE = ["110000", "110108", "310115", "440300", "450100", "450300", "510100", "100000", "650100"]

# Damage and its share of all rows (about 3 % in total).
DAMAGE: dict[str, float] = {
    "check char": 0.010,
    "mistyped char": 0.005,
    "swapped chars": 0.003,
    "truncated": 0.003,
    "O for 0": 0.002,
    "lower case": 0.003,
    "blanks and hyphens": 0.002,
    "full-width": 0.001,
    "scientific notation": 0.001,
}


def generate(n: int, seed: int) -> tuple[list[str], Counter[str]]:
    """``n`` codes valid in every respect, then damaged as in ``DAMAGE``; also what was done."""
    rng = np.random.default_rng(seed)
    m = np.empty((n, 18), dtype=np.uint8)
    pairs = np.array([p.encode() for p, _ in PAIRS])
    weights = np.array([w for _, w in PAIRS])
    m[:, :2] = np.frombuffer(rng.choice(pairs, n, p=weights / weights.sum()).tobytes(), np.uint8).reshape(
        n, 2
    )
    divisions = np.array([d.encode() for d in LIUZHOU * 3 + ELSEWHERE])
    m[:, 2:8] = np.frombuffer(rng.choice(divisions, n).tobytes(), np.uint8).reshape(n, 6)
    alphabet = np.frombuffer(uscc.ALPHABET.encode(), np.uint8)
    digits = alphabet[:10]
    new_style = rng.random(n) < 0.6
    m[:, 8:16] = np.where(
        new_style[:, None], alphabet[rng.integers(0, 31, (n, 8))], digits[rng.integers(0, 10, (n, 8))]
    )
    m[new_style, 8:10] = np.frombuffer(b"MA", np.uint8)
    m[:, 16] = orgcode.calc_check_bytes(pair_columns(m[:, 8:16]))
    m[:, 17] = ord("0")
    m[:, 17] = uscc.calc_check_bytes(pair_columns(m))[0]
    codes = [bytes(row).decode("ascii") for row in m]
    return damage(codes, rng)


def damage(codes: list[str], rng: np.random.Generator) -> tuple[list[str], Counter[str]]:
    done: Counter[str] = Counter()
    n = len(codes)
    rows = rng.permutation(n)
    start = 0
    for kind, share in DAMAGE.items():
        count = int(n * share)
        for i in rows[start : start + count]:
            codes[i] = DAMAGE_FUNCTIONS[kind](codes[i], rng)
        done[kind] = count
        start += count
    return codes, done


def _other(c: str, rng: np.random.Generator) -> str:
    choices = [a for a in uscc.ALPHABET if a != c]
    return choices[int(rng.integers(len(choices)))]


def _mistype(code: str, rng: np.random.Generator) -> str:
    i = int(rng.integers(0, 17))
    return code[:i] + _other(code[i], rng) + code[i + 1 :]


def _swap(code: str, rng: np.random.Generator) -> str:
    i = int(rng.integers(2, 16))
    if code[i] == code[i + 1]:
        return _mistype(code, rng)
    return code[:i] + code[i + 1] + code[i] + code[i + 2 :]


def _letter_for_digit(code: str, rng: np.random.Generator) -> str:
    return code[:2] + code[2:].replace("0", "O", 1).replace("1", "I", 1)


DAMAGE_FUNCTIONS: dict[str, Callable[[str, np.random.Generator], str]] = {
    "check char": lambda code, rng: code[:17] + _other(code[17], rng),
    "mistyped char": _mistype,
    "swapped chars": _swap,
    "truncated": lambda code, rng: code[:-1],
    "O for 0": _letter_for_digit,
    "lower case": lambda code, rng: code.lower(),
    "blanks and hyphens": lambda code, rng: f" {code[:8]}-{code[8:17]} {code[17]} ",
    "full-width": lambda code, rng: "".join(chr(ord(c) + 0xFEE0) for c in code),
    "scientific notation": lambda code, rng: (
        f"{int(code[:8]) / 1e7:.5f}E+17" if code[:8].isdigit() else code[:-2]
    ),
}


class Clock:
    """Wall and CPU seconds of the runs of one contender."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def run(self, function: Callable[[], object]) -> object:
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        self.wall.append(time.perf_counter() - wall)
        self.cpu.append(time.process_time() - cpu)
        return result


def stdnum_can_judge(values: list[str], normalised: list[str | None]) -> np.ndarray:
    """Per value, whether stdnum sees the same code as we do and it does not start with N, A, Y."""
    judge = np.zeros(len(values), dtype=bool)
    for i, (value, ours) in enumerate(zip(values, normalised, strict=True)):
        # Most values are already compact; only the others need stdnum's own compaction.
        same = ours == value or ours == stdnum_uscc.compact(value)
        judge[i] = same and ours is not None and ours[:1] not in ("N", "A", "Y")
    return judge


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.codes", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="codes to check (default: 1,000,000)")
    parser.add_argument(
        "--repeat",
        type=int,
        # Finer interleaving: on a shared machine both sides then meet the same load, and the
        # median of more runs of ours is steadier.
        default=15,
        help="runs of etl.codes, each followed by a slice for stdnum (default: 15)",
    )
    parser.add_argument("--seed", type=int, default=20170901)
    return parser.parse_args(argv)


def report_speed(rows: int, ours: Clock, theirs: Clock) -> None:
    ours_wall, ours_cpu = statistics.median(ours.wall), statistics.median(ours.cpu)
    theirs_wall, theirs_cpu = sum(theirs.wall), sum(theirs.cpu)
    ratio = theirs_wall / ours_wall
    verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
    print()
    print(
        f"etl.codes.check  {rows / ours_wall:>12,.0f} codes/s  median of {len(ours.wall)} runs over all "
        f"{rows:,} codes: {ours_wall * 1000:.0f} ms (best {min(ours.wall) * 1000:.0f} ms, "
        f"CPU {ours_cpu * 1000:.0f} ms)"
    )
    print(
        f"stdnum is_valid  {rows / theirs_wall:>12,.0f} codes/s  one call per code, every code once: "
        f"{theirs_wall:.2f} s (CPU {theirs_cpu:.2f} s); nothing extrapolated"
    )
    print(
        f"ratio            {ratio:>12,.0f}×        (by CPU time: {theirs_cpu / ours_cpu:,.0f}×)  "
        f"target ≥ {TARGET_RATIO}×: {verdict}"
    )
    print()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"generating {args.rows:,} USCCs …", flush=True)
    values, damaged = generate(args.rows, args.seed)
    to_arrow, to_python = Clock(), Clock()
    array = to_arrow.run(lambda: pa.array(values, pa.string()))
    to_python.run(array.to_pylist)
    print(
        f"damaged {sum(damaged.values()):,} ({sum(damaged.values()) / args.rows:.1%}): "
        + ", ".join(f"{kind} {count:,}" for kind, count in damaged.items())
    )
    # Each side gets its input in its own form, as it would in use; for the record, what converting
    # between the forms costs (timed on neither side).
    print(
        f"not timed: Python list -> Arrow array {to_arrow.wall[0] * 1000:.0f} ms, "
        f"Arrow array -> Python list {to_python.wall[0] * 1000:.0f} ms"
    )

    # Interleaved: each run of etl.codes is followed by stdnum on the next slice of the codes, so
    # both meet the same load on a shared machine; stdnum still sees every code exactly once.
    check(array, "uscc")  # warm-up: first-use imports and table caches are not what is measured
    ours, theirs = Clock(), Clock()
    is_valid = stdnum_uscc.is_valid
    theirs_valid = np.zeros(args.rows, dtype=bool)
    bounds = np.linspace(0, args.rows, args.repeat + 1).astype(int)
    for start, stop in itertools.pairwise(bounds):
        verdicts = ours.run(lambda: check(array, "uscc"))
        theirs_valid[start:stop] = theirs.run(lambda s=start, e=stop: [is_valid(v) for v in values[s:e]])
    ours_valid = verdicts.valid.to_numpy(zero_copy_only=False)
    reasons = Counter(verdicts.reason.to_pylist())

    judge = stdnum_can_judge(values, verdicts.normalised.to_pylist())
    differ = np.flatnonzero(judge & (ours_valid != theirs_valid))
    nay = np.array([v[:1] in ("N", "A", "Y") for v in verdicts.normalised.to_pylist()])

    report_speed(args.rows, ours, theirs)
    judged = int(judge.sum())
    print(f"verdicts identical on {judged - len(differ):,} of {judged:,} codes stdnum can judge; ", end="")
    print(f"{len(differ):,} differ")
    print(
        f"not judged by stdnum: {int((~judge).sum()):,} ({int(nay.sum()):,} N/A/Y codes: ours valid "
        f"{int(ours_valid[nay].sum()):,}, stdnum valid {int(theirs_valid[nay].sum()):,}; "
        f"{int((~judge & ~nay).sum()):,} full-width, which stdnum cannot read)"
    )
    print("our reasons: " + ", ".join(f"{r or 'valid'} {n:,}" for r, n in reasons.most_common()))
    for i in differ[:10]:
        print(f"  differs: {values[i]!r}: ours {bool(ours_valid[i])}, stdnum {bool(theirs_valid[i])}")
    return 1 if len(differ) else 0


if __name__ == "__main__":
    sys.exit(main())
