"""Ferry's exception tree: one root, subclasses that tell the caller what to do.

Messages never carry patient values: they name files, lines, columns, record keys and codes.
"""

from __future__ import annotations


class FerryError(Exception):
    """Root of every error Ferry raises on purpose."""


class ConfigError(FerryError):
    """The configuration or the command line is wrong; the operator must fix it."""


class BadInputError(FerryError):
    """Input data cannot be used; names where (file, line, column) and what to do.

    Attributes:
        file: the source file name, when known.
        line: the physical line (1-based) where the offending row starts.
        column: the column header, when the problem is in one column.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.column = column
        where = ":".join(str(part) for part in (file, line) if part is not None)
        if column:
            where = f"{where} column {column!r}" if where else f"column {column!r}"
        super().__init__(f"{where}: {message}" if where else message)


class RetryableError(FerryError):
    """A transient failure; the same operation may be tried again later."""


class FatalForRecordError(FerryError):
    """This record cannot be loaded as it is; others may go on."""


class FatalForRunError(FerryError):
    """The run cannot go on (authentication, permissions, schema); stop and tell the operator."""


class OutcomeUnknownError(FerryError):
    """A write may or may not have been applied; reconcile before anything is resent."""


class WorkdirBusyError(FerryError):
    """Another Ferry process is running in the work directory; nothing was written."""
