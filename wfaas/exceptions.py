"""The exception tree of wfaas.

Every error a user can cause derives from :class:`WfaasError` and carries the
HTTP status the API answers with, so translation to the wire is one lookup.
This module is a leaf: it imports nothing from wfaas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class WfaasError(Exception):
    """Base of every wfaas error; ``http_code`` is what the REST API answers."""

    http_code = 500
    fault_code = "Server"

    def __init__(self, message: str = "", **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message


class ClientError(WfaasError):
    """An error caused by the caller (bad input); HTTP 400."""

    http_code = 400
    fault_code = "Client"


@dataclass(frozen=True)
class Problem:
    """One validation problem: where it is and what to do about it."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}: " if self.line else ""
        return f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "column": self.column,
                "message": self.message}


class DSLError(ClientError):
    """An invalid workflow, workbook or action document; lists every problem."""

    def __init__(self, message: str = "", problems: list[Problem] | None = None) -> None:
        self.problems = list(problems or [])
        if not message:
            message = "Invalid DSL: " + "; ".join(str(p) for p in self.problems)
        super().__init__(message)


class DocumentTooLarge(DSLError):
    """A submitted document is over the configured size; HTTP 413."""

    http_code = 413


class ExpressionError(ClientError):
    """An expression could not be parsed or evaluated; names expression and cause."""

    def __init__(self, message: str, expression: str = "", cause: str = "") -> None:
        super().__init__(message, expression=expression, cause=cause)
        self.expression = expression
        self.cause = cause


class InputError(ClientError):
    """Workflow or action input is missing, unexpected or of the wrong type."""


class ActionError(WfaasError):
    """An action failed, could not be found or could not be loaded."""


class ActionNotFound(ActionError):
    """No provider knows the named action."""

    http_code = 404


class PluginLoadError(ActionError):
    """An installed action pack failed to import; names the pack."""


class EngineError(WfaasError):
    """The engine met a state it must not be in (a bug, not a user mistake)."""


class IllegalTransition(EngineError):
    """A state change that the transition table forbids."""


class NotFound(WfaasError):
    """The addressed object does not exist; HTTP 404."""

    http_code = 404
    fault_code = "Client"


class Conflict(WfaasError):
    """A duplicate or a concurrent change; HTTP 409."""

    http_code = 409
    fault_code = "Client"


class NotAllowed(WfaasError):
    """The operation is not allowed in the object's current state; HTTP 403."""

    http_code = 403
    fault_code = "Client"


class Unauthorized(WfaasError):
    """Missing or invalid credentials; HTTP 401."""

    http_code = 401
    fault_code = "Client"


class SizeLimitExceeded(ClientError):
    """A field (input, output, published...) is over the configured size limit."""
