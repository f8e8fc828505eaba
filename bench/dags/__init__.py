"""DAG parse time: the DAG folder parsed as Airflow's DAG processor does, for the shipped catalog and
a generated 100-dataset one, against a one-DAG file parsed the same way.

Run as ``python -m bench.dags`` (``--help`` for options).
"""
