"""The errors credit-etl raises on purpose.

Everything a user can cause (a bad catalog, a bad file, a bad argument) raises a subclass of
``CreditEtlError``; the CLI prints its message and exits non-zero without a traceback. Anything else
is a bug and keeps its traceback.

    CreditEtlError
    ├── CatalogError        the catalog is invalid (carries every problem found)
    ├── CalendarError       a date outside what the working-day calendar knows
    ├── DeliveryRejected    a delivery rejected whole (reason code + Chinese message for the clerk)
    ├── WarehouseError      the warehouse cannot be reached or refused an operation
    ├── SourceError         a delivery source (SFTP server, department database) cannot be reached or read
    └── UsageError          a command-line argument that cannot be honoured
"""

from __future__ import annotations


class CreditEtlError(Exception):
    """Base class of the errors a user can act on."""

    exit_code = 2


class UsageError(CreditEtlError):
    """A command-line argument that cannot be honoured."""


class CalendarError(CreditEtlError):
    """A date the working-day calendar cannot decide about."""


class CatalogError(CreditEtlError):
    """The catalog is invalid; ``problems`` lists every problem, one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class DeliveryRejected(CreditEtlError):
    """A delivery that cannot be processed at all; ``message`` is Chinese, for the department clerk.

    ``reason`` is a stable UPPER_SNAKE code recorded in the ledger, e.g. ``MISSING_COLUMNS``.
    """

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        self.message = message
        super().__init__(f"{reason}: {message}")


class WarehouseError(CreditEtlError):
    """The warehouse cannot be reached, or refused an operation; wraps the driver's error."""


class SourceError(CreditEtlError):
    """A delivery source cannot be reached or read (refused host key, unreachable database, …)."""
