"""Which execution, task and project a log line concerns (a contextvar the shell sets).

The engine shell wraps a step in ``log_context(execution_id=...)``, the executor
an action in ``log_context(execution_id=..., task_id=..., project_id=...)``;
:class:`ContextFilter` copies the values onto every record logged inside, and
:class:`JsonFormatter` writes them (``[DEFAULT] use_json``). Standard library only.
"""

from __future__ import annotations

import datetime
import json
import logging
from contextlib import AbstractContextManager
from contextvars import ContextVar, Token

#: the record attributes this module fills, in output order
FIELDS = ("execution_id", "task_id", "project_id")

_EMPTY: dict[str, str] = {}
_CURRENT: ContextVar[dict[str, str]] = ContextVar("wfaas_log_context")


class _Context:
    """The ``with`` block of :func:`log_context` (a class, not a generator: the engine
    enters one per step)."""

    __slots__ = ("values", "token")

    def __init__(self, values: dict[str, str | None]) -> None:
        self.values = values
        self.token: Token[dict[str, str]] | None = None

    def __enter__(self) -> None:
        outer = _CURRENT.get(_EMPTY)
        self.token = _CURRENT.set({**outer, **{k: str(v) for k, v in self.values.items() if v}})

    def __exit__(self, *exc: object) -> None:
        if self.token is not None:
            _CURRENT.reset(self.token)


def log_context(**values: str | None) -> AbstractContextManager[None]:
    """Within the block, log records carry ``values`` (None values are left out)."""
    return _Context(values)


def current() -> dict[str, str]:
    """The values set by the enclosing :func:`log_context` blocks."""
    return dict(_CURRENT.get(_EMPTY))


class ContextFilter(logging.Filter):
    """Adds ``execution_id``/``task_id``/``project_id`` (None when unknown) to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Copy the current log context onto ``record``; never drops it."""
        values = _CURRENT.get(_EMPTY)
        for name in FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, values.get(name))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context, exception."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single-line JSON object."""
        stamp = datetime.datetime.fromtimestamp(record.created, datetime.UTC)
        out: dict[str, object] = {
            "time": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname, "logger": record.name,
            "message": record.getMessage(), "process": record.process,
            "thread": record.threadName}
        values = _CURRENT.get(_EMPTY)
        for name in FIELDS:
            value = getattr(record, name, None) or values.get(name)
            if value:
                out[name] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)
