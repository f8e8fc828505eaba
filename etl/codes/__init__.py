"""Checks of the identifiers that tie a credit record to its subject.

One module per kind of code, each with the same small surface as python-stdnum's modules
(``compact``, ``calc_check_char``, ``validate``, ``is_valid``):

- ``etl.codes.uscc``     unified social credit code (GB 32100-2015), 18 characters
- ``etl.codes.orgcode``  organisation code (GB 11714), 9 characters
- ``etl.codes.regno``    business registration number, 15 digits
- ``etl.codes.idcard``   resident identity number (GB 11643), 18 digits or the old 15

``validate`` raises an ``InvalidCode`` whose ``reason`` is one of ``etl.codes.reasons`` and whose
``message`` tells a clerk what to fix. ``check`` does the same over a whole Arrow column at once,
and ``etl.codes.consistency`` holds the checks across records (一码多名, 一名多码, …).

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
