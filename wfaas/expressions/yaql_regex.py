"""yaql's regular-expression functions, on :mod:`wfaas.expressions.regex` (RE2).

Same names, signatures and results as yaql's ``standard_library.regex``
(``regex()``, ``matches``, ``=~`` / ``!~``, ``search``, ``searchAll``,
``split``, ``replace``, ``replaceBy``, ``escapeRegex``, ``isRegex``), but
patterns run on a linear-time engine and every match spends fuel. A match
published to a selector is ``$1`` (the whole match), ``$2``... (the groups)
and ``$<name>`` for named groups, each ``{value, start, end}``.
"""

from __future__ import annotations

import collections.abc  # noqa: F401  (yaql needs collections.abc imported first)
import re
from typing import Any

from yaql.language import specs, yaqltypes

from wfaas.expressions import regex as engine

_STR = yaqltypes.String()
_RX = engine.Regex


def _as_regex(pattern: Any) -> engine.Regex:
    return pattern if isinstance(pattern, engine.Regex) else engine.compile(pattern)


def _publish(context: Any, regexp: engine.Regex, match: Any) -> Any:
    child = context.create_child_context()
    child["$1"] = {"value": match.group(), "start": match.start(0), "end": match.end(0)}
    for index, value in enumerate(match.groups(), 1):
        child["$" + str(index + 1)] = {"value": value, "start": match.start(index),
                                       "end": match.end(index)}
    for name, index in regexp.groupindex.items():
        child["$" + name] = {"value": match.group(index), "start": match.start(index),
                             "end": match.end(index)}
    return child


def regex(pattern: str, ignore_case: bool = False, multi_line: bool = False,
          dot_all: bool = False) -> engine.Regex:
    """``regex(pattern, ignoreCase => false, multiLine => false, dotAll => false)``."""
    return engine.compile(pattern, ignore_case, multi_line, dot_all)


def matches(regexp: engine.Regex, string: str) -> bool:
    """``regexp.matches(string)``."""
    return regexp.search(string) is not None


def matches_string(string: str, regexp: str) -> bool:
    """``string.matches(pattern)``."""
    return _as_regex(regexp).search(string) is not None


def matches_operator_regex(string: str, regexp: engine.Regex) -> bool:
    """``string =~ regexp``."""
    return regexp.search(string) is not None


def matches_operator_string(string: str, pattern: str) -> bool:
    """``string =~ pattern``."""
    return _as_regex(pattern).search(string) is not None


def not_matches_operator_regex(string: str, regexp: engine.Regex) -> bool:
    """``string !~ regexp``."""
    return regexp.search(string) is None


def not_matches_operator_string(string: str, pattern: str) -> bool:
    """``string !~ pattern``."""
    return _as_regex(pattern).search(string) is None


def search(context: Any, regexp: engine.Regex, string: str, selector: Any = None) -> Any:
    """``regexp.search(string, selector => null)``."""
    found = regexp.search(string)
    if found is None:
        return None
    return found.group() if selector is None else selector(_publish(context, regexp, found))


def search_all(context: Any, regexp: engine.Regex, string: str, selector: Any = None) -> Any:
    """``regexp.searchAll(string, selector => null)``: lazily, every match."""
    for found in regexp.finditer(string):
        yield found.group() if selector is None else selector(_publish(context, regexp, found))


def split(regexp: engine.Regex, string: str, max_split: int = 0) -> list[str | None]:
    """``regexp.split(string, maxSplit => 0)``."""
    return regexp.split(string, max_split)


def split_string(string: str, regexp: engine.Regex, max_split: int = 0) -> list[str | None]:
    """``string.split(regexp, maxSplit => 0)``."""
    return regexp.split(string, max_split)


def replace(regexp: engine.Regex, string: str, repl: str, count: int = 0) -> str:
    """``regexp.replace(string, repl, count => 0)``."""
    return regexp.sub(repl, string, count)


def replace_string(string: str, regexp: engine.Regex, repl: str, count: int = 0) -> str:
    """``string.replace(regexp, repl, count => 0)``."""
    return regexp.sub(repl, string, count)


def replace_by(context: Any, regexp: engine.Regex, string: str, repl: Any,
               count: int = 0) -> str:
    """``regexp.replaceBy(string, repl, count => 0)``: ``repl`` computes each replacement."""
    return regexp.sub(lambda found: repl(_publish(context, regexp, found)), string, count)


def replace_by_string(context: Any, string: str, regexp: engine.Regex, repl: Any,
                      count: int = 0) -> str:
    """``string.replaceBy(regexp, repl, count => 0)``."""
    return replace_by(context, regexp, string, repl, count)


def escape_regex(string: str) -> str:
    """``escapeRegex(string)``."""
    return str(re.escape(string))


def is_regex(value: Any) -> bool:
    """``isRegex(value)``."""
    return isinstance(value, engine.Regex)


# yaql's declarations, applied as calls (the decorators are untyped):
# (function, yaql name or None, is a method, parameter types).
_RS = {"regexp": _RX, "string": _STR}
_DECLARATIONS: tuple[tuple[Any, str | None, bool, dict[str, Any]], ...] = (
    (regex, None, False, {"pattern": _STR}),
    (matches, None, True, _RS),
    (matches_string, "matches", True, {"string": _STR, "regexp": _STR}),
    (matches_operator_regex, "#operator_=~", False, _RS),
    (matches_operator_string, "#operator_=~", False, {"pattern": _STR, "string": _STR}),
    (not_matches_operator_regex, "#operator_!~", False, _RS),
    (not_matches_operator_string, "#operator_!~", False, {"pattern": _STR, "string": _STR}),
    (search, None, True, {**_RS, "selector": yaqltypes.Lambda(with_context=True)}),
    (search_all, None, True, {**_RS, "selector": yaqltypes.Lambda(with_context=True)}),
    (split, None, True, {**_RS, "max_split": int}),
    (split_string, "split", True, {**_RS, "max_split": int}),
    (replace, None, True, {**_RS, "repl": _STR, "count": int}),
    (replace_string, "replace", True, {**_RS, "repl": _STR, "count": int}),
    (replace_by, None, True, {**_RS, "repl": yaqltypes.Lambda(with_context=True), "count": int}),
    (replace_by_string, "replaceBy", True,
     {**_RS, "repl": yaqltypes.Lambda(with_context=True), "count": int}),
    (escape_regex, None, False, {"string": _STR}),
)


def _declare() -> None:
    for function, name, method, parameters in _DECLARATIONS:
        if name is not None:
            specs.name(name)(function)
        if method:
            specs.method(function)
        for parameter, kind in parameters.items():
            specs.parameter(parameter, kind)(function)


_declare()


FUNCTIONS = (regex, matches, matches_string, matches_operator_regex, matches_operator_string,
             not_matches_operator_regex, not_matches_operator_string, search, search_all,
             split, split_string, replace, replace_string, replace_by, replace_by_string,
             escape_regex, is_regex)


def register(context: Any) -> None:
    """Register the functions in a yaql context (built without yaql's ``regex`` library)."""
    for function in FUNCTIONS:
        context.register_function(function)
