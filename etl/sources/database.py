"""Database pulls: a department's table or query, incremental by a watermark column, written out as a
Parquet delivery that goes through the same pipeline and ledger as any file.

A pull selects the rows whose watermark lies in the run's window, ``since <= watermark < until``
(Asia/Shanghai; half-open like Airflow's data intervals, so consecutive windows neither overlap nor
leave a gap), ordered by the watermark, the dataset's dedup key and then every other column::

    SELECT * FROM "credit_exchange"."v_nsxy_ajnsr" AS src
    WHERE src."updated_at" >= :since AND src."updated_at" < :until
    ORDER BY src."updated_at", src."tax_reg_no", src."list_year", …

Identifiers come from the catalog (checked against ``etl.catalog.SQL_IDENTIFIER``) or from the
database's own column list, and are quoted by SQLAlchemy's dialect; the window travels as bound
parameters. A ``query`` source is wrapped as a derived table the same way. Rows are fetched with a
server-side cursor, ``chunk_rows`` at a time, and written as they come to a Parquet file whose
columns are the result's column names (the reader maps canonical names like headers) and whose cells
are text, the way the pipeline reads every delivery. A manifest beside the archived file
(``raw/<ab>/<sha256>.pull.json``) records the source, window, row count and watermark range.

Why a retried pull neither skips nor doubles rows: the window, not the clock, decides what is
pulled; the same rows give byte-identical Parquet (fixed order, fixed writer settings, nothing
time-dependent inside), so a pull repeated after it was loaded is a ``duplicate`` in the ledger, and
one repeated after a failure redoes the failed attempt. A pull that fails midway (connection lost,
server gone) raises ``SourceError`` before anything is archived or recorded. Rows whose watermark is
NULL cannot be placed in a window and are never pulled.

Without an explicit window (``credit-etl fetch --source … `` without ``--since``), a pull covers
from where the previous pulls left off to now: ``sources/<source id>/pull-state.json`` in the
storage root remembers the end of the contiguous span already pulled and processed
(``advance_covered``). Airflow passes each run's data interval instead, which is also how a
backfill of a past interval pulls exactly that interval.

Database time zone: sessions are set to Asia/Shanghai (PostgreSQL ``TimeZone``, MariaDB/MySQL
``time_zone = '+08:00'``), so naive ``DATETIME``/``timestamp`` watermarks are read as Shanghai time
and ``timestamptz`` ones are converted to it.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etl.catalog import SQL_IDENTIFIER
from etl.drop import SHANGHAI, Drop, now, receive_file
from etl.errors import SourceError
from etl.sources.base import FetchOptions, FetchReport, Window
from etl.sources.connections import Connection, get_connection
from etl.storage import Storage

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlalchemy.engine import Engine

    from etl.catalog import Source, SourceRef
    from etl.pipeline import LoadResult

log = logging.getLogger(__name__)

# Airflow connection types -> SQLAlchemy drivers (both installed with the project).
DRIVERS = {
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "postgres": "postgresql+psycopg",
}
# Connection extras passed on to the PostgreSQL driver (TLS settings); others are ignored.
POSTGRES_EXTRAS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "application_name")


@dataclass(frozen=True)
class Pulled:
    """What one pull wrote."""

    rows: int
    columns: tuple[str, ...]
    watermark_min: Any = None
    watermark_max: Any = None


# ---------------------------------------------------------------------------------------------------
# Decisions (pure)


def bind_time(value: dt.datetime) -> dt.datetime:
    """A window bound as the naive Shanghai time the database session compares in.

    >>> bind_time(dt.datetime(2026, 11, 1, 16, 0, tzinfo=dt.timezone.utc))
    datetime.datetime(2026, 11, 2, 0, 0)
    """
    return value.astimezone(SHANGHAI).replace(tzinfo=None)


def advance_covered(covered: dt.datetime | None, window: Window) -> dt.datetime | None:
    """The end of the contiguous span pulled so far, after ``window`` has been pulled and processed.

    A window that starts within (or at the end of) the covered span extends it; a window further on
    (a backfill elsewhere, a gap) leaves it where it was.

    >>> sh = SHANGHAI
    >>> day = lambda d: dt.datetime(2026, 11, d, tzinfo=sh)
    >>> advance_covered(None, Window(None, day(2))) == day(2)
    True
    >>> advance_covered(day(2), Window(day(2), day(3))) == day(3)
    True
    >>> advance_covered(day(2), Window(day(5), day(6))) == day(2)
    True
    >>> advance_covered(None, Window(day(5), day(6))) is None
    True
    """
    if window.since is None:
        return max(covered, window.until) if covered is not None else window.until
    if covered is not None and window.since <= covered:
        return max(covered, window.until)
    return covered


def source_relation(source: Source, quote: Any) -> str:
    """The FROM clause of a source: its quoted table, or its query as a derived table.

    >>> from etl.catalog import Source
    >>> q = lambda name: f'"{name}"'
    >>> source_relation(Source(department="tax", method="database", conn_id="db_tax",
    ...                        table="credit_exchange.v_nsxy_ajnsr", watermark="updated_at"), q)
    '"credit_exchange"."v_nsxy_ajnsr" AS src'
    """
    if source.table is not None:
        parts = source.table.split(".")
        for part in parts:
            _check_identifier(part, "table")
        return f"{'.'.join(quote(p) for p in parts)} AS src"
    if source.query is None:
        raise SourceError("a database source needs a table or a query")
    return f"({source.query.strip().rstrip(';')}) AS src"


def pull_sql(
    relation: str, columns: Sequence[str], watermark: str, key: Sequence[str], quote: Any, *, since: bool
) -> str:
    """The pull statement: the window as bound parameters, a total order over the columns.

    >>> print(pull_sql('"t" AS src', ["name", "updated_at", "code"], "updated_at", ["code"],
    ...                lambda n: f'"{n}"', since=True))
    SELECT src."name", src."updated_at", src."code" FROM "t" AS src
    WHERE src."updated_at" >= :since AND src."updated_at" < :until
    ORDER BY src."updated_at", src."code", src."name"
    """
    _check_identifier(watermark, "watermark")
    if watermark not in columns:
        raise SourceError(f"the source has no watermark column {watermark!r} (it has {', '.join(columns)})")
    column = {name: f"src.{quote(name)}" for name in columns}
    order = [watermark, *(k for k in key if k in column and k != watermark)]
    order += [c for c in columns if c not in order]
    test = f"{column[watermark]} >= :since AND " if since else ""
    return (
        f"SELECT {', '.join(column[c] for c in columns)} FROM {relation}\n"
        f"WHERE {test}{column[watermark]} < :until\n"
        f"ORDER BY {', '.join(column[c] for c in order)}"
    )


def cell_text(value: Any) -> str | None:
    """A database value as the text cell a delivery file would hold.

    >>> cell_text(decimal.Decimal("68.000000")), cell_text(dt.datetime(2026, 10, 27, 14, 8, 44))
    ('68.000000', '2026-10-27 14:08:44')
    >>> cell_text(dt.date(2026, 5, 25)), cell_text(2025), cell_text(True), cell_text(None)
    ('2026-05-25', '2025', 'true', None)
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8")  # UnicodeDecodeError: reported by the caller
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def change_date(watermark: Any) -> dt.date | None:
    """The Shanghai date of the latest watermark: when the department last changed the data.

    >>> change_date(dt.datetime(2026, 11, 1, 17, 0, tzinfo=dt.timezone.utc))
    datetime.date(2026, 11, 2)
    >>> change_date("2026-10-27T14:08:44+08:00"), change_date(None)
    (datetime.date(2026, 10, 27), None)
    """
    if isinstance(watermark, str):
        try:
            watermark = dt.datetime.fromisoformat(watermark.strip())
        except ValueError:
            return None
    if isinstance(watermark, dt.datetime):
        return watermark.astimezone(SHANGHAI).date() if watermark.tzinfo else watermark.date()
    if isinstance(watermark, dt.date):
        return watermark
    return None


def _check_identifier(name: str, what: str) -> None:
    if not SQL_IDENTIFIER.match(name):
        raise SourceError(f"{what} {name!r} is not a safe SQL identifier")


# ---------------------------------------------------------------------------------------------------
# I/O


def make_engine(conn: Connection, timeout: float) -> Engine:
    """A SQLAlchemy engine for an Airflow connection, its sessions in Asia/Shanghai."""
    from sqlalchemy import URL, create_engine

    driver = DRIVERS.get(conn.conn_type)
    if driver is None:
        raise SourceError(f"connection {conn.conn_id!r} is of type {conn.conn_type!r}; database sources "
                          f"support {', '.join(sorted(DRIVERS))}")  # fmt: skip
    url = URL.create(driver, username=conn.login, password=conn.password, host=conn.host, port=conn.port,
                     database=conn.schema)  # fmt: skip
    if driver.startswith("mysql"):
        connect_args: dict[str, Any] = {
            "connect_timeout": int(timeout), "read_timeout": 600, "charset": "utf8mb4",
            "init_command": "SET time_zone = '+08:00'",
        }  # fmt: skip
    else:
        connect_args = {"connect_timeout": max(1, int(timeout)), "options": "-c TimeZone=Asia/Shanghai"}
        connect_args.update({k: str(v) for k, v in conn.extra.items() if k in POSTGRES_EXTRAS})
    return create_engine(url, connect_args=connect_args, poolclass=_null_pool())


def _null_pool() -> Any:
    from sqlalchemy.pool import NullPool

    return NullPool  # one pull, one connection: nothing to keep open between runs


def pull(
    ref: SourceRef, conn: Connection, window: Window, path: Path, *, chunk_rows: int, timeout: float
) -> Pulled:
    """Writes the window's rows to ``path`` (Parquet); no file when there are none."""
    from sqlalchemy import exc as sa_exc
    from sqlalchemy import text

    source = ref.source
    assert source.watermark is not None  # the catalog requires it for database sources
    engine = make_engine(conn, timeout)
    quote = engine.dialect.identifier_preparer.quote_identifier
    relation = source_relation(source, quote)
    try:
        try:
            connection = engine.connect()
        except sa_exc.DBAPIError as exc:
            raise SourceError(f"cannot reach database {conn.conn_id!r} ({conn.display}): "
                              f"{_reason(exc)}") from None  # fmt: skip
        with connection:
            result = None
            try:
                probe = connection.execute(text(f"SELECT * FROM {relation} WHERE 1 = 0"))
                columns = tuple(probe.keys())
                probe.close()
                sql = pull_sql(relation, columns, source.watermark, ref.dataset.dedup_key, quote,
                               since=window.since is not None)  # fmt: skip
                params = {"until": bind_time(window.until)}
                if window.since is not None:
                    params["since"] = bind_time(window.since)
                # A server-side cursor (pymysql SSCursor, psycopg named cursor), read chunk by chunk.
                result = connection.execution_options(stream_results=True).execute(text(sql), params)
                return _write_parquet(result.partitions(chunk_rows), columns, source.watermark, path)
            except sa_exc.DBAPIError as exc:
                _forget_unread_rows(result)
                raise SourceError(
                    f"pull from {conn.conn_id!r} ({conn.display}) failed: {_reason(exc)}; nothing was "
                    "recorded, and the same window is pulled again by the next run"
                ) from None
    finally:
        engine.dispose()


def _forget_unread_rows(result: Any) -> None:
    """After a lost connection, stops pymysql's unbuffered result from draining the dead socket when it
    is collected (it would print an ``Exception ignored`` traceback): there is nothing left to read."""
    pending = getattr(getattr(getattr(result, "context", None), "cursor", None), "_result", None)
    if getattr(pending, "unbuffered_active", False):
        pending.unbuffered_active = False


def _reason(exc: Exception) -> str:
    original = getattr(exc, "orig", None) or exc
    return str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__


def _write_parquet(partitions: Iterator[Sequence[Any]], columns: tuple[str, ...], watermark: str,
                   path: Path) -> Pulled:  # fmt: skip
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([pa.field(name, pa.string()) for name in columns])
    position = columns.index(watermark)
    rows, low, high = 0, None, None
    writer: pq.ParquetWriter | None = None
    try:
        for part in partitions:
            batch = _text_batch(part, columns, schema)
            if writer is None:
                # Fixed settings and nothing time-dependent in the file: the same rows, the same bytes.
                writer = pq.ParquetWriter(path, schema, compression="zstd", compression_level=3,
                                          use_dictionary=True, write_statistics=True)  # fmt: skip
            writer.write_table(batch)
            rows += batch.num_rows
            marks = [r[position] for r in part if r[position] is not None]
            if marks:
                low = min(marks) if low is None else min(low, min(marks))
                high = max(marks) if high is None else max(high, max(marks))
    finally:
        if writer is not None:
            writer.close()
    return Pulled(rows=rows, columns=columns, watermark_min=low, watermark_max=high)


def _text_batch(part: Sequence[Any], columns: tuple[str, ...], schema: pa.Schema) -> pa.Table:
    import pyarrow as pa

    arrays = []
    for name, values in zip(columns, zip(*part, strict=True) if part else [()] * len(columns), strict=True):
        try:
            arrays.append(pa.array(values, pa.string()))  # text columns (most of them) as they are
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            try:
                arrays.append(pa.array([cell_text(v) for v in values], pa.string()))
            except UnicodeDecodeError:
                raise SourceError(f"column {name!r} holds binary data that is not UTF-8 text") from None
    return pa.Table.from_arrays(arrays, schema=schema)


def _state_key(ref: SourceRef) -> str:
    return f"sources/{ref.id}/pull-state.json"


def covered_until(storage: Storage, ref: SourceRef) -> dt.datetime | None:
    """Where the contiguous span of processed pulls of this source ends (None before the first)."""
    key = _state_key(ref)
    if not storage.exists(key):
        return None
    value = storage.read_json(key).get("covered_until")
    return dt.datetime.fromisoformat(value) if value else None


def _save_covered(storage: Storage, ref: SourceRef, window: Window) -> None:
    covered = advance_covered(covered_until(storage, ref), window)
    if covered is not None:
        storage.put_json(_state_key(ref), {"source": ref.id, "covered_until": covered.isoformat()})


def default_window(storage: Storage, ref: SourceRef) -> Window:
    """From where processed pulls left off (or the beginning) to now, to the second."""
    return Window(since=covered_until(storage, ref), until=now().replace(microsecond=0))


def pickups(
    ref: SourceRef, storage: Storage, options: FetchOptions, report: FetchReport
) -> Iterator[PullPickup]:
    """One pull over the window: a pickup for its Parquet delivery, or none when no row changed."""
    window = options.window or default_window(storage, ref)
    if ref.source.conn_id is None:
        raise SourceError(f"source {ref.id} has no conn_id")
    conn = get_connection(ref.source.conn_id)
    folder = Path(tempfile.mkdtemp(prefix="credit-etl-pull-"))
    try:
        name = f"{ref.id}__{window.label()}.parquet"
        path = folder / name
        log.info("%s: pulling %s <= %s < %s", ref.id, window.since, ref.source.watermark, window.until)
        pulled = pull(ref, conn, window, path, chunk_rows=options.chunk_rows, timeout=options.connect_timeout)
        if pulled.rows == 0:
            report.notes.append(f"no rows with {ref.source.watermark} in [{window.since or 'start'}, "
                                f"{window.until}): nothing to deliver")  # fmt: skip
            _save_covered(storage, ref, window)
            return
        drop = receive_file(storage, path, dataset=ref.dataset.id, department=ref.source.department,
                            source=ref.id, file_name=name,
                            change_date=change_date(pulled.watermark_max))  # fmt: skip
        storage.put_json(f"{drop.raw_key}.pull.json", _manifest(ref, conn, window, pulled, drop))
        yield PullPickup(drop=drop, storage=storage, ref=ref, window=window)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _manifest(ref: SourceRef, conn: Connection, window: Window, pulled: Pulled, drop: Drop) -> dict[str, Any]:
    return {
        "source": ref.id,
        "connection": conn.conn_id,
        "relation": ref.source.table or "query",
        "watermark": ref.source.watermark,
        "since": window.since.isoformat() if window.since else None,
        "until": window.until.isoformat(),
        "rows": pulled.rows,
        "columns": list(pulled.columns),
        "watermark_min": cell_text(pulled.watermark_min),
        "watermark_max": cell_text(pulled.watermark_max),
        "sha256": drop.sha256,
        "file_name": drop.file_name,
        "pulled_at": drop.received_at.isoformat(),
    }


@dataclass
class PullPickup:
    """A pulled window, archived; once processed, the covered span moves past it."""

    drop: Drop
    storage: Storage
    ref: SourceRef
    window: Window

    def finish(self, result: LoadResult) -> None:
        if result.ledger.status != "failed":
            _save_covered(self.storage, self.ref, self.window)

    def abandon(self) -> None:
        """Nothing to undo: the window stays uncovered and is pulled again by the next run."""
