"""Checks of the identifiers that tie a credit record to its subject.

One module per kind of code, each with the same small surface as python-stdnum's modules
(``compact``, ``calc_check_char``, ``validate``, ``is_valid``), free of pyarrow:

- ``etl.codes.uscc``     unified social credit code (GB 32100-2015), 18 characters; ``PLACEHOLDER``
- ``etl.codes.orgcode``  organisation code (GB 11714), 9 characters, hyphen optional
- ``etl.codes.regno``    business registration number, 15 digits (ISO 7064 MOD 11,10)
- ``etl.codes.idcard``   resident identity number (GB 11643), 18 digits or the old 15; ``mask``,
  ``from_15``

``validate`` returns the normalised code or raises an ``InvalidCode`` whose ``reason`` is one of
``etl.codes.reasons`` and whose ``message`` tells a clerk what to fix (never quoting an identity
number). Shared pieces: ``normalise`` (full-width, case, blanks, hyphens; scientific notation
recognised), ``weighted`` and ``mod_11_10`` (checksums), ``divisions`` (GB/T 2260 plausibility).

Over whole columns (pyarrow, loaded on first use):

- ``check(values, kind, *, regno=None, today=None) -> CodeVerdicts``: one verdict per value, for
  ``kind`` in ``KINDS`` or ``"auto"``; nulls and blanks give null verdicts;
- ``mask_idcards(values)`` and ``normalise_array(values)``;
- ``etl.codes.consistency``: 一码多名, 一名多码, organisation code vs USCC positions 9-17.

The scalar functions are the readable reference; ``check`` is the fast path, and the tests hold
the two to the same verdict, reason and message for every value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from etl.codes.exceptions import (
    DamagedCode,
    InvalidChecksum,
    InvalidCode,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
)

if TYPE_CHECKING:
    from etl.codes._verdicts import KINDS, CodeVerdicts, check, mask_idcards, normalise_array

__all__ = [
    "KINDS",
    "CodeVerdicts",
    "DamagedCode",
    "InvalidChecksum",
    "InvalidCode",
    "InvalidComponent",
    "InvalidFormat",
    "InvalidLength",
    "check",
    "mask_idcards",
    "normalise_array",
]

_VECTORISED = {"KINDS", "CodeVerdicts", "check", "mask_idcards", "normalise_array"}


def __getattr__(name: str) -> Any:
    # pyarrow takes a fifth of a second to import; the scalar modules (used by the demo-data
    # generator and DAG-level code) should not pay for it, so the Arrow half loads on first use.
    if name in _VECTORISED:
        from etl.codes import _verdicts

        return getattr(_verdicts, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
