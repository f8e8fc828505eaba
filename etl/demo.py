"""``make demo``: the whole job on realistic synthetic deliveries, from a fresh checkout, through Airflow.

Steps, each printed as it goes:

1. check the catalog and write the demo deliveries of every source (with their answer keys) under
   ``$CREDIT_ETL_HOME/demo`` — landing zones, SFTP folders, department tables;
2. load the department tables into the local PostgreSQL (one database per connection id), so the
   database DAGs pull over a real connection; without a reachable server they are left out, said so;
3. serve the SFTP folders on loopback (``etl.orchestration.demo_sftp``: paramiko, one account per
   department, its host key pinned in the connections), for as long as the DAGs run;
4. create Airflow's metadata database (SQLite, ``$CREDIT_ETL_HOME/airflow``) and the one-slot
   ``duckdb_warehouse`` pool; start from an empty warehouse and storage root;
5. run every DAG of ``dags/`` once, end to end, through Airflow (``DAG.test``, what ``airflow dags
   test`` runs): the source DAGs first, then those scheduled on Assets, then the others (freshness
   monitor, NDRC report…), found by parsing the folder, so a new DAG file is run with no change here;
6. write the NDRC quality report for the current month when ``credit-etl report`` exists;
7. print a summary: deliveries, rows loaded and rejected per dataset, freshness, the other DAGs'
   outcome, where the feedback files and the report are, and how to open the Airflow UI on the same
   data (``python -m etl.demo ui``, ``make ui``: ``airflow standalone`` with the demo's environment and
   its SFTP server).

Running the demo again starts over and gives the same result.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from etl import settings
from etl.errors import CreditEtlError, SourceError, UsageError

# Rows per delivery at scale 1 are 100-400: enough to see every defect kind in every dataset.
DEMO_SCALE = 1.0
# The demo's files are complete when written: a poll need not watch them for long.
DEMO_STABLE_SECONDS = "0.2"
DAG_RUN_TIMEOUT = 900
DEFAULT_UI_PORT = 8080
REPORT_COMMAND = "etl.cli.report_cmd"
REPORT_TIMEOUT = 300


def demo_directory() -> Path:
    return settings.home() / "demo"


def airflow_home() -> Path:
    return settings.home() / "airflow"


def run(work: Path, *, seed: int, scale: float, say: Callable[[str], None] = print,
        run_dags: bool = True) -> dict[str, Any]:  # fmt: skip
    """The demo job, step by step; returns what the summary was made from."""
    from etl.catalog import load_catalog
    from etl.demo_data import generate
    from etl.demo_data.summary import summarise

    catalog = load_catalog(settings.catalog_dir())
    refs = list(catalog.sources())
    say(f"catalog ok: {len(catalog.departments)} departments, {len(catalog.datasets)} datasets, "
        f"{len(refs)} sources")  # fmt: skip
    manifest = generate(work, seed=seed, scale=scale, catalog=catalog)
    for line in summarise(manifest, work):
        say(line)
    if not run_dags:
        return {"manifest": manifest}

    env = _environment(work)
    skipped: dict[str, str] = {}
    try:
        from etl.orchestration import demo_sources

        env.update(demo_sources.load(refs, work))
        say(f"department databases: {sum(r.source.method == 'database' for r in refs)} tables in the local "
            "PostgreSQL")  # fmt: skip
    except SourceError as exc:
        say(f"department databases: {exc}; database DAGs not run")
        skipped.update({r.id: "PostgreSQL not reachable" for r in refs if r.source.method == "database"})
    with sftp_server(work, refs) as sftp:
        if sftp is not None:
            env.update(sftp_connections(sftp, refs))
            say(f"SFTP: {len(sftp.accounts)} department accounts on sftp://127.0.0.1:{sftp.port}, serving "
                f"{work / 'sftp'} (host key pinned in the connections; log {sftp.log_file})")  # fmt: skip
        results = _run_airflow(env, work, refs, skipped, say)
    report = quality_report(env, work, say)
    summary = {"manifest": manifest, "results": results, "skipped": skipped, "env": env, "report": report}
    for line in summary_lines(work, env, results, skipped, catalog, report):
        say(line)
    return summary


@contextlib.contextmanager
def sftp_server(work: Path, refs: Sequence[Any]) -> Iterator[Any]:
    """The demo SFTP server for the SFTP sources' departments (None when the catalog has none)."""
    from etl.orchestration.demo_sftp import DemoSftpServer

    departments = sorted({r.source.department for r in refs if r.source.method == "sftp"})
    if not departments:
        yield None
        return
    with DemoSftpServer(work / "sftp-server", {d: work / "sftp" / d for d in departments}) as server:
        yield server


def sftp_connections(server: Any, refs: Sequence[Any]) -> dict[str, str]:
    """``AIRFLOW_CONN_*`` of the SFTP sources: each connection logs in as its department."""
    logins: dict[str, str] = {}
    for ref in refs:
        if ref.source.method != "sftp" or ref.source.conn_id is None:
            continue
        login = logins.setdefault(ref.source.conn_id, ref.source.department)
        if login != ref.source.department:
            raise UsageError(f"connection {ref.source.conn_id} serves departments {login} and "
                             f"{ref.source.department}: the demo gives each department its own account")
    return server.connections(logins)


def _environment(work: Path, api_port: int = DEFAULT_UI_PORT) -> dict[str, str]:
    from etl.orchestration.airflow_env import airflow_environment, sqlite_url

    home = airflow_home()
    env = airflow_environment(home, sqlite_url(home / "airflow.db"), api_port=api_port)
    env.update({
        "CREDIT_ETL_HOME": str(settings.home()),
        "CREDIT_ETL_CATALOG": str(settings.catalog_dir()),
        "CREDIT_ETL_LANDING": str(work / "landing"),
        "CREDIT_ETL_STORAGE": str(work / "storage"),
        "CREDIT_ETL_WAREHOUSE": f"duckdb:///{work / 'warehouse.duckdb'}",
        "CREDIT_ETL_STABLE_SECONDS": DEMO_STABLE_SECONDS,
        # One run each: a failure is reported in the summary, not retried after minutes of back-off.
        "CREDIT_ETL_DAG_RETRIES": "0",
    })  # fmt: skip
    return env


def _run_airflow(env: dict[str, str], work: Path, refs: list[Any], skipped: dict[str, str],
                 say: Callable[[str], None]) -> list[dict[str, Any]]:  # fmt: skip
    import subprocess

    from etl.orchestration.airflow_env import prepare

    for stale in (work / "storage", work / "warehouse.duckdb", work / "airflow-runs.jsonl"):
        if stale.is_dir():
            shutil.rmtree(stale)
        else:
            stale.unlink(missing_ok=True)
    started = time.monotonic()
    prepare(env)
    say(f"airflow: metadata database and pool ready in {airflow_home()} "
        f"({time.monotonic() - started:.0f} s)")
    now = _now_iso()
    # Database DAGs pull everything up to now (an initial load), not just yesterday's interval.
    initial_load = {"since": None, "until": now}
    plan = [{"dag_id": r.id, "skip": skipped[r.id]} if r.id in skipped else
            {"dag_id": r.id, "conf": initial_load if r.source.method == "database" else None}
            for r in refs]  # fmt: skip
    plan_file, results_file = work / "airflow-plan.json", work / "airflow-runs.jsonl"
    log_file = work / "airflow.log"
    plan_file.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    say(f"airflow: running the {len(refs) - len(skipped)} source DAGs, then every other DAG in "
        f"{env['AIRFLOW__CORE__DAGS_FOLDER']}, once each (DAG.test, as `airflow dags test`); "
        f"log in {log_file}")
    started = time.monotonic()
    with log_file.open("w", encoding="utf-8") as log:
        done = subprocess.run([sys.executable, "-m", "etl.orchestration.run_dags", str(results_file),
                               str(plan_file), "--all"], env=env, stdout=log, stderr=subprocess.STDOUT,
                              timeout=DAG_RUN_TIMEOUT, check=False)  # fmt: skip
    results = [json.loads(line) for line in results_file.read_text(encoding="utf-8").splitlines()] \
        if results_file.exists() else []  # fmt: skip
    expected = {entry["dag_id"] for entry in plan if not entry.get("skip")}
    if done.returncode != 0 or not expected <= {r["dag_id"] for r in results}:
        raise CreditEtlError(f"the DAG runs stopped early (exit {done.returncode}); see {log_file}")
    say(f"airflow: {sum(r['state'] == 'success' for r in results)} of {len(results)} DAG runs succeeded "
        f"in {time.monotonic() - started:.0f} s")  # fmt: skip
    return results


def _now_iso() -> str:
    from etl.drop import now

    return now().replace(microsecond=0).isoformat()


def summary_lines(work: Path, env: dict[str, str], results: list[dict[str, Any]], skipped: dict[str, str],
                  catalog: Any, report: str) -> list[str]:  # fmt: skip
    """The closing summary: the ledger per dataset, the runs, where to look, how to open the UI."""
    from etl.drop import SHANGHAI
    from etl.warehouse import open_warehouse

    warehouse = open_warehouse(env["CREDIT_ETL_WAREHOUSE"])
    rows = warehouse.ledger()
    freshness = dataset_freshness(catalog, warehouse)
    header = f"  {'dataset':<40} {'deliveries':>10} {'loaded':>8} {'rejected':>9}  {'freshness':<10} latest"
    title = "summary (from the warehouse ledger; freshness: the worst state of the dataset's sources today):"
    lines = ["", title, header]
    for dataset_id in sorted(catalog.datasets):
        mine = [r for r in rows if r.dataset == dataset_id and r.status != "duplicate"]
        latest = max((r.received_at for r in mine), default=None)
        when = latest.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if latest else "未报送"
        lines.append(f"  {dataset_id:<40} {len(mine):>10} {sum(r.rows_loaded for r in mine):>8} "
                     f"{sum(r.rows_rejected for r in mine):>9}  {freshness.get(dataset_id, '?'):<10} "
                     f"{when}")  # fmt: skip
    statuses: dict[str, int] = {}
    for row in rows:
        statuses[row.status] = statuses.get(row.status, 0) + 1
    counts = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
    lines.append(f"  ledger: {len(rows)} rows, {counts}")
    sources = {ref.id for ref in catalog.sources()}
    for result in results:
        if result["dag_id"] in sources and result["state"] != "success":
            lines.append(f"  DAG {result['dag_id']}: {result['state']} {result.get('error', '')}".rstrip())
    for dag_id, reason in sorted(skipped.items()):
        lines.append(f"  DAG {dag_id}: not run ({reason})")
    ran = sum(r["dag_id"] in sources and r["state"] == "success" for r in results)
    methods = sorted({ref.source.method for ref in catalog.sources()})
    lines.append(f"  source DAGs: {ran} of {len(sources)} succeeded ({', '.join(methods)})")
    lines += other_dag_lines([r for r in results if r["dag_id"] not in sources])
    lines += [
        "",
        f"feedback files for the departments: {work / 'storage' / 'feedback'} "
        f"(copies in each landing zone's outbox/ under {work / 'landing'})",
        f"quality report: {report}",
        f"answer keys of the injected defects: {work / 'answer_keys'}",
        f"SFTP folders (processed files moved to each source's archive folder or left and remembered): "
        f"{work / 'sftp'}",
        f"warehouse: {env['CREDIT_ETL_WAREHOUSE']}; Airflow: {airflow_home()}",
    ]
    lines += standalone_instructions(work, env)
    return lines


def other_dag_lines(results: list[dict[str, Any]]) -> list[str]:
    """One line per platform DAG run (freshness monitor, marts, report…): its state and its tasks'."""
    lines = []
    for result in results:
        states: dict[str, int] = {}
        for state in result["tasks"].values():
            states[state] = states.get(state, 0) + 1
        tasks = ", ".join(f"{state} {n}" for state, n in sorted(states.items()))
        if set(states) == {"skipped"}:
            tasks += ": nothing to do at this date (e.g. not a working day)"
        error = f" {result['error']}" if result.get("error") else ""
        lines.append(f"  DAG {result['dag_id']}: {result['state']}{error}"
                     f"{f' (tasks: {tasks})' if tasks else ''}")  # fmt: skip
    return lines


def dataset_freshness(catalog: Any, warehouse: Any) -> dict[str, str]:
    """Dataset id -> the worst freshness state of its sources today (``etl.freshness``)."""
    from etl import freshness
    from etl.calendar import WorkCalendar
    from etl.drop import now
    from etl.freshness_queries import read_deliveries

    today = now().date()
    states: dict[str, str] = {}
    calendar = WorkCalendar.from_catalog(catalog)
    for source in freshness.evaluate(catalog, read_deliveries(warehouse), today, calendar):
        current = states.get(source.dataset)
        if current is None or freshness.STATES.index(source.state) < freshness.STATES.index(current):
            states[source.dataset] = source.state
    return states


def quality_report(env: dict[str, str], work: Path, say: Callable[[str], None] = print) -> str:
    """Writes the NDRC quality report of the current month with ``credit-etl report`` (when this
    checkout has that command) into ``work/report``; returns where it is, or why there is none."""
    import subprocess

    from etl.drop import now

    if importlib.util.find_spec(REPORT_COMMAND) is None:
        return "not written: this checkout has no `credit-etl report` yet"
    period, out = now().strftime("%Y-%m"), work / "report"
    shutil.rmtree(out, ignore_errors=True)
    started = time.monotonic()
    command = [sys.executable, "-m", "etl", "report", "--period", period, "--out", str(out)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=REPORT_TIMEOUT,
                          check=False)  # fmt: skip
    if done.returncode != 0:
        tail = " ".join((done.stdout + done.stderr).split()[-40:])
        say(f"credit-etl report --period {period}: failed (exit {done.returncode}): {tail}")
        return f"not written: `credit-etl report --period {period}` exited {done.returncode}"
    say(f"credit-etl report --period {period}: written to {out} in {time.monotonic() - started:.0f} s")
    written = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    page = out / "report.html"
    return f"{page if page.exists() else out} ({', '.join(written)}; period {period})"


def standalone_instructions(work: Path, env: dict[str, str]) -> list[str]:
    """How to open the Airflow UI on the demo's runs; writes the environment file it names."""
    env_file = write_env_file(work, env)
    port = env.get("AIRFLOW__API__PORT", str(DEFAULT_UI_PORT))
    venv = Path(sys.executable).parent
    return [
        "",
        "open the Airflow UI on the same data (airflow standalone, the demo's environment and SFTP server):",
        f"  make ui      (or: {sys.executable} -m etl.demo ui [--port {port}]); Ctrl-C stops it",
        f"  then browse http://127.0.0.1:{port} (every user is an admin; the DAGs start paused, the demo's "
        "runs are there)",
        f"  by hand, without the SFTP server: source {venv}/activate && source {env_file} && "
        "airflow standalone",
    ]


def write_env_file(work: Path, env: dict[str, str]) -> Path:
    """``work/airflow.env``: the Airflow, connection and credit-etl variables, as shell exports (0600:
    the connections hold the demo's passwords)."""
    prefixes = ("AIRFLOW__", "AIRFLOW_CONN_", "CREDIT_ETL_", "AIRFLOW_HOME")
    names = sorted(k for k in env if k.startswith(prefixes))
    env_file = work / "airflow.env"
    env_file.touch(mode=0o600)
    env_file.write_text("".join(f"export {k}={_quote(env[k])}\n" for k in names), encoding="utf-8")
    return env_file


def open_ui(work: Path, port: int = DEFAULT_UI_PORT, say: Callable[[str], None] = print) -> int:
    """``airflow standalone`` on the demo's Airflow home and data, with the department databases'
    connections and the demo SFTP server, until interrupted (Ctrl-C or SIGTERM); then everything it
    started is stopped. Returns standalone's exit status."""
    import signal
    import subprocess

    from etl.catalog import load_catalog
    from etl.orchestration import demo_sources
    from etl.orchestration.airflow_env import airflow_bin
    from etl.orchestration.process_group import stop_group

    if not (airflow_home() / "airflow.db").exists() or not (work / "warehouse.duckdb").exists():
        raise UsageError(f"no demo under {settings.home()}: run `make demo` first")
    refs = list(load_catalog(settings.catalog_dir()).sources())
    try:
        env = _environment(work, api_port=port)
    except ValueError as exc:  # a port Airflow's own servers need
        raise UsageError(str(exc)) from None
    if _listening(port):
        raise UsageError(f"port {port} is taken on 127.0.0.1: choose another (make ui PORT=N, or --port N)")
    env.update(demo_sources.connections(refs, work))
    # A SIGTERM (a service manager, a test) ends the UI as Ctrl-C does: through the clean-up below.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with sftp_server(work, refs) as sftp:
        if sftp is not None:
            env.update(sftp_connections(sftp, refs))
        for line in standalone_instructions(work, env)[1:4]:
            say(line)
        # Its own process group: Ctrl-C reaches this process only, which then stops the whole group.
        process = subprocess.Popen([str(airflow_bin()), "standalone"], env=env, stdin=subprocess.DEVNULL,
                                   process_group=0)  # fmt: skip
        try:
            return process.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            stop_group(process.pid, [process])


def _quote(value: str) -> str:
    import shlex

    return shlex.quote(value)


def _listening(port: int) -> bool:
    import socket

    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


def main(argv: Sequence[str] | None = None) -> int:
    from etl.demo_data import DEFAULT_SEED

    parser = argparse.ArgumentParser(prog="python -m etl.demo", description=__doc__.splitlines()[0])
    parser.add_argument("action", nargs="?", choices=("run", "ui"), default="run",
                        help="run: the demo (default); ui: Airflow's UI on the demo's data")  # fmt: skip
    parser.add_argument(
        "--work", type=Path, default=None, help="work directory (default $CREDIT_ETL_HOME/demo)"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--scale", type=float, default=DEMO_SCALE)
    parser.add_argument("--no-airflow", action="store_true", help="only write the demo deliveries")
    parser.add_argument("--port", type=int, default=DEFAULT_UI_PORT, help="ui: the Airflow UI's port")
    args = parser.parse_args(argv)
    work = (args.work or demo_directory()).resolve()
    try:
        if args.action == "ui":
            return open_ui(work, args.port)
        started = time.monotonic()
        run(work, seed=args.seed, scale=args.scale, run_dags=not args.no_airflow)
        print(f"\ndemo finished in {time.monotonic() - started:.0f} s")
    except CreditEtlError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
