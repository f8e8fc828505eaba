"""DAG parse time for the shipped catalog and a generated 100-dataset catalog (target: 2 s each).

Each measurement is a fresh interpreter (``parse_probe.py``) that imports ``airflow.sdk`` first, as
the DAG processor has before it parses a file, then times ``DagBag`` over the DAG folder; every
outgoing connection is refused and counted. The baseline is a folder holding one trivial TaskFlow
DAG, parsed the same way in the same run, so the figures can be read as a ratio on any machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.dags.generated_catalog import write_catalog
from etl.orchestration.airflow_env import DAGS_FOLDER, airflow_environment, sqlite_url

PROBE = Path(__file__).with_name("parse_probe.py")
TARGET_SECONDS = 2.0
BASELINE_DAG = '''
import pendulum
from airflow.sdk import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"), catchup=False)
def baseline():
    @task
    def hello():
        return 1

    hello()


baseline()
'''


def measure(folder: Path, env: dict[str, str], out: Path) -> dict:
    done = subprocess.run([sys.executable, str(PROBE), str(folder), str(out)], env=env, capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"parse probe failed:\n{done.stderr[-3000:]}")
    return json.loads(out.read_text(encoding="utf-8"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dags", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="fresh interpreters per case (default 5)")
    parser.add_argument("--datasets", type=int, default=100, help="size of the generated catalog")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-dags-") as tmp_name:
        tmp = Path(tmp_name)
        env = airflow_environment(tmp / "airflow", sqlite_url(tmp / "airflow" / "airflow.db"))
        env.update(CREDIT_ETL_HOME=str(tmp / "home"))
        env.pop("CREDIT_ETL_CATALOG", None)
        baseline = tmp / "baseline"
        baseline.mkdir()
        (baseline / "baseline.py").write_text(BASELINE_DAG, encoding="utf-8")
        generated = write_catalog(tmp / "catalog", args.datasets)
        cases = [
            ("one trivial DAG (baseline)", baseline, env),
            ("shipped catalog", DAGS_FOLDER, env),
            (f"{args.datasets}-dataset catalog", DAGS_FOLDER, {**env, "CREDIT_ETL_CATALOG": str(generated)}),
        ]
        results = {}
        for _ in range(args.repeat):  # interleaved, so that all cases meet the same machine load
            for label, folder, case_env in cases:
                report = measure(folder, case_env, tmp / "report.json")
                if report["import_errors"] or report["connection_attempts"]:
                    raise SystemExit(f"{label}: import errors or connections: {report}")
                results.setdefault(label, []).append(report)
    base = statistics.median(r["parse_seconds"] for r in results[cases[0][0]])
    print(f"DAG folder parse time, median (max) of {args.repeat} fresh interpreters; "
          f"target {TARGET_SECONDS:g} s")
    print(f"{'case':<28} {'DAGs':>5} {'parse s':>9} {'max s':>7} {'x baseline':>11} {'process s':>10}"
          "  within target")
    worst = 0.0
    for label, _, _ in cases:
        runs = results[label]
        parse = [r["parse_seconds"] for r in runs]
        whole = statistics.median(r["process_seconds"] for r in runs)
        median = statistics.median(parse)
        if label != cases[0][0]:
            worst = max(worst, max(parse))
        verdict = "yes" if max(parse) < TARGET_SECONDS else "NO"
        print(f"{label:<28} {len(runs[0]['dags']):>5} {median:>9.3f} {max(parse):>7.3f} "
              f"{median / base:>11.1f} {whole:>10.2f}  {verdict}")
    print("parse s: DagBag over the folder after `import airflow.sdk`, as in the DAG processor; "
          "process s: the whole fresh interpreter, imports included")
    return 0 if worst < TARGET_SECONDS else 1
