"""The NDRC data-quality report (发改委数据质量报告) of a month or half-month.

    warehouse ──queries──▶ ReportInputs ──metrics──▶ figures (dict) ──┬─ tables ─┬─ html  ─▶ report.html
                                                                       │          └─ workbook ▶ report.xlsx
                                                                       └────────────────────▶ metrics.json

- ``period``: ``ReportPeriod`` (a month or a half), the six periods of the trend;
- ``queries``: what is read from the warehouse (ledger, quarantine, later loads of rejected keys,
  双公示 records, subject identifiers, alert rows), on DuckDB and PostgreSQL alike;
- ``dimensions``: the quality dimensions and which rejection rule counts against which;
- ``metrics``: every figure, pure, with the definitions the page prints as footnotes;
- ``tables``, ``svg``, ``html``, ``workbook``: the same tables as a page with charts and a workbook;
- ``write``: ``write_report`` (the CLI's and the DAG's entry point); ``run``: the DAG's callables.
"""
