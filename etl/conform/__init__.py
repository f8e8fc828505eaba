"""conform: department headers -> catalog fields; cells -> normalised, typed columns.

Two steps, run by the pipeline between ``etl.read`` and ``etl.validate``:

- ``map_headers(headers, dataset) -> HeaderMapping``: which file column is which catalog field,
  tolerant of the ways departments write headers (see ``etl.conform.headers``); rejects the delivery
  when a required column is missing or a field has two columns.
- ``conform_batch(batch, mapping, dataset) -> ConformedBatch``: the cells as delivered (``raw``),
  typed and normalised (``typed``), and one issue per cell that could not be typed or was
  normalised (``issues``), each with a Chinese message naming the column and the value.

``HeaderMatcher`` is also what ``etl.read`` uses to find the header row under title rows.
"""

from etl.conform.batch import ARROW_TYPES, ConformedBatch, conform_batch, raw_schema, typed_schema
from etl.conform.headers import HeaderMapping, HeaderMatcher, header_key, map_headers
from etl.conform.issues import ISSUE_SCHEMA

__all__ = [
    "ARROW_TYPES",
    "ISSUE_SCHEMA",
    "ConformedBatch",
    "HeaderMapping",
    "HeaderMatcher",
    "conform_batch",
    "header_key",
    "map_headers",
    "raw_schema",
    "typed_schema",
]
