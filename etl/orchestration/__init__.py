"""Running the project's DAGs under a local Airflow: for ``make demo``, ``make ui`` and the integration tests.

- ``airflow_env``: the environment Airflow's commands run in (home, metadata database, DAG folder,
  parallelism that fits two cores, API port away from the log server's), the metadata database and
  the ``duckdb_warehouse`` pool, and the scheduler, DAG processor and API server in one process group;
- ``run_dags``: every DAG of the folder run once through ``DAG.test`` in one interpreter;
- ``demo_sources``: the department tables of the database sources, in the local PostgreSQL;
- ``demo_sftp``: the departments' SFTP folders served on loopback by paramiko (pinned host key);
- ``process_group``: stopping a server and everything it started, so nothing is left behind.
"""
