"""The expression functions wfaas provides, with Mistral's names and result shapes.

Each is registered (entry point namespace ``wfaas.expression.functions``) as a
YAQL function and as a Jinja global and filter. The first argument is always a
:class:`~wfaas.expressions.context.CallContext`; a trailing underscore in the
Python name is not part of the expression name (``env_`` is ``env()``).
Third-party functions follow the same convention.
"""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from collections.abc import Mapping, Set
from typing import Any

import yaml

from wfaas.expressions.context import CallContext


def env_(context: CallContext) -> dict[str, Any]:
    """``env()``: the execution environment."""
    return context.env()


def execution_(context: CallContext) -> dict[str, Any]:
    """``execution()``: id, name, spec, input, params, timestamps, root_execution_id."""
    return context.execution()


def executions_(context: CallContext, id: str | None = None,
                root_execution_id: str | None = None, state: str | None = None,
                from_time: str | None = None, to_time: str | None = None) -> list[dict[str, Any]]:
    """``executions(...)``: workflow executions filtered by id, root, state, created_at."""
    return context.executions(id, root_execution_id, state, from_time, to_time)


def global_(context: CallContext, var_name: str) -> Any:
    """``global(name)``: a variable of the workflow's global context (None if absent)."""
    return context.global_var(var_name)


def task_(context: CallContext, task_name: str | None = None) -> dict[str, Any] | None:
    """``task(name=None)``: the current task, or the last task with that name."""
    return context.task(task_name)


def tasks_(context: CallContext, workflow_execution_id: str | None = None,
           recursive: bool = False, state: str | None = None,
           flat: bool = False) -> list[dict[str, Any]]:
    """``tasks(...)``: task executions, optionally filtered."""
    return context.tasks(workflow_execution_id, recursive, state, flat)


def json_parse_(context: CallContext, data: str) -> Any:
    """``json_parse(text)``: the JSON document as data."""
    return json.loads(data)


def _json_default(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (Set, tuple)):
        return list(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def json_dump_(context: CallContext, data: Any) -> str:
    """``json_dump(data)``: the data as JSON text, indented by 4."""
    return json.dumps(data, indent=4, default=_json_default)


class _NoAliasSafeLoader(yaml.SafeLoader):
    """A safe YAML loader that reads anchors and aliases as plain text.

    ``&a`` / ``*a`` are never resolved, so nothing can expand ("billion
    laughs"); like Mistral, ``b: *x`` simply gives the string ``"*x"``.
    """

    def fetch_alias(self) -> None:
        self.fetch_plain()

    def fetch_anchor(self) -> None:
        self.fetch_plain()


def yaml_parse_(context: CallContext, data: str) -> Any:
    """``yaml_parse(text)``: the YAML document as data (safe; aliases are plain text)."""
    return yaml.load(data, Loader=_NoAliasSafeLoader)  # noqa: S506 - a SafeLoader subclass


class _PlainSafeDumper(yaml.SafeDumper):
    """A safe dumper that also writes any mapping / set / tuple as plain YAML."""


_PlainSafeDumper.add_multi_representer(
    Mapping,  # type: ignore[type-abstract]
    lambda dumper, data: dumper.represent_dict(dict(data)))
_PlainSafeDumper.add_representer(tuple, lambda dumper, data: dumper.represent_list(list(data)))
_PlainSafeDumper.add_multi_representer(
    frozenset, lambda dumper, data: dumper.represent_list(list(data)))


def yaml_dump_(context: CallContext, data: Any) -> str:
    """``yaml_dump(data)``: the data as block-style YAML text."""
    return yaml.dump(data, Dumper=_PlainSafeDumper, default_flow_style=False)


def uuid_(context: CallContext | None = None) -> str:
    """``uuid()``: a new random UUID string."""
    return str(uuid.uuid4())
