"""Checks of untrusted input at the edge: JSON nesting depth, Unicode, finite numbers,
the name grammar of definitions, and client-given ids.

Pure (standard library only). Every check raises :class:`InputProblem` naming the
field and the problem; the API turns it into a 400, the DSL checker into a
validation problem. Nothing here recurses, so a document nested 10,000 levels
deep is refused without touching Python's recursion limit.

- :func:`loads` -- JSON text -> value: malformed JSON, nesting deeper than
  ``max_depth``, ``NaN``/``Infinity`` (or a number overflowing to infinity) and
  lone UTF-16 surrogates (``"\\ud800"``) are refused.
- :func:`check_value` -- the same checks on an already decoded value.
- :func:`name_problem` / :func:`check_name` -- the name grammar of workflows,
  workbooks, actions, environments and triggers.
- :func:`check_uuid` -- a client-given id must be a UUID.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

#: default of ``[api] max_json_depth``
DEFAULT_MAX_DEPTH = 100
#: longest name (Mistral's name columns are VARCHAR(255))
MAX_NAME_LENGTH = 255

#: a JSON string (unrolled-loop form: no per-character alternation)
_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_DELTA = {"[": 1, "{": 1, "]": -1, "}": -1}
_SURROGATE = re.compile("[\ud800-\udfff]")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                   r"[0-9a-fA-F]{12}$")


class InputProblem(ValueError):
    """Input refused at the edge: ``field`` (where) and ``problem`` (what is wrong)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field
        self.problem = problem


def shown(text: str, limit: int = 60) -> str:
    """``text`` safe to echo in a message: quoted, escaped (no surrogate, no control
    character reaches a response or a log) and shortened."""
    return ascii(text[:limit]) + ("..." if len(text) > limit else "")


# ---------------------------------------------------------------------------- JSON


def json_depth_exceeds(text: str, max_depth: int) -> bool:
    """True when the JSON text nests arrays/objects deeper than ``max_depth``.

    No recursion and no Python-level loop: when there are fewer brackets than the
    limit nothing is scanned; otherwise strings are removed and the running depth
    over the remaining brackets is computed with C-implemented iterators.
    """
    if text.count("[") + text.count("{") <= max_depth:
        return False
    brackets = _BRACKETS.findall(_STRINGS.sub("", text))
    return max(accumulate(map(_DELTA.__getitem__, brackets)), default=0) > max_depth


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid number (only finite numbers are accepted)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is too large (only finite numbers are accepted)")
    return value


#: one decoder for every call (``json.loads`` with hooks builds a new one each time)
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


def loads(text: str | bytes, *, field: str = "body",
          max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Decode JSON ``text`` with every check; raises :class:`InputProblem` naming ``field``."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputProblem(field, f"not valid UTF-8 ({exc.reason} at byte "
                                      f"{exc.start})") from None
    if max_depth >= 0 and json_depth_exceeds(text, max_depth):
        raise InputProblem(field, f"JSON nested deeper than {max_depth} levels "
                                  "([api] max_json_depth)")
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise InputProblem(field, "JSON nested too deeply") from None
    except ValueError as exc:
        raise InputProblem(field, f"invalid JSON: {exc}") from None
    if "\\u" in text or _SURROGATE.search(text):
        check_value(value, field=field, max_depth=-1)
    return value


def _problem_of(value: Any) -> str | None:
    if isinstance(value, str):
        found = _SURROGATE.search(value)
        if found:
            return (f"invalid Unicode: lone surrogate U+{ord(found.group()):04X} "
                    "(strings must be valid UTF-8 text)")
    elif isinstance(value, float) and not math.isfinite(value):
        return f"{value} is not a valid number (only finite numbers are accepted)"
    return None


def check_value(value: Any, *, field: str = "body", max_depth: int = DEFAULT_MAX_DEPTH) -> None:
    """Check a decoded value (iteratively): depth (``-1``: unchecked), Unicode of every
    string and key, finite floats. Raises :class:`InputProblem` with the path."""
    stack: list[tuple[Any, str, int]] = [(value, field, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if 0 <= max_depth < depth + 1:
                raise InputProblem(field, f"JSON nested deeper than {max_depth} levels at "
                                          f"{path} ([api] max_json_depth)")
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                if isinstance(key, str):
                    problem = _problem_of(key)
                    if problem:
                        raise InputProblem(field, f"{problem} in a key of {path}")
                    child_path = f"{path}.{key}" if key.isidentifier() else f"{path}[{key!a}]"
                else:
                    child_path = f"{path}[{key}]"
                stack.append((child, child_path, depth + 1))
            continue
        problem = _problem_of(item)
        if problem:
            raise InputProblem(field, f"{problem} at {path}")


def check_text(value: str, field: str) -> None:
    """A plain text field (a description, a tag) must be valid Unicode."""
    problem = _problem_of(value)
    if problem:
        raise InputProblem(field, problem)


# --------------------------------------------------------------------------- names


def name_problem(name: str) -> str | None:
    """What is wrong with ``name`` as a workflow/workbook/action/environment/trigger
    name, or None. Mistral's rules (no whitespace, at most 255 characters) plus: no
    ``/`` and no ``..`` (a name must be usable as one URL path segment), no control
    character, no lone surrogate."""
    if not name:
        return "must not be empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"is longer than {MAX_NAME_LENGTH} characters"
    if "/" in name:
        return "must not contain '/' (names are URL path segments)"
    if ".." in name:
        return "must not contain '..'"
    for char in name:
        if _SURROGATE.match(char):
            return f"contains a lone surrogate U+{ord(char):04X} (invalid Unicode)"
        if char.isspace():
            return "must not contain spaces"
        if ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0:
            return f"must not contain the control character U+{ord(char):04X}"
    return None


def check_name(name: Any, *, what: str = "name", field: str = "name") -> str:
    """``name`` when it follows the grammar; else :class:`InputProblem` naming it."""
    if not isinstance(name, str):
        raise InputProblem(field, f"a {what} name must be a string")
    problem = name_problem(name)
    if problem:
        raise InputProblem(field, f"{what} name {shown(name)} {problem}")
    return name


# ----------------------------------------------------------------------------- ids


def check_uuid(value: Any, field: str = "id") -> str:
    """A client-given id: a UUID (32 hex digits, hyphens optional), else InputProblem."""
    if not isinstance(value, str) or not _UUID.match(value):
        text = shown(value) if isinstance(value, str) else type(value).__name__
        raise InputProblem(field, f"{text} is not a UUID (e.g. "
                                  "'0b4ad8f2-0f1a-4f4c-9a39-0e2a8c8d7a51')")
    return value
