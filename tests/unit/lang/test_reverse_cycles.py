"""Reverse workflows whose ``requires`` form a cycle are a validation error naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from wfaas.cmd.cli import main
from wfaas.exceptions import DSLError
from wfaas.lang import parse_workflows, validate_text

TWO = """version: '2.0'
wf:
  type: reverse
  tasks:
    a:
      action: std.noop
      requires: [b]
    b:
      action: std.noop
      requires: a
"""

LONGER = """version: '2.0'
wf:
  type: reverse
  tasks:
    start:
      action: std.noop
    c:
      action: std.noop
      requires: [d, start]
    d:
      action: std.noop
      requires: [e]
    e:
      action: std.noop
      requires: [c]
    x:
      action: std.noop
      requires: [y]
    y:
      action: std.noop
      requires: [x, start]
"""

DEFAULTS = """version: '2.0'
wf:
  type: reverse
  task-defaults:
    requires: [a]
  tasks:
    a:
      action: std.noop
    b:
      action: std.noop
      requires: [c]
    c:
      action: std.noop
      requires: [b]
"""


def _messages(text: str) -> list[tuple[str, str, int | None]]:
    return [(p.path, p.message, p.line) for p in validate_text(text)]


def test_two_tasks_requiring_each_other() -> None:
    assert _messages(TWO) == [
        ("wf.tasks.a.requires", "the tasks' 'requires' form a cycle: a -> b -> a; none of these "
                                "tasks could ever run", 7)]
    with pytest.raises(DSLError, match=r"cycle: a -> b -> a") as info:
        parse_workflows(TWO)
    assert info.value.http_code == 400


def test_every_longer_cycle_is_reported_once() -> None:
    messages = [m for _, m, _ in _messages(LONGER)]
    assert messages == [
        "the tasks' 'requires' form a cycle: c -> d -> e -> c; none of these tasks could ever run",
        "the tasks' 'requires' form a cycle: x -> y -> x; none of these tasks could ever run",
    ]


def test_self_requirement_is_its_own_error() -> None:
    text = TWO.replace("requires: [b]", "requires: [a]").replace("requires: a", "requires: []")
    assert [m for _, m, _ in _messages(text)] == ["task 'a' cannot require itself"]


def test_cycle_through_task_defaults_is_found() -> None:
    assert [m for _, m, _ in _messages(DEFAULTS)] == [
        "the tasks' 'requires' form a cycle: b -> c -> b; none of these tasks could ever run"]


def test_acyclic_reverse_workflow_is_valid() -> None:
    text = TWO.replace("requires: a", "requires: []")
    assert _messages(text) == []
    diamond = ("version: '2.0'\nwf:\n  type: reverse\n  tasks:\n"
               "    a: {action: std.noop, requires: [b, c]}\n"
               "    b: {action: std.noop, requires: [d]}\n"
               "    c: {action: std.noop, requires: [d]}\n"
               "    d: {action: std.noop}\n")
    assert _messages(diamond) == []


def test_wfaas_validate_reports_the_cycle(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cycle.yaml"
    path.write_text(TWO)
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}:7:17: wf.tasks.a.requires: the tasks' 'requires' form a cycle: a -> b -> a" \
        in out
