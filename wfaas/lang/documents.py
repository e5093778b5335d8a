"""Documents: workflow files, workbooks and ad-hoc action files.

The public entry points (re-exported by :mod:`wfaas.lang`) raise
:class:`~wfaas.exceptions.DSLError` listing every problem of the document, or
:class:`~wfaas.exceptions.DocumentTooLarge` over ``max_bytes``.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import replace
from typing import Any

from wfaas.exceptions import DSLError, Problem
from wfaas.lang import schema
from wfaas.lang.checker import Checker, expression_validator, suggest, type_name
from wfaas.lang.inline import split_command
from wfaas.lang.specs import ActionSpec, WorkbookSpec, WorkflowSpec
from wfaas.lang.workflows import check_name, check_version, parse_input_list, parse_workflow
from wfaas.lang.yamlload import Located, Path, load

KINDS = ("workflows", "workbook", "actions")


def _fail(problems: list[Problem], what: str) -> None:
    if problems:
        problems.sort(key=lambda p: (p.line or 0, p.column or 0))
        raise DSLError(f"Invalid {what}: " + "; ".join(str(p) for p in problems[:20])
                       + (f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""),
                       problems)


def _slice(doc: Located, path: Path) -> str:
    """The text of the item at ``path`` (its key line to the next key at its level)."""
    start = doc.keys.get(path)
    if start is None:
        return ""
    depth = len(path)
    end_line = min((pos[0] for p, pos in doc.keys.items()
                    if len(p) <= depth and pos[0] > start[0]), default=None)
    lines = doc.text.splitlines(keepends=True)[start[0] - 1:(end_line - 1) if end_line else None]
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        return ""
    indent = start[1] - 1
    body = lines[0][indent:] + _reindent(lines[1:], indent)
    return body if body.endswith("\n") else body + "\n"


def _reindent(lines: list[str], indent: int) -> str:
    out = []
    for line in lines:
        lead = len(line) - len(line.lstrip(" "))
        out.append(line[min(lead, indent):])
    return "".join(out)


def _top(chk: Checker, what: str) -> dict[str, Any]:
    data = chk.doc.data
    if data is None:
        chk.add((), f"the {what} document is empty")
        return {}
    if not isinstance(data, dict):
        chk.add((), f"the {what} document must be a mapping, not {type_name(data)}")
        return {}
    return data


def _workflows_from(chk: Checker, validate: Any) -> list[WorkflowSpec]:
    data = _top(chk, "workflow")
    if "version" in data:
        check_version(chk, data["version"], ("version",))
    names = [k for k in data if k != "version"]
    if data and not names:
        chk.add((), "the document defines no workflow: add 'my_workflow: {tasks: ...}'")
    if isinstance(data.get("workflows"), dict) and isinstance(data.get("name"), str):
        chk.add((), "this looks like a workbook (it has 'name' and 'workflows'): "
                "upload it as a workbook")
        return []
    specs = []
    for name in names:
        if not isinstance(data[name], dict) and suggest(str(name), ["version"]):
            chk.add((name,), f"'{name}' is not a workflow{suggest(str(name), ['version'])}",
                    key=True)
            continue
        spec = parse_workflow(chk, str(name), data[name], (name,), validate)
        if spec is None:
            continue
        if len(names) == 1:
            definition = chk.doc.text
        else:
            definition = "version: '2.0'\n\n" + _slice(chk.doc, (name,))
        specs.append(_with_definition(spec, definition))
    return specs


def _with_definition(spec: Any, definition: str) -> Any:
    return replace(spec, definition=definition)


def _action(chk: Checker, name: str, raw: Any, path: Path, full_name: str) -> ActionSpec | None:
    good = chk.mapping(raw, path, schema.ACTION_FIELDS, f"action '{name}'")
    if not isinstance(raw, dict) or "base" not in good:
        return None
    base, params, errors = split_command(good["base"])
    for err in errors:
        chk.add(path + ("base",), f"invalid base '{good['base']}': {err}")
    validate = expression_validator()
    if validate is not None:
        chk.expressions(params, path + ("base",), validate)
        for key in ("base-input", "output"):
            if key in good:
                chk.expressions(good[key], path + (key,), validate)
    return ActionSpec(
        name=full_name, base=base, base_input={**params, **good.get("base-input", {})},
        input=parse_input_list(chk, good["input"], path + ("input",)) if "input" in good
        else (),
        output=good.get("output"), description=good.get("description"),
        tags=tuple(good.get("tags", ())), line=(chk.doc.pos(path, key=True) or (None,))[0])


def _check_cycles(chk: Checker, actions: dict[str, ActionSpec], paths: dict[str, Path],
                  prefix: str = "") -> None:
    """Report each cycle of ad-hoc actions whose bases chain inside the document."""
    def base_of(name: str) -> str | None:
        base = actions[name].base
        for cand in (f"{prefix}{base}" if prefix else base, base):
            if cand in actions:
                return cand
        return None

    reported: set[frozenset[str]] = set()
    for start in actions:
        chain = [start]
        nxt = base_of(start)
        while nxt is not None and nxt not in chain:
            chain.append(nxt)
            nxt = base_of(nxt)
        if nxt is None:
            continue
        cycle = chain[chain.index(nxt):]
        key = frozenset(cycle)
        if key in reported:
            continue
        reported.add(key)
        shown = " -> ".join([*cycle, nxt])
        chk.add(paths[cycle[0]] + ("base",), f"found a cycle in an ad-hoc action chain: {shown}")


def _actions_from(chk: Checker) -> list[ActionSpec]:
    data = _top(chk, "action")
    if "version" in data:
        check_version(chk, data["version"], ("version",))
    names = [k for k in data if k != "version"]
    if data and not names:
        chk.add((), "the document defines no action: add 'my_action: {base: std.echo}'")
    out: dict[str, ActionSpec] = {}
    paths: dict[str, Path] = {}
    for name in names:
        if not check_name(chk, name, (name,), "action"):
            continue
        spec = _action(chk, str(name), data[name], (name,), str(name))
        if spec is not None:
            text = chk.doc.text if len(names) == 1 else _slice(chk.doc, (name,))
            out[spec.name] = _with_definition(spec, text)
            paths[spec.name] = (name,)
    _check_cycles(chk, out, paths)
    return list(out.values())


def _workbook_from(chk: Checker, validate: Any) -> WorkbookSpec | None:
    data = _top(chk, "workbook")
    good = chk.mapping(data, (), schema.WORKBOOK_FIELDS, "the workbook") if data else {}
    if "version" in good:
        check_version(chk, good["version"], ("version",))
    wb = good.get("name")
    if wb is None:
        if not chk.problems:
            chk.add((), "the workbook has no 'name': add 'name: my_workbook' and its 'workflows'")
        return None
    check_name(chk, wb, ("name",), "workbook")
    workflows: dict[str, WorkflowSpec] = {}
    for name, raw in good.get("workflows", {}).items():
        path: Path = ("workflows", name)
        if not schema.NAME_PATTERN.match(str(name)):
            chk.add(path, f"workbook member name '{name}' may only contain letters, digits, "
                    "'_' and '-'", key=True)
            continue
        spec = parse_workflow(chk, f"{wb}.{name}", raw, path, validate)
        if spec is not None:
            workflows[spec.name] = _with_definition(spec, _slice(chk.doc, path))
    actions: dict[str, ActionSpec] = {}
    paths: dict[str, Path] = {}
    for name, raw in good.get("actions", {}).items():
        path = ("actions", name)
        if not schema.NAME_PATTERN.match(str(name)):
            chk.add(path, f"workbook member name '{name}' may only contain letters, digits, "
                    "'_' and '-'", key=True)
            continue
        act = _action(chk, str(name), raw, path, f"{wb}.{name}")
        if act is not None:
            actions[act.name] = _with_definition(act, _slice(chk.doc, path))
            paths[act.name] = path
    _check_cycles(chk, actions, paths, prefix=f"{wb}.")
    return WorkbookSpec(name=wb, description=good.get("description"),
                        tags=tuple(good.get("tags", ())), workflows=workflows,
                        actions=actions, definition=chk.doc.text)


def _checker(text: str, max_bytes: int | None) -> Checker:
    doc, problems = load(text, max_bytes=max_bytes)
    chk = Checker(doc)
    chk.problems.extend(problems)
    return chk


def parse_workflows(text: str, *, max_bytes: int | None = None) -> list[WorkflowSpec]:
    """Parse a workflow file (``version`` + one or more workflows by name)."""
    chk = _checker(text, max_bytes)
    specs = _workflows_from(chk, expression_validator())
    _fail(chk.problems, "workflow definition")
    return specs


def parse_workbook(text: str, *, max_bytes: int | None = None) -> WorkbookSpec:
    """Parse a workbook; member names become ``<workbook>.<name>``."""
    chk = _checker(text, max_bytes)
    spec = _workbook_from(chk, expression_validator())
    _fail(chk.problems, "workbook definition")
    assert spec is not None  # no problems means the name was there
    return spec


def parse_actions(text: str, *, max_bytes: int | None = None) -> list[ActionSpec]:
    """Parse an ad-hoc action file (``version`` + one or more actions by name)."""
    chk = _checker(text, max_bytes)
    specs = _actions_from(chk)
    _fail(chk.problems, "action definition")
    return specs


def _kind_of(data: Any) -> str:
    if not isinstance(data, dict):
        return "workflows"
    if "workflows" in data or "actions" in data or isinstance(data.get("name"), str):
        return "workbook"
    items = [v for k, v in data.items() if k != "version"]
    maps = [v for v in items if isinstance(v, dict)]
    if any("base" in v for v in maps) and not any("tasks" in v for v in maps):
        return "actions"
    return "workflows"


def detect_kind(text: str) -> str:
    """``"workbook"``, ``"actions"`` or ``"workflows"`` from the document's shape."""
    try:
        doc, _ = load(text)
    except DSLError:
        return "workflows"
    return _kind_of(doc.data)


def validate_text(text: str, kind: str | None = None, *,
                  max_bytes: int | None = None) -> list[Problem]:
    """Every problem of a document (empty when valid); ``kind`` None detects it."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    try:
        chk = _checker(text, max_bytes)
    except DSLError as exc:
        return list(exc.problems)
    kind = kind or _kind_of(chk.doc.data)
    validate = expression_validator()
    if kind == "workbook":
        _workbook_from(chk, validate)
    elif kind == "actions":
        _actions_from(chk)
    else:
        _workflows_from(chk, validate)
    return sorted(chk.problems, key=lambda p: (p.line or 0, p.column or 0))


_CACHE: OrderedDict[str, list[WorkflowSpec]] = OrderedDict()
_CACHE_LOCK = threading.Lock()
CACHE_SIZE = 256


def parse_workflows_cached(text: str) -> list[WorkflowSpec]:
    """:func:`parse_workflows` memoised by the SHA-256 of the text (LRU)."""
    key = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return list(hit)
    specs = parse_workflows(text)
    with _CACHE_LOCK:
        _CACHE[key] = specs
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return list(specs)


def clear_cache() -> None:
    """Forget every cached parse."""
    with _CACHE_LOCK:
        _CACHE.clear()
