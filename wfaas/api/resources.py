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
from wfaas.services.api.listing import StoredJson

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
        if value.year >= 1000:  # isoformat: the same text as the formats, 5x cheaper
            return str(value.isoformat(" ", "microseconds" if PRECISE_TIMES.get() else "seconds"))
        return str(value.strftime(PRECISE_TIME_FORMAT if PRECISE_TIMES.get() else TIME_FORMAT))
    if isinstance(value, int | float):
        return _dt.datetime.fromtimestamp(value, _dt.UTC).strftime(
            PRECISE_TIME_FORMAT if PRECISE_TIMES.get() else TIME_FORMAT)
    return str(value)


_WIRE_JSON = json.JSONEncoder(separators=(", ", ": "), ensure_ascii=False, default=str)


def dump_json(value: Any) -> str:
    """A value as the JSON-encoded string Mistral puts in its string fields."""
    return _WIRE_JSON.encode(value)


def encode(kind: str, value: Any) -> Any:
    """The wire form of ``value`` for a field of ``kind``."""
    return _ENCODERS.get(kind, _same)(value)


def wire_from_stored(text: str) -> str | None:
    """Stored compact JSON text (``JsonText``: separators ``,``/``:``, no other
    whitespace) as :func:`dump_json` prints the same value, without decoding it: a comma
    or colon outside the strings gains its space. Text with a backslash (an escape inside
    a string), whitespace between tokens, a string at the top (kept as is by ``_json``
    when it holds JSON) or ``null`` takes the exact way, decode and encode."""
    if "\\" in text or text[:1] == '"' or text == "null":
        return _json(json.loads(text))  # type: ignore[no-any-return]
    parts = text.split('"')  # no escaped quote: even parts are outside the strings
    outside = parts[0::2]
    between = "".join(outside)
    if " " in between or "\n" in between or "\t" in between or "\r" in between:
        return dump_json(json.loads(text))
    parts[0::2] = [p.replace(",", ", ").replace(":", ": ") for p in outside]
    return '"'.join(parts)


def _json(value: Any) -> Any:
    if value is None:
        return None
    if value.__class__ is StoredJson:
        return wire_from_stored(value)
    if isinstance(value, str):
        try:
            json.loads(value)
            return value
        except ValueError:
            return dump_json(value)
    return dump_json(value)


def _tags(value: Any) -> list[Any]:
    return list(value) if value is not None else []


def _bool(value: Any) -> Any:
    return bool(value) if value is not None else None


def _same(value: Any) -> Any:
    return value


_ENCODERS: dict[str, Callable[[Any], Any]] = {"json": _json, "time": format_time,
                                              "tags": _tags, "bool": _bool}

#: one field in a prebuilt serializer: wire name, the row's key (or a function computing
#: the value from the row), the encoder (None: as stored), omitted when None
_Step = tuple[str, "str | Callable[[Mapping[str, Any]], Any]", "Callable[[Any], Any] | None",
              bool]


@dataclass(frozen=True)
class Resource:
    """A wire resource: its name, the key of its list answer and its fields."""

    name: str
    collection: str
    fields: tuple[Field, ...]
    description: str = ""
    field_map: dict[str, Field] = field(default_factory=dict, compare=False)
    plans: dict[Any, tuple[_Step, ...]] = field(default_factory=dict, compare=False,
                                                repr=False)

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
        return _apply(self.serializer(view, fields), row, overrides)

    def serializer(self, view: str, fields: Sequence[str] | None) -> tuple[_Step, ...]:
        """The fields shown in ``view`` (with the ``fields=`` selection), prebuilt once per
        view and selection: a list answer runs it over every row without re-deciding."""
        key = (view, tuple(fields) if fields else None)
        steps = self.plans.get(key)
        if steps is None:
            wanted = set(fields) if fields else None
            steps = tuple(
                (f.name, f.source if callable(f.source) else f.source or f.name,
                 _ENCODERS.get(f.kind), view in f.omit_none_in or "*" in f.omit_none_in)
                for f in self.fields
                if (wanted is None or f.name in wanted)
                and not (view in f.hidden_in and (wanted is None or f.name not in wanted)))
            if len(self.plans) < 256:  # bounded: ``fields`` comes from the client
                self.plans[key] = steps
        return steps

    def unread_columns(self, view: str, fields: Sequence[str] | None) -> list[str]:
        """Stored columns of fields this view never shows (a list need not read them)."""
        shown = {step[0] for step in self.serializer(view, fields)}
        return [f.name for f in self.fields
                if f.name not in shown and f.source is None and f.name != "id"]

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


def _apply(steps: tuple[_Step, ...], row: Mapping[str, Any],
           overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    get = row.get
    for name, source, enc, omit_none in steps:
        if overrides and name in overrides:
            out[name] = overrides[name]
            continue
        value = get(source) if source.__class__ is str else source(row)  # type: ignore[operator]
        if enc is not None:
            value = enc(value)
        if value is None and omit_none:
            continue
        out[name] = value
    return out


def wire_list(resource: Resource, rows: Iterable[Mapping[str, Any]], *,
              fields: Sequence[str] | None = None, view: str = "list",
              next_link: str | None = None,
              overrides: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
              ) -> dict[str, Any]:
    """The list answer ``{"<collection>": [...], "next": ...}`` (``next`` only when set)."""
    steps = resource.serializer(view, fields)
    items = [_apply(steps, r, overrides(r) if overrides else None) for r in rows]
    body: dict[str, Any] = {resource.collection: items}
    if next_link:
        body["next"] = next_link
    return body
