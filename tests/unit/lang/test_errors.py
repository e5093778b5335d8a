"""Table of small invalid documents: each yields exactly the expected problems."""

from __future__ import annotations

import pytest

from wfaas.lang import validate_text

HEAD = "version: '2.0'\nwf:\n"
LONG = "x" * 256
JOIN_LONG = "j" * 209

CASES = [
    ("bad workflow type", HEAD + "  type: sideways\n  tasks:\n    t: {}\n",
     [(3, "wf.type", "'type' must be 'direct' or 'reverse', not the string 'sideways'")]),
    ("task name too long", HEAD + f"  tasks:\n    {LONG}: {{}}\n",
     [(4, f"wf.tasks.{LONG}", "the task name is longer than 255 characters")]),
    ("join task name too long",
     HEAD + f"  tasks:\n    a:\n      on-success: {JOIN_LONG}\n    {JOIN_LONG}:\n"
            "      join: all\n",
     [(6, f"wf.tasks.{JOIN_LONG}", "a join task name must not be longer than 208 characters")]),
    ("guarded transition with two keys",
     HEAD + "  tasks:\n    a:\n      on-success:\n        - {b: <% 1 %>, c: <% 2 %>}\n"
            "    b: {}\n    c: {}\n",
     [(6, "wf.tasks.a.on-success[0]",
       "a guarded transition must be one 'task_name: <% condition %>' pair")]),
    ("input is a plain string", HEAD + "  tasks:\n    a:\n      input: x=1\n",
     [(5, "wf.tasks.a.input", "'input' must be a mapping or one expression, not the string "
                              "'x=1'")]),
    ("transition to a number", HEAD + "  tasks:\n    a:\n      on-success: [1]\n",
     [(5, "wf.tasks.a.on-success[0]",
       "a transition must name a task or an engine command, not the number 1")]),
    ("requires itself", HEAD + "  type: reverse\n  tasks:\n    a:\n      requires: a\n",
     [(6, "wf.tasks.a.requires", "task 'a' cannot require itself")]),
    ("task is null is fine", HEAD + "  tasks:\n    a:\n", []),
    ("reverse workflow with join",
     HEAD + "  type: reverse\n  tasks:\n    a:\n      join: all\n",
     [(6, "wf.tasks.a.join", "'join' is only valid in direct workflows (this workflow is "
                             "reverse)")]),
    ("direct defaults with requires",
     HEAD + "  task-defaults:\n    requires: [a]\n  tasks:\n    a: {}\n",
     [(4, "wf.task-defaults.requires", "'requires' is only valid in reverse workflows (add "
                                       "'type: reverse' to the workflow)")]),
    ("default transition to unknown task",
     HEAD + "  task-defaults:\n    on-error: handler\n  tasks:\n    a: {}\n",
     [(4, "wf.task-defaults.on-error", "transition to unknown task 'handler'")]),
    ("engine command with unknown parameter",
     HEAD + "  tasks:\n    a:\n      on-error: fail(msg=x, code=1)\n",
     [(5, "wf.tasks.a.on-error", "engine command 'fail' takes only 'msg', not ['code']")]),
    ("version typo", "verison: '2.0'\nwf:\n  tasks:\n    a: {}\n",
     [(1, "verison", "'verison' is not a workflow (did you mean 'version'?)")]),
    ("empty on-clause mapping", HEAD + "  tasks:\n    a:\n      on-success: {}\n",
     [(5, "wf.tasks.a.on-success",
       "an empty on-clause: give next tasks, or 'publish' and/or 'next'")]),
    ("no workflow in the document", "version: '2.0'\n",
     [(1, "", "the document defines no workflow: add 'my_workflow: {tasks: ...}'")]),
    ("empty input name", HEAD + "  input: ['']\n  tasks:\n    a: {}\n",
     [(3, "wf.input[0]", "an input must be a name or a one-key mapping {name: default}, not "
                         "an empty string")]),
]


@pytest.mark.parametrize("name, text, expected", CASES, ids=[c[0] for c in CASES])
def test_problem_table(name: str, text: str, expected: list[tuple[int, str, str]]) -> None:
    got = [(p.line, p.path, p.message) for p in validate_text(text)]
    assert got == expected
