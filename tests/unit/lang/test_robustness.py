"""Mutated documents never raise: every mistake becomes a Problem, never a traceback."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.unit.lang.conftest import FIXTURES
from wfaas.exceptions import Problem
from wfaas.lang import validate_text

SUBSTITUTES: list[Any] = [None, 1, -1, "x", "", [], {}, [1], {"a": 1}, True,
                          [{"a": 1, "b": 2}], "a in b"]


def _paths(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _paths(v, path + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _paths(v, path + (i,))


def _replace(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    out = copy.deepcopy(data)
    cur = out
    for k in path[:-1]:
        cur = cur[k]
    cur[path[-1]] = value
    return out


def _cases() -> list[tuple[str, str]]:
    rng = random.Random(20261127)
    cases = []
    for f in sorted((FIXTURES / "valid").glob("*.yaml")):
        data = yaml.safe_load(f.read_text())
        paths = list(_paths(data))
        for path in rng.sample(paths, min(12, len(paths))):
            value = rng.choice(SUBSTITUTES)
            cases.append((f"{f.stem}:{'.'.join(map(str, path))}={value!r}",
                          yaml.safe_dump(_replace(data, path, value))))
    return cases


CASES = _cases()


@pytest.mark.parametrize("kind", [None, "workflows", "workbook", "actions"])
def test_mutations_yield_problems_not_exceptions(kind: str | None) -> None:
    for _name, text in CASES:
        problems = validate_text(text, kind)
        assert all(isinstance(p, Problem) and p.message for p in problems)
