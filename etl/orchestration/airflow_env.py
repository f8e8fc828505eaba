"""A local Airflow for the project's DAGs: environment, metadata database, pool, servers.

Airflow is configured entirely through ``AIRFLOW__SECTION__KEY`` variables, so the same settings
serve ``make demo`` (SQLite metadata, tasks run in-process by ``airflow dags test``), the backfill
test (PostgreSQL metadata, LocalExecutor, real scheduler) and ``airflow standalone`` on the demo
data::

    env = airflow_environment(Path("var/airflow"), sqlite_url(Path("var/airflow/airflow.db")))
    prepare(env)                           # airflow db migrate; pool duckdb_warehouse, 1 slot
    with AirflowServers(env) as servers:   # scheduler, dag-processor, api-server
        run_airflow(["backfill", "create", …], env)

Why these settings: LocalExecutor starts ``[core] parallelism`` worker processes, two fit this
machine's two cores; the API server must not take 8793, the workers' log-server port; workers reach
the metadata database only through the API server's execution API, so its URL is set explicitly.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from etl import settings
from etl.dag_specs import WAREHOUSE_POOL
from etl.orchestration.process_group import stop_group

DAGS_FOLDER = settings.PROJECT_ROOT / "dags"
LOG_SERVER_PORT = 8793
DEFAULT_PARALLELISM = 2


def airflow_bin() -> Path:
    """The ``airflow`` of this interpreter's environment (the project's virtual environment)."""
    return Path(sys.executable).with_name("airflow")


def sqlite_url(path: Path) -> str:
    """>>> sqlite_url(Path("/var/airflow/airflow.db"))
    'sqlite:////var/airflow/airflow.db'
    """
    return f"sqlite:///{path.resolve()}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now (never the log server's)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port != LOG_SERVER_PORT:
            return port


def airflow_environment(
    home: Path,
    metadata_url: str,
    *,
    api_port: int = 8080,
    parallelism: int = DEFAULT_PARALLELISM,
    executor: str = "LocalExecutor",
    dags_folder: Path = DAGS_FOLDER,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment for Airflow commands on the project's DAGs (``base`` defaults to ``os.environ``).

    >>> env = airflow_environment(Path("/srv/af"), "sqlite:////srv/af/airflow.db", base={})
    >>> env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"], env["AIRFLOW__CORE__PARALLELISM"]
    ('http://127.0.0.1:8080/execution/', '2')
    """
    if api_port == LOG_SERVER_PORT:
        raise ValueError(f"the API server cannot use port {LOG_SERVER_PORT}: the workers' log server has it")
    env = dict(os.environ if base is None else base)
    bin_dir = str(airflow_bin().parent)
    # `airflow standalone` and the executors start their parts with the `airflow` found on PATH.
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "") if env.get("PATH") else bin_dir
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": executor,
        "AIRFLOW__CORE__PARALLELISM": str(parallelism),
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Shanghai",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
        # Airflow would derive an asyncpg URL, a driver the project does not install; psycopg 3 does both.
        **({"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": metadata_url}
           if metadata_url.startswith("postgresql+psycopg://") else {}),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(LOG_SERVER_PORT),
        # The UI of a local installation: every user is an admin, no login page.
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
    })  # fmt: skip
    return env


def run_airflow(args: Sequence[str], env: Mapping[str, str], *, timeout: float = 300.0,
                check: bool = True) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Runs ``airflow ARGS``; raises ``RuntimeError`` with its output when it fails."""
    done = subprocess.run([str(airflow_bin()), *args], env=dict(env), capture_output=True, text=True,
                          timeout=timeout, check=False)  # fmt: skip
    if check and done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
        raise RuntimeError(f"airflow {' '.join(args)} exited {done.returncode}:\n{tail}")
    return done


def prepare(env: Mapping[str, str]) -> None:
    """Creates or upgrades the metadata database and the one-slot DuckDB warehouse pool."""
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    run_airflow(["db", "migrate"], env, timeout=600)
    run_airflow(["pools", "set", WAREHOUSE_POOL, "1", "DuckDB allows one writing process"], env)


class AirflowServers:
    """Scheduler, DAG processor and API server, in their own process group, stopped together.

    The whole group is stopped (``process_group.stop_group``): the servers' children go with them.
    """

    COMMANDS = (("scheduler",), ("dag-processor",), ("api-server",))

    def __init__(self, env: Mapping[str, str], *, log_dir: Path | None = None) -> None:
        self.env = dict(env)
        self.log_dir = log_dir or Path(self.env["AIRFLOW_HOME"]) / "logs" / "servers"
        self.processes: list[subprocess.Popen[bytes]] = []
        self.group: int | None = None

    def __enter__(self) -> AirflowServers:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:  # fmt: skip
        self.stop()

    def start(self, *, ready_timeout: float = 120.0) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for command in self.COMMANDS:
            log = (self.log_dir / f"{command[0]}.log").open("ab")
            process = subprocess.Popen(
                [str(airflow_bin()), *command], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # The first server leads a new group; the others join it.
                process_group=0 if self.group is None else self.group,
            )  # fmt: skip
            log.close()
            if self.group is None:
                self.group = process.pid
            self.processes.append(process)
        self.wait_until_ready(ready_timeout)

    def wait_until_ready(self, timeout: float) -> None:
        """Waits for the API server to answer its health check."""
        url = f"{self.env['AIRFLOW__API__BASE_URL']}/api/v2/monitor/health"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{process.args[1]} exited with {process.returncode}; "
                                       f"see {self.log_dir}")  # fmt: skip
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(1)
        raise RuntimeError(f"the Airflow API server did not answer {url} within {timeout:g} s; "
                           f"see {self.log_dir}")

    def stop(self, grace: float = 20.0) -> None:
        if self.group is None:
            return
        stop_group(self.group, self.processes, grace)
        self.group = None
