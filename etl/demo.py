"""``make demo``: the whole job on realistic synthetic deliveries, from a fresh checkout, through Airflow.

Steps, each printed as it goes:

1. check the catalog and write the demo deliveries of every source (with their answer keys) under
   ``$CREDIT_ETL_HOME/demo`` — landing zones, SFTP folders, department tables;
2. load the department tables into the local PostgreSQL (one database per connection id), so the
   database DAGs pull over a real connection; without a reachable server they are left out, said so;
3. create Airflow's metadata database (SQLite, ``$CREDIT_ETL_HOME/airflow``) and the one-slot
   ``duckdb_warehouse`` pool; start from an empty warehouse and storage root;
4. run every DAG once, end to end, through Airflow (``DAG.test``, what ``airflow dags test`` runs):
   source DAGs first, then any others (freshness monitor, quality report) found in ``dags/``;
5. print a summary: deliveries, rows loaded and rejected per dataset, the latest delivery per dataset,
   where the feedback files are, and how to open the Airflow UI on the same data.

SFTP sources need an SFTP server per department; the demo has none, so their DAGs are listed as not
run. Running the demo again starts over and gives the same result.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from etl import settings
from etl.errors import CreditEtlError, SourceError

# Rows per delivery at scale 1 are 100-400: enough to see every defect kind in every dataset.
DEMO_SCALE = 1.0
# The demo's files are complete when written: a poll need not watch them for long.
DEMO_STABLE_SECONDS = "0.2"
DAG_RUN_TIMEOUT = 900


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
    skipped = {ref.id: "no SFTP server in the demo" for ref in refs if ref.source.method == "sftp"}
    try:
        from etl.orchestration import demo_sources

        env.update(demo_sources.load(refs, work))
        say(f"department databases: {sum(r.source.method == 'database' for r in refs)} tables in the local "
            "PostgreSQL")  # fmt: skip
    except SourceError as exc:
        say(f"department databases: {exc}; database DAGs not run")
        skipped.update({r.id: "PostgreSQL not reachable" for r in refs if r.source.method == "database"})
    results = _run_airflow(env, work, [r for r in refs if r.id not in skipped], say)
    summary = {"manifest": manifest, "results": results, "skipped": skipped, "env": env}
    for line in summary_lines(work, env, results, skipped, catalog):
        say(line)
    return summary


def _environment(work: Path) -> dict[str, str]:
    from etl.orchestration.airflow_env import airflow_environment, sqlite_url

    home = airflow_home()
    env = airflow_environment(home, sqlite_url(home / "airflow.db"))
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


def _run_airflow(env: dict[str, str], work: Path, refs: list[Any], say: Callable[[str], None]
                 ) -> list[dict[str, Any]]:  # fmt: skip
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
    plan = [{"dag_id": r.id, "conf": initial_load if r.source.method == "database" else None} for r in refs]
    plan += [{"dag_id": dag_id, "conf": None} for dag_id in _other_dags(env, {r.id for r in refs})]
    plan_file, results_file = work / "airflow-plan.json", work / "airflow-runs.jsonl"
    log_file = work / "airflow.log"
    plan_file.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    say(f"airflow: running {len(plan)} DAGs once each (DAG.test, as `airflow dags test`); log in {log_file}")
    started = time.monotonic()
    with log_file.open("w", encoding="utf-8") as log:
        done = subprocess.run([sys.executable, "-m", "etl.orchestration.run_dags", str(results_file),
                               str(plan_file)], env=env, stdout=log, stderr=subprocess.STDOUT,
                              timeout=DAG_RUN_TIMEOUT, check=False)  # fmt: skip
    results = [json.loads(line) for line in results_file.read_text(encoding="utf-8").splitlines()] \
        if results_file.exists() else []  # fmt: skip
    if done.returncode != 0 or len(results) != len(plan):
        raise CreditEtlError(f"the DAG runs stopped early (exit {done.returncode}); see {log_file}")
    say(f"airflow: {sum(r['state'] == 'success' for r in results)} of {len(results)} DAG runs succeeded "
        f"in {time.monotonic() - started:.0f} s")  # fmt: skip
    return results


def _now_iso() -> str:
    from etl.drop import now

    return now().replace(microsecond=0).isoformat()


def _other_dags(env: dict[str, str], sources: set[str]) -> list[str]:
    """DAGs in the folder besides the source DAGs (freshness monitor, quality report), by file name."""
    import re

    folder = Path(env["AIRFLOW__CORE__DAGS_FOLDER"])
    found = []
    for path in sorted(folder.glob("*.py")):
        if path.name == "credit_sources.py":
            continue
        found += re.findall(r"dag_id\s*=\s*[\"']([A-Za-z0-9_.-]+)[\"']", path.read_text(encoding="utf-8"))
    return [dag_id for dag_id in found if dag_id not in sources]


def summary_lines(work: Path, env: dict[str, str], results: list[dict[str, Any]], skipped: dict[str, str],
                  catalog: Any) -> list[str]:  # fmt: skip
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
    failed = [r for r in results if r["state"] != "success"]
    for result in failed:
        lines.append(f"  DAG {result['dag_id']}: {result['state']} {result.get('error', '')}".rstrip())
    for dag_id, reason in sorted(skipped.items()):
        lines.append(f"  DAG {dag_id}: not run ({reason})")
    lines += _freshness_lines(env, results)
    lines += [
        "",
        f"feedback files for the departments: {work / 'storage' / 'feedback'} "
        f"(copies in each landing zone's outbox/ under {work / 'landing'})",
        f"answer keys of the injected defects: {work / 'answer_keys'}",
        f"warehouse: {env['CREDIT_ETL_WAREHOUSE']}; Airflow: {airflow_home()}",
    ]
    lines += standalone_instructions(work, env)
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


def _freshness_lines(env: dict[str, str], results: list[dict[str, Any]]) -> list[str]:
    """Freshness and the quality report come from their own DAGs, when the folder has them."""
    folder = Path(env["AIRFLOW__CORE__DAGS_FOLDER"])
    lines = []
    for name, what in (("freshness_monitor.py", "freshness state"), ("quality_report.py", "quality report")):
        if not (folder / name).exists():
            lines.append(f"  {what}: not in this checkout yet (dags/{name})")
    others = [r for r in results if r["dag_id"] not in _source_dag_ids()]
    for result in others:
        lines.append(f"  {result['dag_id']}: {result['state']} (see its task logs in the Airflow UI)")
    return lines


def _source_dag_ids() -> set[str]:
    from etl.catalog import load_catalog

    return {ref.id for ref in load_catalog(settings.catalog_dir()).sources()}


def standalone_instructions(work: Path, env: dict[str, str]) -> list[str]:
    """How to open the Airflow UI on the demo's runs: an env file to source, then `airflow standalone`."""
    prefixes = ("AIRFLOW__", "AIRFLOW_CONN_", "CREDIT_ETL_", "AIRFLOW_HOME")
    names = sorted(k for k in env if k.startswith(prefixes))
    env_file = work / "airflow.env"
    env_file.write_text("".join(f"export {k}={_quote(env[k])}\n" for k in names), encoding="utf-8")
    port = env.get("AIRFLOW__API__PORT", "8080")
    venv = Path(sys.executable).parent
    return [
        "",
        "open the Airflow UI on the same data:",
        f"  source {venv}/activate && source {env_file} && airflow standalone",
        f"  then browse http://127.0.0.1:{port} (every user is an admin; the DAGs start paused, the demo's "
        "runs are there)",
    ]


def _quote(value: str) -> str:
    import shlex

    return shlex.quote(value)


def main(argv: Sequence[str] | None = None) -> int:
    from etl.demo_data import DEFAULT_SEED

    parser = argparse.ArgumentParser(prog="python -m etl.demo", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--work", type=Path, default=None, help="work directory (default $CREDIT_ETL_HOME/demo)"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--scale", type=float, default=DEMO_SCALE)
    parser.add_argument("--no-airflow", action="store_true", help="only write the demo deliveries")
    args = parser.parse_args(argv)
    try:
        run((args.work or demo_directory()).resolve(), seed=args.seed, scale=args.scale,
            run_dags=not args.no_airflow)  # fmt: skip
    except CreditEtlError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
