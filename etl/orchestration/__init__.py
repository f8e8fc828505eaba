"""Running the project's DAGs under a local Airflow: for ``make demo`` and the integration tests.

``airflow_env`` builds the environment Airflow's commands run in (home, metadata database, DAG folder,
parallelism that fits two cores, API port away from the log server's), prepares the metadata database
and the ``duckdb_warehouse`` pool, and starts the scheduler, DAG processor and API server in their
own process group so that stopping them leaves nothing behind.
"""
