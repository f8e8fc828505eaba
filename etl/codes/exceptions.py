"""Errors the scalar ``validate`` functions raise, shaped like python-stdnum's.

    InvalidCode (ValueError)   carries ``reason`` (a code of etl.codes.reasons) and ``message``
    ├── InvalidLength          wrong number of characters
    ├── InvalidFormat          a character outside the code's alphabet
    ├── InvalidComponent       a part of the code is impossible (authority/type, division, date)
    ├── InvalidChecksum        a check character does not match
    └── DamagedCode            damage that cannot be undone, e.g. Excel's scientific notation

These are verdicts about data, not failures of the program: they do not derive from
``etl.errors.CreditEtlError``, which is for mistakes a user of the command line can fix.
"""

from __future__ import annotations

from etl.codes import reasons


class InvalidCode(ValueError):
    """A code failed a check; ``reason`` is stable, ``message`` is for a department clerk."""

    def __init__(self, reason: str, **values: object) -> None:
        self.reason = reason
        self.values = values
        self.message = reasons.message(reason, **values)
        super().__init__(self.message)


class InvalidLength(InvalidCode):
    """The code has the wrong number of characters."""


class InvalidFormat(InvalidCode):
    """The code contains a character that is not allowed at its position."""


class InvalidComponent(InvalidCode):
    """A part of the code (authority/type pair, division, birth date…) is impossible."""


class InvalidChecksum(InvalidCode):
    """A check character does not match the characters it protects."""


class DamagedCode(InvalidCode):
    """The value was damaged beyond repair before it reached us (e.g. scientific notation)."""
