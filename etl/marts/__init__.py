"""Credit marts built from the dataset tables: subject profiles (信用档案), the joint red and black
lists and the key supervision targets (重点监管对象).

- ``etl.marts.subjects``: which record names which subject (the subject key) — SQL expressions;
- ``etl.marts.rules``: what counts as a serious penalty and when a subject is a key target;
- ``etl.marts.facts``: each dataset table's records as subject facts (``sql/marts/facts_select.sql``);
- ``etl.marts.build``: ``refresh_marts(warehouse, catalog)``, full or incremental;
- ``etl.marts.read``: profiles, list memberships on a date, facts of a subject;
- ``etl.marts.lookup``, ``etl.marts.export``: what ``credit-etl lookup`` and ``export`` do;
- ``etl.marts.task``: the callable of ``dags/credit_marts.py``.

The SQL lives in ``sql/marts/`` (tables: ``sql/migrations/0003_marts.sql``).
"""
