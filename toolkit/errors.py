"""The toolkit's one error tree.

Every error the toolkit raises on purpose is a ``ToolkitError``. Each class says
once whether retrying can help (``transient``), so retry loops never guess from
messages, and the CLI prints ``str(error)`` as one line and exits with code 2.
"""

from __future__ import annotations

from typing import ClassVar


class ToolkitError(Exception):
    """Root of the tree. The message is one line a user can act on."""

    transient: ClassVar[bool] = False


class TransientError(ToolkitError):
    """The same call may succeed later: throttling, 5xx, a dropped connection."""

    transient = True


class TerminalError(ToolkitError):
    """Retrying the same call cannot help; something must change first."""


class UserError(TerminalError):
    """Bad input: a config value, a flag, a table that does not exist."""


class LocalServerError(TerminalError):
    """The local DynamoDB servers could not be fetched, started or stopped."""


class ServiceError(TerminalError):
    """A server answered a request with an error that retrying cannot fix."""

    def __init__(self, message: str, *, code: str = "", operation: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.operation = operation


class ServiceBusy(TransientError):
    """Throttling, a 5xx answer or a dropped connection: worth retrying."""

    def __init__(self, message: str, *, code: str = "", operation: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.operation = operation


class ChangesLost(TerminalError):
    """Stream records the run still needed can no longer be read: a full migration is due."""
