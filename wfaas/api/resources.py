"""Wire resources: how a stored row (a plain dict) looks in Mistral's REST API v2.

Each :class:`Resource` lists its fields in Mistral's order with their wire kind:
``json`` fields travel as JSON-encoded strings (execution ``input``, task
``result``, environment ``variables``...), ``time`` fields as
``YYYY-MM-DD HH:MM:SS`` (UTC). A field can be left out of some views (list
answers carry no execution ``output``, a create answer no ``updated_at`` while
it is null), as Mistral does. ``fields=a,b`` selection is validated here.
"""

from __future__ import annotations

import contextvars
import datetime as _dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wfaas.api.errors import BadRequest

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
PRECISE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
# Set per request from the ``X-Wfaas-Precise-Times`` header (the dashboard and the
# wfaas CLI send it): timestamps then carry microseconds. Mistral's whole-second
# format stays the default, so python-mistralclient sees exactly what Mistral sends.
PRECISE_TIMES: contextvars.ContextVar[bool] = contextvars.ContextVar("precise_times",
                                                                     default=False)


@dataclass(frozen=True)
class Field:
    """One wire field.

    ``kind`` is one of ``string, json, time, bool, int, tags, object``.
    ``hidden_in`` names views where the field is never shown; ``omit_none_in``
    views where it is shown only when it has a value (``"*"`` = every view).
    ``source`` reads the value from the row when the wire name differs, or
    computes it (a callable taking the row).
    """

    name: str
    kind: str = "string"
    hidden_in: frozenset[str] = frozenset()
    omit_none_in: frozenset[str] = frozenset()
    source: str | Callable[[Mapping[str, Any]], Any] | None = None
    description: str = ""

    def read(self, row: Mapping[str, Any]) -> Any:
        """The raw value of this field in ``row``."""
        if callable(self.source):
            return self.source(row)
        return row.get(self.source or self.name)


def _f(name: str, kind: str = "string", *, hidden: Iterable[str] = (),
       omit_none: Iterable[str] = (), source: Any = None, description: str = "") -> Field:
    return Field(name, kind, frozenset(hidden), frozenset(omit_none), source, description)


def format_time(value: Any) -> str | None:
    """A timestamp as Mistral prints it; strings are passed through."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.UTC).replace(tzinfo=None)
        return str(value.strftime(PRECISE_TIME_FORMAT if PRECISE_TIMES.get() else TIME_FORMAT))
    if isinstance(value, int | float):
        return _dt.datetime.fromtimestamp(value, _dt.UTC).strftime(
            PRECISE_TIME_FORMAT if PRECISE_TIMES.get() else TIME_FORMAT)
    return str(value)


def dump_json(value: Any) -> str:
    """A value as the JSON-encoded string Mistral puts in its string fields."""
    return json.dumps(value, separators=(", ", ": "), ensure_ascii=False, default=str)


def encode(kind: str, value: Any) -> Any:
    """The wire form of ``value`` for a field of ``kind``."""
    if kind == "json":
        if value is None:
            return None
        if isinstance(value, str):
            try:
                json.loads(value)
                return value
            except ValueError:
                return dump_json(value)
        return dump_json(value)
    if kind == "time":
        return format_time(value)
    if kind == "tags":
        return list(value) if value is not None else []
    if kind == "bool" and value is not None:
        return bool(value)
    return value


@dataclass(frozen=True)
class Resource:
    """A wire resource: its name, the key of its list answer and its fields."""

    name: str
    collection: str
    fields: tuple[Field, ...]
    description: str = ""
    field_map: dict[str, Field] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.field_map.update({f.name: f for f in self.fields})

    @property
    def field_names(self) -> list[str]:
        """Every field name in wire order."""
        return [f.name for f in self.fields]

    def to_wire(self, row: Mapping[str, Any], view: str = "get",
                fields: Sequence[str] | None = None,
                overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The wire dictionary of ``row`` in ``view`` (``get``, ``list``, ``create``)."""
        out: dict[str, Any] = {}
        wanted = set(fields) if fields else None
        for f in self.fields:
            if wanted is not None and f.name not in wanted:
                continue
            if view in f.hidden_in and (wanted is None or f.name not in wanted):
                continue
            if overrides and f.name in overrides:
                out[f.name] = overrides[f.name]
                continue
            value = encode(f.kind, f.read(row))
            if value is None and (view in f.omit_none_in or "*" in f.omit_none_in):
                continue
            out[f.name] = value
        return out

    def check_fields(self, fields: Sequence[str]) -> list[str]:
        """Validated ``fields=`` selection, ``id`` always included; unknown names -> 400."""
        unknown = [f for f in fields if f not in self.field_map]
        if unknown:
            raise BadRequest(
                f"Some fields do not exist [{', '.join(unknown)}], please choose from: "
                f"{', '.join(self.field_names)}")
        selected = list(dict.fromkeys(fields))
        if "id" not in selected and "id" in self.field_map:
            selected.insert(0, "id")
        return selected


_CREATE_UPDATED = _f("updated_at", "time", omit_none=("create",))

WORKBOOK = Resource("Workbook", "workbooks", (
    _f("id"), _f("name"), _f("namespace"), _f("definition"), _f("tags", "tags"),
    _f("scope"), _f("project_id"), _f("created_at", "time"), _CREATE_UPDATED,
), "A workbook: workflows and actions under one name.")

WORKFLOW = Resource("Workflow", "workflows", (
    _f("id"), _f("name"), _f("namespace"),
    _f("input", description="Input signature, e.g. 'name, greeting=\"Hello\"'."),
    _f("interface", "json", description="JSON-encoded {input: [...], output: [...]}."),
    _f("definition"), _f("checksum"), _f("tags", "tags"), _f("scope"), _f("project_id"),
    _f("created_at", "time"), _CREATE_UPDATED,
), "A workflow definition.")

ACTION = Resource("Action", "actions", (
    _f("id"), _f("name"), _f("is_system", "bool"), _f("input"), _f("description"),
    _f("tags", "tags"), _f("definition"), _f("scope"), _f("project_id"),
    _f("created_at", "time"), _CREATE_UPDATED, _f("namespace"),
    _f("params_schema", "json", hidden=("get", "list", "create"),
       description="JSON Schema of the input (only with fields=...,params_schema)."),
), "An action: system (std.*, packs, OpenStack) or ad-hoc.")

EXECUTION = Resource("Execution", "executions", (
    _f("id"), _f("workflow_id"), _f("workflow_name"), _f("workflow_namespace"),
    _f("description"), _f("tags", "tags"), _f("params", "json"), _f("task_execution_id"),
    _f("root_execution_id"), _f("source_execution_id", omit_none=("*",)),
    _f("state"), _f("state_info"), _f("input", "json"), _f("output", "json", hidden=("list",)),
    _f("created_at", "time"), _f("updated_at", "time"), _f("project_id"),
    _f("published_global", "json", hidden=("list", "create")),
), "A workflow execution.")

TASK = Resource("Task", "tasks", (
    _f("id"), _f("name"), _f("type"), _f("workflow_name"), _f("workflow_namespace"),
    _f("workflow_id"), _f("workflow_execution_id"), _f("tags", "tags"), _f("state"),
    _f("state_info"), _f("project_id"), _f("runtime_context", "json"),
    _f("result", "json", hidden=("list",)), _f("published", "json"),
    _f("published_global", "json", omit_none=("*",)), _f("processed", "bool"),
    _f("reset", "bool", omit_none=("*",)), _f("env", "json", omit_none=("*",)),
    _f("created_at", "time"), _f("updated_at", "time"), _f("started_at", "time"),
    _f("finished_at", "time"),
), "A task execution.")

ACTION_EXECUTION = Resource("ActionExecution", "action_executions", (
    _f("id"), _f("workflow_name"), _f("workflow_namespace"), _f("task_name", omit_none=("*",)),
    _f("task_execution_id"), _f("state"), _f("state_info"), _f("tags"), _f("name"),
    _f("description"), _f("project_id"), _f("accepted", "bool"), _f("input", "json"),
    _f("output", "json", hidden=("list",)),
    _f("params", "json", hidden=("list", "get", "create")),
    _f("created_at", "time"), _f("updated_at", "time"),
), "An action execution (inside a task or run on its own).")

ENVIRONMENT = Resource("Environment", "environments", (
    _f("id"), _f("name"), _f("description"), _f("variables", "json"), _f("scope"),
    _f("project_id"), _f("created_at", "time"), _CREATE_UPDATED,
), "A named set of variables passed to executions as env.")

CRON_TRIGGER = Resource("CronTrigger", "cron_triggers", (
    _f("id"), _f("name"), _f("workflow_name"), _f("workflow_id"), _f("workflow_input", "json"),
    _f("workflow_params", "json"), _f("project_id"), _f("scope"), _f("pattern"),
    _f("remaining_executions", "int"), _f("first_execution_time", "time"),
    _f("next_execution_time", "time"), _f("created_at", "time"), _CREATE_UPDATED,
), "A cron trigger starting a workflow on a schedule.")

RESOURCES: dict[str, Resource] = {r.name: r for r in (
    WORKBOOK, WORKFLOW, ACTION, EXECUTION, TASK, ACTION_EXECUTION, ENVIRONMENT, CRON_TRIGGER)}


def wire_list(resource: Resource, rows: Iterable[Mapping[str, Any]], *,
              fields: Sequence[str] | None = None, view: str = "list",
              next_link: str | None = None,
              overrides: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
              ) -> dict[str, Any]:
    """The list answer ``{"<collection>": [...], "next": ...}`` (``next`` only when set)."""
    items = [resource.to_wire(r, view, fields, overrides(r) if overrides else None)
             for r in rows]
    body: dict[str, Any] = {resource.collection: items}
    if next_link:
        body["next"] = next_link
    return body
