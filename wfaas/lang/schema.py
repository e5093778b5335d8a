"""The one schema source of DSL v2: which keys exist where, and what they hold.

Each place of the language (workflow, task, task-defaults, retry, ...) is a
table of :class:`Field`; each field has a :class:`Kind` that knows how to
recognise its value (used by the validator, with a human description for the
messages) and its JSON Schema fragment (used by :func:`json_schema`, which
``tools/dump_schema.py`` publishes as ``wfaas/lang/dsl-v2.schema.json``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from wfaas.lang.inline import is_expression

_YAQL_RE = r"^\s*<%.*%>\s*$"
_JINJA_RE = r"^\s*(\{\{.*\}\}|\{%.*%\})\s*$"
_EXPRESSION_JSON: dict[str, Any] = {
    "type": "string", "pattern": f"{_YAQL_RE}|{_JINJA_RE}",
    "description": "One YAQL <% %> or Jinja {{ }} expression",
}


@dataclass(frozen=True)
class Kind:
    """What a value may be: a predicate, a description for messages, a JSON Schema."""

    name: str
    describe: str
    check: Callable[[Any], bool]
    json: Mapping[str, Any]


@dataclass(frozen=True)
class Field:
    """One key of a mapping: its kind, whether it is required, and what it is for."""

    kind: Kind
    required: bool = False
    doc: str = ""


def _nonempty_str(v: Any) -> bool:
    return isinstance(v, str) and bool(v.strip())


def _int_ge0(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _str_list(v: Any) -> bool:
    return isinstance(v, list) and all(_nonempty_str(x) for x in v)


_NONEMPTY_STRING_JSON = {"type": "string", "minLength": 1}
_STRING_LIST_JSON = {"type": "array", "items": _NONEMPTY_STRING_JSON, "uniqueItems": True}

STRING = Kind("string", "a non-empty string", _nonempty_str, _NONEMPTY_STRING_JSON)
TEXT = Kind("text", "a string", lambda v: isinstance(v, str), {"type": "string"})
STRING_LIST = Kind("string-list", "a list of non-empty strings", _str_list, _STRING_LIST_JSON)
VERSION = Kind("version", "'2.0'", lambda v: isinstance(v, str | int | float)
               and not isinstance(v, bool), {"enum": ["2.0", 2.0, 2]})
WORKFLOW_TYPE = Kind("workflow-type", "'direct' or 'reverse'",
                     lambda v: v in ("direct", "reverse"), {"enum": ["direct", "reverse"]})
INPUT_LIST = Kind(
    "input-list", "a list of names or one-key mappings {name: default}",
    lambda v: isinstance(v, list),
    {"type": "array", "uniqueItems": True, "items": {"oneOf": [
        _NONEMPTY_STRING_JSON, {"type": "object", "minProperties": 1, "maxProperties": 1}]}})
MAPPING = Kind("mapping", "a mapping", lambda v: isinstance(v, dict), {"type": "object"})
MAPPING_OR_EXPRESSION = Kind(
    "mapping-or-expression", "a mapping or one expression",
    lambda v: isinstance(v, dict) or is_expression(v),
    {"oneOf": [{"type": "object"}, _EXPRESSION_JSON]})
ANY = Kind("any", "any value", lambda v: True, {})
EXPRESSION = Kind("expression", "one expression (<% ... %> or {{ ... }})", is_expression,
                  _EXPRESSION_JSON)
INT_OR_EXPRESSION = Kind(
    "int-or-expression", "a non-negative integer or an expression",
    lambda v: _int_ge0(v) or is_expression(v),
    {"oneOf": [{"type": "integer", "minimum": 0}, _EXPRESSION_JSON]})
BOOL_OR_EXPRESSION = Kind(
    "bool-or-expression", "true, false or an expression",
    lambda v: isinstance(v, bool) or is_expression(v),
    {"oneOf": [{"type": "boolean"}, _EXPRESSION_JSON]})
def _number_ge0(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and v >= 0


NUMBER_OR_EXPRESSION = Kind(
    "number-or-expression", "a non-negative number or an expression",
    lambda v: _number_ge0(v) or is_expression(v),
    {"oneOf": [{"type": "number", "minimum": 0}, _EXPRESSION_JSON]})
BACKOFF = Kind(
    "backoff", "'constant', 'linear', 'exponential' or an expression",
    lambda v: v in ("constant", "linear", "exponential") or is_expression(v),
    {"oneOf": [{"enum": ["constant", "linear", "exponential"]}, _EXPRESSION_JSON]})
JITTER = Kind(
    "jitter", "true, false, a fraction between 0 and 1 or an expression",
    lambda v: isinstance(v, bool) or (_number_ge0(v) and v <= 1) or is_expression(v),
    {"oneOf": [{"type": "boolean"}, {"type": "number", "minimum": 0, "maximum": 1},
               _EXPRESSION_JSON]})
ACTION_REF = Kind(
    "action-ref", "a name (or expression) optionally followed by name=value parameters",
    _nonempty_str, {"type": "string", "minLength": 1})
WITH_ITEMS = Kind(
    "with-items", "a string 'var in <collection>' or a list of them",
    lambda v: _nonempty_str(v) or isinstance(v, list) and bool(v),
    {"oneOf": [{"$ref": "#/$defs/with-items-entry"},
               {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/with-items-entry"}}]})
RETRY = Kind("retry", "a mapping (count, delay, break-on, continue-on) or a one-line string "
             "'count=N delay=N ...'", lambda v: isinstance(v, dict) or _nonempty_str(v),
             {"oneOf": [{"$ref": "#/$defs/retry"}, _NONEMPTY_STRING_JSON]})
JOIN = Kind("join", "'all', 'one' or a positive integer",
            lambda v: v in ("all", "one") or _int_ge0(v) and v > 0,
            {"oneOf": [{"enum": ["all", "one"]}, {"type": "integer", "minimum": 1}]})
REQUIRES = Kind("requires", "a task name or a list of task names",
                lambda v: _nonempty_str(v) or _str_list(v),
                {"oneOf": [_NONEMPTY_STRING_JSON, _STRING_LIST_JSON]})
ON_CLAUSE = Kind(
    "on-clause", "a task name, a list of task names (optionally 'name: <% condition %>'), "
    "or a mapping with 'publish' and 'next'",
    lambda v: _nonempty_str(v) or isinstance(v, list | dict),
    {"oneOf": [{"$ref": "#/$defs/next"}, {"$ref": "#/$defs/advanced-on-clause"}]})
PUBLISH_SCOPES = Kind("publish-scopes", "a mapping with 'branch', 'global' and/or 'atomic'",
                      lambda v: isinstance(v, dict), {"$ref": "#/$defs/publish-scopes"})
TASKS = Kind("tasks", "a mapping of task names to tasks", lambda v: isinstance(v, dict),
             {"type": "object", "minProperties": 1,
              "additionalProperties": {"$ref": "#/$defs/task"}})
TASK_DEFAULTS = Kind("task-defaults", "a mapping of default task attributes",
                     lambda v: isinstance(v, dict), {"$ref": "#/$defs/task-defaults"})
WORKFLOWS = Kind("workflows", "a mapping of workflow names to workflows",
                 lambda v: isinstance(v, dict),
                 {"type": "object", "additionalProperties": {"$ref": "#/$defs/workflow"},
                  "propertyNames": {"pattern": r"^(?!version$)[\w-]+$"}})
ACTIONS = Kind("actions", "a mapping of action names to ad-hoc actions",
               lambda v: isinstance(v, dict),
               {"type": "object", "additionalProperties": {"$ref": "#/$defs/action"},
                "propertyNames": {"pattern": r"^(?!version$)[\w-]+$"}})

_POLICIES: dict[str, Field] = {
    "retry": Field(RETRY, doc="Re-run the task while it fails"),
    "wait-before": Field(INT_OR_EXPRESSION, doc="Seconds to wait before starting"),
    "wait-after": Field(INT_OR_EXPRESSION, doc="Seconds to wait after completing"),
    "timeout": Field(INT_OR_EXPRESSION, doc="Seconds before the task fails as timed out"),
    "pause-before": Field(BOOL_OR_EXPRESSION, doc="Pause the workflow before this task"),
    "concurrency": Field(INT_OR_EXPRESSION, doc="Most with-items iterations running at once"),
    "fail-on": Field(BOOL_OR_EXPRESSION, doc="Fail a successful task when true"),
}
_TRANSITIONS: dict[str, Field] = {
    "on-success": Field(ON_CLAUSE, doc="Next tasks when the task succeeds"),
    "on-error": Field(ON_CLAUSE, doc="Next tasks when the task fails (handles the error)"),
    "on-complete": Field(ON_CLAUSE, doc="Next tasks whatever the outcome"),
    "on-skip": Field(ON_CLAUSE, doc="Next tasks when the task is skipped"),
}

WORKFLOW_FIELDS: dict[str, Field] = {
    "version": Field(VERSION), "description": Field(TEXT), "tags": Field(STRING_LIST),
    "type": Field(WORKFLOW_TYPE, doc="direct (default) or reverse"),
    "input": Field(INPUT_LIST), "output": Field(MAPPING_OR_EXPRESSION),
    "output-on-error": Field(MAPPING_OR_EXPRESSION), "vars": Field(MAPPING),
    "task-defaults": Field(TASK_DEFAULTS), "tasks": Field(TASKS, required=True),
}
TASK_FIELDS: dict[str, Field] = {
    "description": Field(TEXT), "tags": Field(STRING_LIST),
    "action": Field(ACTION_REF), "workflow": Field(ACTION_REF),
    "input": Field(MAPPING_OR_EXPRESSION), "publish": Field(MAPPING),
    "publish-on-error": Field(MAPPING), "publish-on-skip": Field(MAPPING),
    "with-items": Field(WITH_ITEMS), **_POLICIES,
    "keep-result": Field(BOOL_OR_EXPRESSION), "target": Field(STRING),
    "safe-rerun": Field(BOOL_OR_EXPRESSION),
}
DIRECT_TASK_FIELDS: dict[str, Field] = {"join": Field(JOIN), **_TRANSITIONS}
REVERSE_TASK_FIELDS: dict[str, Field] = {"requires": Field(REQUIRES)}
TASK_DEFAULTS_FIELDS: dict[str, Field] = {
    **_POLICIES, **_TRANSITIONS, "safe-rerun": Field(BOOL_OR_EXPRESSION),
    "requires": Field(REQUIRES),
}
RETRY_FIELDS: dict[str, Field] = {
    "count": Field(INT_OR_EXPRESSION, required=True, doc="Most repetitions"),
    "delay": Field(INT_OR_EXPRESSION, required=True, doc="Seconds between attempts"),
    "break-on": Field(EXPRESSION, doc="Stop retrying when true"),
    "continue-on": Field(EXPRESSION, doc="Keep iterating while true"),
    # wfaas extension: backoff, jitter, error filter (docs/lang.md "Retry with backoff")
    "backoff": Field(BACKOFF, doc="constant (Mistral's), linear or exponential growth of the "
                     "delay (wfaas extension)"),
    "multiplier": Field(NUMBER_OR_EXPRESSION, doc="Growth factor of exponential backoff, "
                        "default 2 (wfaas extension)"),
    "max-delay": Field(NUMBER_OR_EXPRESSION, doc="Longest wait in seconds (wfaas extension)"),
    "jitter": Field(JITTER, doc="true or a fraction in [0, 1]: shorten each wait by a random "
                    "part of up to that fraction (wfaas extension)"),
    "on-errors": Field(STRING_LIST, doc="Regular expressions: retry only errors matching one "
                       "(wfaas extension)"),
}
PUBLISH_FIELDS: dict[str, Field] = {
    "branch": Field(MAPPING), "global": Field(MAPPING), "atomic": Field(MAPPING)}
ADVANCED_ON_FIELDS: dict[str, Field] = {
    "publish": Field(PUBLISH_SCOPES), "next": Field(ON_CLAUSE)}
WORKBOOK_FIELDS: dict[str, Field] = {
    "version": Field(VERSION, required=True), "name": Field(STRING, required=True),
    "description": Field(TEXT), "tags": Field(STRING_LIST),
    "workflows": Field(WORKFLOWS), "actions": Field(ACTIONS),
}
ACTION_FIELDS: dict[str, Field] = {
    "base": Field(ACTION_REF, required=True), "base-input": Field(MAPPING),
    "input": Field(INPUT_LIST), "output": Field(ANY), "description": Field(TEXT),
    "tags": Field(STRING_LIST),
}

NAME_PATTERN = re.compile(r"^(?!version$)[\w-]+$")


def _object(fields: Mapping[str, Field], **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object",
                           "properties": {k: dict(f.kind.json) for k, f in fields.items()},
                           "additionalProperties": False}
    required = [k for k, f in fields.items() if f.required]
    if required:
        out["required"] = required
    out.update(extra)
    return out


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of workflow, workbook and action documents."""
    next_item = {"oneOf": [{"type": "string", "minLength": 1},
                           {"type": "object", "minProperties": 1, "maxProperties": 1,
                            "additionalProperties": _EXPRESSION_JSON}]}
    task = _object({**TASK_FIELDS, **DIRECT_TASK_FIELDS, **REVERSE_TASK_FIELDS},
                   not_={"required": ["action", "workflow"]})
    task["not"] = task.pop("not_")
    defs: dict[str, Any] = {
        "workflow": _object(WORKFLOW_FIELDS),
        "task": task,
        "task-defaults": _object(TASK_DEFAULTS_FIELDS),
        "retry": _object(RETRY_FIELDS),
        "with-items-entry": {"type": "string", "pattern": r"^\s*[-\w]+\s+in\s+\S"},
        "next": {"oneOf": [{"type": "string", "minLength": 1}, next_item["oneOf"][1],
                           {"type": "array", "minItems": 1, "items": next_item}]},
        "advanced-on-clause": _object(ADVANCED_ON_FIELDS, minProperties=1),
        "publish-scopes": _object(PUBLISH_FIELDS, minProperties=1),
        "action": _object(ACTION_FIELDS),
        "workbook": _object(WORKBOOK_FIELDS),
    }
    named = {"type": "object", "properties": {"version": dict(VERSION.json)},
             "propertyNames": {"pattern": r"^[^\s]+$"}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://wfaas.invalid/schemas/dsl-v2.schema.json",
        "title": "wfaas workflow language v2 (Mistral DSL v2)",
        "description": "A workbook, a workflow file (version + workflows by name) or an "
                       "ad-hoc action file (version + actions by name).",
        "anyOf": [
            {"$ref": "#/$defs/workbook"},
            {**named, "title": "workflows", "additionalProperties": {"$ref": "#/$defs/workflow"},
             "minProperties": 1},
            {**named, "title": "actions", "additionalProperties": {"$ref": "#/$defs/action"},
             "minProperties": 1},
        ],
        "$defs": defs,
    }
