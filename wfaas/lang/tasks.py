"""Parsing of tasks, task-defaults and their nested structures into specs.

Every function records problems on the :class:`Checker` and returns what it
could build, so one pass reports every mistake of a task.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from wfaas.lang import schema
from wfaas.lang.checker import Checker, suggest, type_name
from wfaas.lang.inline import is_expression, parse_params, parse_with_items_entry, split_command
from wfaas.lang.specs import (
    ENGINE_COMMANDS,
    OnClause,
    PublishSpec,
    RetrySpec,
    TaskSpec,
    Transition,
    WithItemsSpec,
    WorkflowType,
)
from wfaas.lang.yamlload import Path

MAX_TASK_NAME = 255
MAX_JOIN_TASK_NAME = MAX_TASK_NAME - 47
CLAUSES = ("on-success", "on-error", "on-complete", "on-skip")
POLICY_KEYS = ("wait-before", "wait-after", "timeout", "pause-before", "concurrency", "fail-on")

# keys validated piece by piece after parsing (not as raw strings)
_PARSED_KEYS = frozenset({"description", "tags", "action", "workflow", "with-items", "retry",
                          "requires", *CLAUSES})
_DIRECT_ONLY = {k: f"'{k}' is only valid in direct workflows (this workflow is reverse)"
                for k in schema.DIRECT_TASK_FIELDS}
_REVERSE_ONLY = {"requires": "'requires' is only valid in reverse workflows "
                             "(add 'type: reverse' to the workflow)"}


@dataclass
class TaskContext:
    """What task parsing needs to know about the enclosing workflow."""

    wf_type: WorkflowType
    task_names: frozenset[str]
    validate: Any = None


def parse_transition(chk: Checker, entry: Any, path: Path,
                     ctx: TaskContext) -> Transition | None:
    """One entry of a next-list: ``name``, ``fail msg=x`` or ``{name: <% cond %>}``."""
    condition = None
    text = entry
    if isinstance(entry, dict):
        if len(entry) != 1:
            chk.add(path, "a guarded transition must be one 'task_name: <% condition %>' pair")
            return None
        text, condition = next(iter(entry.items()))
        if not is_expression(condition):
            chk.add(path + (text,), f"the condition of '{text}' must be one expression "
                    f"(<% ... %> or {{{{ ... }}}}), not {type_name(condition)}")
    if not isinstance(text, str) or not text.strip():
        chk.add(path, f"a transition must name a task or an engine command, not "
                f"{type_name(text)}")
        return None
    target, params, errors = split_command(text)
    for err in errors:
        chk.add(path, f"invalid transition '{text}': {err}")
    if ctx.validate is not None:
        chk.expressions(params, path, ctx.validate)
        if condition is not None:
            chk.expressions(condition, path + (text,), ctx.validate)
    is_command = target in ENGINE_COMMANDS and target not in ctx.task_names
    if not is_command:
        if target not in ctx.task_names:
            known = sorted(ctx.task_names | ENGINE_COMMANDS)
            chk.add(path, f"transition to unknown task '{target}'{suggest(target, known)}")
    if is_command and params and set(params) - {"msg"}:
        bad = sorted(set(params) - {"msg"})
        chk.add(path, f"engine command '{target}' takes only 'msg', not {bad}")
    line = (chk.doc.pos(path) or (None, None))[0]
    return Transition(target, condition, is_command, params, line)


def parse_next(chk: Checker, value: Any, path: Path,
               ctx: TaskContext) -> tuple[Transition, ...]:
    """A next-clause: a name, a guarded one-key mapping, or a list of those."""
    if isinstance(value, list):
        if not value:
            chk.add(path, "the list of next tasks is empty")
        items = [(v, path + (i,)) for i, v in enumerate(value)]
    elif isinstance(value, str | dict):
        items = [(value, path)]
    else:
        chk.add(path, f"must be a task name or a list of task names, not {type_name(value)}")
        return ()
    out = [parse_transition(chk, v, p, ctx) for v, p in items]
    return tuple(t for t in out if t is not None)


def parse_on_clause(chk: Checker, value: Any, path: Path,
                    ctx: TaskContext) -> OnClause | None:
    """An on-xxx clause in any of its simple forms or the {publish, next} form."""
    if isinstance(value, dict) and ({"publish", "next"} & set(value) or len(value) != 1):
        good = chk.mapping(value, path, schema.ADVANCED_ON_FIELDS, "an advanced on-clause")
        if not value:
            chk.add(path, "an empty on-clause: give next tasks, or 'publish' and/or 'next'")
        publish = None
        if "publish" in good:
            scopes = chk.mapping(good["publish"], path + ("publish",), schema.PUBLISH_FIELDS,
                                 "publish")
            if not scopes and good["publish"] == {}:
                chk.add(path + ("publish",), "publish needs 'branch', 'global' or 'atomic'")
            if ctx.validate is not None:
                chk.expressions(scopes, path + ("publish",), ctx.validate)
            publish = PublishSpec(branch=scopes.get("branch", {}),
                                  global_=scopes.get("global", {}),
                                  atomic=scopes.get("atomic", {}))
        nxt = parse_next(chk, good["next"], path + ("next",), ctx) \
            if "next" in good else ()
        return OnClause(next=nxt, publish=publish)
    return OnClause(next=parse_next(chk, value, path, ctx))


def invalid_patterns(patterns: Any) -> list[str]:
    """Messages for the retry ``on-errors`` entries that are not regular expressions."""
    out = []
    for p in patterns if isinstance(patterns, list) else []:
        try:
            re.compile(p)
        except (re.error, TypeError) as exc:
            out.append(f"on-errors pattern {p!r} is not a valid regular expression: {exc}")
    return out


def parse_retry(chk: Checker, value: Any, path: Path,
                validate: Any = None) -> RetrySpec | None:
    """``retry`` as a mapping or as the one-line ``count=N delay=N ...`` string."""
    if isinstance(value, str):
        data, errors = parse_params(value)
        for err in errors:
            chk.add(path, f"invalid retry '{value}': {err}")
        for key in data:
            if key not in schema.RETRY_FIELDS:
                chk.add(path, f"unknown retry parameter '{key}'"
                        f"{suggest(key, schema.RETRY_FIELDS)}")
        data = {k: v for k, v in data.items() if k in schema.RETRY_FIELDS}
        bad = [k for k, v in data.items() if not schema.RETRY_FIELDS[k].kind.check(v)]
        for key in bad:
            chk.add(path, f"retry '{key}' must be {schema.RETRY_FIELDS[key].kind.describe}, "
                    f"not {type_name(data[key])}")
        for key, fld in schema.RETRY_FIELDS.items():
            if fld.required and key not in data:
                chk.add(path, f"retry is missing the required parameter '{key}'")
        good = {k: v for k, v in data.items() if k not in bad}
    else:
        good = chk.mapping(value, path, schema.RETRY_FIELDS, "retry")
    if validate is not None:
        chk.expressions(good, path, validate)
    for message in invalid_patterns(good.get("on-errors")):
        chk.add(path + ("on-errors",), message)
    if "count" not in good:
        return None
    return RetrySpec(count=good["count"], delay=good.get("delay", 0),
                     break_on=good.get("break-on"), continue_on=good.get("continue-on"),
                     backoff=good.get("backoff"), multiplier=good.get("multiplier"),
                     max_delay=good.get("max-delay"), jitter=good.get("jitter"),
                     on_errors=tuple(good.get("on-errors") or ()))


def parse_with_items(chk: Checker, value: Any, path: Path,
                     validate: Any = None) -> WithItemsSpec | None:
    """``with-items`` in all its forms; variables must be unique."""
    entries = [(value, path)] if isinstance(value, str) else \
        [(v, path + (i,)) for i, v in enumerate(value)]
    items: list[tuple[str, Any]] = []
    for text, p in entries:
        if not isinstance(text, str):
            chk.add(p, f"a with-items entry must be a string 'var in <collection>', "
                    f"not {type_name(text)}")
            continue
        var, coll, err = parse_with_items_entry(text)
        if err:
            chk.add(p, f"invalid with-items '{text}': {err}")
            continue
        if validate is not None:
            chk.expressions(coll, p, validate)
        if any(var == v for v, _ in items):
            chk.add(p, f"with-items variable '{var}' is declared twice")
            continue
        items.append((var, coll))
    return WithItemsSpec(tuple(items)) if items else None


def parse_task(chk: Checker, name: str, raw: Any, path: Path,
               ctx: TaskContext) -> TaskSpec | None:
    """Build one task (without task-defaults) and record its problems."""
    fields = dict(schema.TASK_FIELDS)
    fields.update(schema.DIRECT_TASK_FIELDS if ctx.wf_type == "direct"
                  else schema.REVERSE_TASK_FIELDS)
    hints = _DIRECT_ONLY if ctx.wf_type == "reverse" else _REVERSE_ONLY
    if len(name) > MAX_TASK_NAME:
        chk.add(path, f"the task name is longer than {MAX_TASK_NAME} characters", key=True)
    if raw is None:
        raw = {}
    good = chk.mapping(raw, path, fields, f"task '{name}'", extra_hint=hints)
    if not isinstance(raw, dict):
        return None
    if ctx.validate is not None:
        for key, value in good.items():
            if key not in _PARSED_KEYS:
                chk.expressions(value, path + (key,), ctx.validate)
    kw: dict[str, Any] = {"name": name, "workflow_type": ctx.wf_type,
                          "line": (chk.doc.pos(path, key=True) or (None,))[0]}
    if "action" in raw and "workflow" in raw:
        chk.add(path, f"task '{name}' has both 'action' and 'workflow'; keep only one")
    for key in ("action", "workflow"):
        if key in good:
            cmd, params, errors = split_command(good[key])
            for err in errors:
                chk.add(path + (key,), f"invalid {key} '{good[key]}': {err}")
            kw[key], kw["inline_input"] = cmd, params
            if ctx.validate is not None:
                chk.expressions(cmd, path + (key,), ctx.validate)
                chk.expressions(params, path + (key,), ctx.validate)
            if key == "workflow":
                kw["type"] = "workflow"
            break
    _simple(good, kw)
    if "retry" in good:
        kw["retry"] = parse_retry(chk, good["retry"], path + ("retry",), ctx.validate)
    if "with-items" in good:
        kw["with_items"] = parse_with_items(chk, good["with-items"], path + ("with-items",),
                                            ctx.validate)
    if "join" in good:
        if len(name) > MAX_JOIN_TASK_NAME:
            chk.add(path, f"a join task name must not be longer than {MAX_JOIN_TASK_NAME} "
                    "characters", key=True)
        kw["join"] = good["join"]
    for key in CLAUSES:
        if key in good:
            kw[key.replace("-", "_")] = parse_on_clause(chk, good[key], path + (key,), ctx)
    if "requires" in good:
        kw["requires"] = _requires(chk, good["requires"], path + ("requires",), ctx, name)
    return TaskSpec(**kw)


def _simple(good: dict[str, Any], kw: dict[str, Any]) -> None:
    for key in ("description", "input", "publish", "publish-on-error", "publish-on-skip",
                "concurrency", "wait-before", "wait-after", "timeout", "pause-before",
                "fail-on", "keep-result", "target", "safe-rerun"):
        if key in good:
            kw[key.replace("-", "_")] = good[key]
    if "tags" in good:
        kw["tags"] = tuple(good["tags"])


def _requires(chk: Checker, value: Any, path: Path, ctx: TaskContext,
              owner: str | None = None) -> tuple[str, ...]:
    names = [value] if isinstance(value, str) else list(value)
    for i, req in enumerate(names):
        p = path if isinstance(value, str) else path + (i,)
        if req not in ctx.task_names:
            chk.add(p, f"'requires' names unknown task '{req}'"
                    f"{suggest(req, ctx.task_names)}")
        elif req == owner:
            chk.add(p, f"task '{owner}' cannot require itself")
    return tuple(names)


def parse_defaults(chk: Checker, raw: Any, path: Path, ctx: TaskContext) -> dict[str, Any]:
    """task-defaults as TaskSpec keyword values (transitions checked against tasks)."""
    hints = _DIRECT_ONLY if ctx.wf_type == "reverse" else _REVERSE_ONLY
    fields = {k: f for k, f in schema.TASK_DEFAULTS_FIELDS.items()
              if not (ctx.wf_type == "reverse" and k in CLAUSES)
              and not (ctx.wf_type == "direct" and k == "requires")}
    good = chk.mapping(raw, path, fields, "task-defaults",
                       extra_hint={k: v for k, v in hints.items() if k not in fields})
    if ctx.validate is not None:
        for key, value in good.items():
            if key not in _PARSED_KEYS:
                chk.expressions(value, path + (key,), ctx.validate)
    kw: dict[str, Any] = {}
    for key in (*POLICY_KEYS, "safe-rerun"):
        if key in good:
            kw[key.replace("-", "_")] = good[key]
    if "retry" in good:
        kw["retry"] = parse_retry(chk, good["retry"], path + ("retry",), ctx.validate)
    for key in CLAUSES:
        if key in good:
            kw[key.replace("-", "_")] = parse_on_clause(chk, good[key], path + (key,), ctx)
    if "requires" in good:
        kw["requires"] = _requires(chk, good["requires"], path + ("requires",), ctx)
    return kw


def apply_defaults(task: TaskSpec, raw: dict[str, Any], defaults: dict[str, Any]) -> TaskSpec:
    """Merge task-defaults into a task the way Mistral does.

    Policies and ``safe-rerun``: the task's own value wins. Transitions: a
    default clause is used only when the task's clause has no next tasks, and a
    default transition to the task itself is dropped. ``requires``: unioned,
    without the task itself.
    """
    changes: dict[str, Any] = {}
    for key in ("retry", *POLICY_KEYS, "safe-rerun"):
        attr = key.replace("-", "_")
        if attr in defaults and key not in raw:
            changes[attr] = defaults[attr]
    for key in CLAUSES:
        attr = key.replace("-", "_")
        default: OnClause | None = defaults.get(attr)
        own: OnClause | None = getattr(task, attr)
        if default is None or (own is not None and own.next):
            continue
        nxt = tuple(t for t in default.next if t.is_command or t.target != task.name)
        if not nxt:
            continue
        changes[attr] = OnClause(next=nxt, publish=own.publish if own else None)
    if defaults.get("requires"):
        reqs = list(task.requires)
        reqs += [r for r in defaults["requires"] if r not in reqs and r != task.name]
        changes["requires"] = tuple(r for r in reqs if r != task.name)
    return replace(task, **changes) if changes else task
