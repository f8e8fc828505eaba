"""When a delivered file is complete: a marker beside it, or size and mtime unchanged for a while.

Departments that send a completion marker (``<file>.ok`` / ``<file>.done``) say so in the catalog,
and their files are taken only once the marker is there. For the others a file is taken when its
size and modification time have not changed over the stability interval: each poll remembers what it
saw (``Observations``), and a file is complete once the same size and mtime have been seen for at
least the interval. A file that is still being written keeps changing and is left for a later poll.

>>> first = FileStat(size=10, mtime_ns=1)
>>> seen = Observations.load({})
>>> seen.observe("a.csv", first, now=100.0)
False
>>> seen.observe("a.csv", first, now=130.0, interval=30.0)
True
>>> seen.observe("a.csv", FileStat(size=12, mtime_ns=2), now=131.0, interval=30.0)
False
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_STABLE_SECONDS = 30.0
# Slept beyond the interval, so that clock granularity never leaves a file just short of it.
SLEEP_MARGIN = 0.01


@dataclass(frozen=True)
class FileStat:
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Observation:
    """A file's size and mtime, and since when they have been seen unchanged."""

    stat: FileStat
    since: float


def is_complete(previous: Observation | None, current: FileStat, now: float, interval: float) -> bool:
    """True when ``current`` equals what was seen at least ``interval`` seconds ago.

    >>> is_complete(Observation(FileStat(5, 1), since=0.0), FileStat(5, 1), now=30.0, interval=30.0)
    True
    >>> is_complete(Observation(FileStat(5, 1), since=0.0), FileStat(6, 2), now=99.0, interval=30.0)
    False
    >>> is_complete(None, FileStat(5, 1), now=99.0, interval=30.0)
    False
    """
    return previous is not None and previous.stat == current and now - previous.since >= interval


def marker_name(name: str, marker: str | None) -> str | None:
    """The completion marker that makes ``name`` complete, when its source sends markers."""
    return f"{name}{marker}" if marker else None


class Observations:
    """What earlier polls saw, by file name; serialisable to a small JSON document."""

    def __init__(self, seen: dict[str, Observation]) -> None:
        self.seen = seen

    @classmethod
    def load(cls, payload: dict[str, Any]) -> Observations:
        seen = {}
        for name, item in (payload.get("files") or {}).items():
            try:
                stat = FileStat(int(item["size"]), int(item["mtime_ns"]))
                seen[name] = Observation(stat, float(item["since"]))
            except (KeyError, TypeError, ValueError):
                continue  # an unreadable entry only delays that file by one interval
        return cls(seen)

    def dump(self) -> dict[str, Any]:
        return {
            "files": {
                name: {"size": o.stat.size, "mtime_ns": o.stat.mtime_ns, "since": o.since}
                for name, o in sorted(self.seen.items())
            }
        }

    def observe(
        self, name: str, stat: FileStat, now: float, interval: float = DEFAULT_STABLE_SECONDS
    ) -> bool:
        """Records ``stat`` for ``name``; True when the file is complete (unchanged over the interval)."""
        previous = self.seen.get(name)
        if previous is None or previous.stat != stat:
            self.seen[name] = Observation(stat, now)
        return is_complete(previous, stat, now, interval)

    def wait_needed(self, names: list[str], now: float, interval: float) -> float:
        """Seconds until the earliest of ``names`` could be complete, if nothing changes."""
        waits = [self.seen[n].since + interval - now for n in names if n in self.seen]
        return max(0.0, min(*waits, interval)) if waits else interval

    def keep_only(self, names: set[str]) -> None:
        """Forgets files that are gone (taken, or removed by the department)."""
        self.seen = {n: o for n, o in self.seen.items() if n in names}


def settle(
    seen: Observations,
    stats: dict[str, FileStat],
    restat: Callable[[list[str]], dict[str, FileStat]],
    *,
    interval: float,
    wait: float,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[list[str], list[str]]:
    """(complete, still changing) names among ``stats``, by size and mtime over ``interval``.

    Files not yet seen unchanged for the interval are looked at again (``restat``) once the interval
    has passed, when that is at most ``wait`` seconds away; otherwise they wait for a later poll.
    ``seen`` is updated; entries for files no longer there are dropped.

    >>> seen, slept = Observations.load({}), []
    >>> settle(seen, {"a.csv": FileStat(5, 1)}, lambda names: {"a.csv": FileStat(5, 1)},
    ...        interval=2.0, wait=3.0, clock=lambda: 100.0 + sum(slept), sleep=slept.append)
    (['a.csv'], [])
    >>> slept
    [2.01]
    """
    moment = clock()
    complete = {n for n, current in stats.items() if seen.observe(n, current, moment, interval)}
    pending = sorted(n for n in stats if n not in complete)
    if pending and wait > 0:
        delay = seen.wait_needed(pending, moment, interval)
        if delay <= wait:
            log.info("waiting %.1f s to see whether %d file(s) are complete", delay, len(pending))
            sleep(delay + SLEEP_MARGIN)
            again = restat(pending)
            moment = clock()
            for name in pending:
                current = again.get(name)
                if current is not None and seen.observe(name, current, moment, interval):
                    stats[name] = current
                    complete.add(name)
    seen.keep_only(set(stats))
    return sorted(complete), sorted(n for n in stats if n not in complete)
