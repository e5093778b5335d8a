"""Collecting validation problems with their path and position.

A :class:`Checker` walks plain data loaded by :mod:`wfaas.lang.yamlload`; every
problem is recorded (never raised) as a :class:`wfaas.exceptions.Problem` with a
dotted path, the line/column of the node and an actionable message.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from wfaas.exceptions import Problem
from wfaas.lang.inline import has_expression
from wfaas.lang.schema import Field
from wfaas.lang.yamlload import Located, Path, dotted


def suggest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def type_name(value: Any) -> str:
    """A short human description of a YAML value: its type, and the value if short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        if not value.strip():
            return "an empty string"
        return f"the string '{value}'" if len(value) <= 40 else "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class Checker:
    """Collects problems for one document; paths are tuples into the document."""

    def __init__(self, doc: Located) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def add(self, path: Path, message: str, *, key: bool = False) -> None:
        """Record a problem at ``path`` (the key's position when ``key``)."""
        pos = self.doc.pos(path, key=key)
        line, col = pos if pos else (None, None)
        self.problems.append(Problem(dotted(path), message, line, col))

    def mapping(self, value: Any, path: Path, fields: Mapping[str, Field], what: str,
                *, extra_hint: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Check a mapping against ``fields``; return the entries of the right kind."""
        if not isinstance(value, dict):
            self.add(path, f"{what} must be a mapping, not {type_name(value)}")
            return {}
        good: dict[str, Any] = {}
        for key, item in value.items():
            field = fields.get(key) if isinstance(key, str) else None
            if field is None:
                hint = (extra_hint or {}).get(str(key))
                msg = hint or f"unknown key '{key}' in {what}{suggest(str(key), fields)}"
                self.add(path + (key,), msg, key=True)
                continue
            if not field.kind.check(item):
                self.add(path + (key,),
                         f"'{key}' must be {field.kind.describe}, not {type_name(item)}")
                continue
            good[key] = item
        for key, field in fields.items():
            if field.required and key not in value:
                self.add(path, f"{what} is missing the required key '{key}'")
        return good

    def expressions(self, value: Any, path: Path, validate: Any) -> None:
        """Validate the syntax of every expression found (deeply) in ``value``."""
        if validate is None:
            return
        if isinstance(value, str):
            if has_expression(value) or "<%" in value or "{{" in value:
                for err in validate(value):
                    self.add(path, str(err))
        elif isinstance(value, dict):
            for k, v in value.items():
                self.expressions(v, path + (k,), validate)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self.expressions(v, path + (i,), validate)


def expression_validator() -> Any:
    """``wfaas.expressions.validate`` when that module provides it, else None."""
    import importlib

    module = importlib.import_module("wfaas.expressions")
    return getattr(module, "validate", None)
