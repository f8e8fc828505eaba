"""What every source hands to ``run_source``: pickups (a Drop and what to do once it is processed) and
a report of what it found but did not take.

A ``Pickup`` is a delivery a source has claimed and archived in the storage root (``drop``); after
``process_drop`` the runner calls ``finish(result)`` so the source can put the original where its
outcome says (landing archive or ``rejected/``, the SFTP archive folder, the pull's watermark), or
``abandon()`` when processing failed, leaving the delivery to be taken again by a later run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from etl.sources.stability import DEFAULT_STABLE_SECONDS

if TYPE_CHECKING:
    from etl.drop import Drop
    from etl.pipeline import LoadResult


class Pickup(Protocol):
    drop: Drop

    def finish(self, result: LoadResult) -> None: ...

    def abandon(self) -> None: ...


@dataclass(frozen=True)
class Refusal:
    """An entry a source would not take: ``name`` as printable text, a reason code from
    ``etl.sources.names.REFUSAL_TEXT``, and where it was moved (when it could be)."""

    name: str
    reason: str
    moved_to: str | None = None


@dataclass
class FetchReport:
    """What one fetch saw besides the deliveries it took."""

    refused: list[Refusal] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # not complete yet; taken by a later run
    skipped: list[str] = field(default_factory=list)  # already processed, left where they are
    notes: list[str] = field(default_factory=list)  # e.g. an empty pull window


@dataclass(frozen=True)
class Window:
    """A pull's interval of watermark values, ``since <= watermark < until`` (Asia/Shanghai).

    Half-open like Airflow's data intervals, so consecutive runs neither overlap nor leave a gap;
    ``since`` None means from the beginning.
    """

    since: dt.datetime | None
    until: dt.datetime

    def __post_init__(self) -> None:
        for value in (self.since, self.until):
            if value is not None and value.tzinfo is None:
                raise ValueError("pull windows need time-zone-aware datetimes")
        if self.since is not None and self.since >= self.until:
            # The usual cause: a cron-scheduled DAG on Airflow 3's default CronTriggerTimetable, whose
            # data interval starts where it ends.
            raise ValueError(
                f"an empty pull window: since {self.since} is not before until {self.until} "
                "(a DAG pulling its data interval needs CronDataIntervalTimetable)"
            )

    def label(self) -> str:
        """``20261101T000000-20261102T000000`` (Asia/Shanghai), for file names.

        >>> from zoneinfo import ZoneInfo
        >>> sh = ZoneInfo("Asia/Shanghai")
        >>> Window(None, dt.datetime(2026, 11, 2, tzinfo=sh)).label()
        'start-20261102T000000'
        """
        from etl.drop import SHANGHAI

        def stamp(value: dt.datetime | None) -> str:
            return "start" if value is None else value.astimezone(SHANGHAI).strftime("%Y%m%dT%H%M%S")

        return f"{stamp(self.since)}-{stamp(self.until)}"


@dataclass(frozen=True)
class FetchOptions:
    """How a fetch behaves; the defaults suit a scheduled poll."""

    stable_seconds: float = DEFAULT_STABLE_SECONDS
    # Wait (at most this long) within the run for files not yet seen stable, instead of leaving them
    # to the next poll; 0 never waits.
    wait_seconds: float = DEFAULT_STABLE_SECONDS
    window: Window | None = None
    chunk_rows: int = 10_000
    download_attempts: int = 4
    retry_pause: float = 1.0
    connect_timeout: float = 15.0
