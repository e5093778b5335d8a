"""Helpers and constants every layer shares are defined once (issue 15's clean-ups):
the terminal state sets live in ``wfaas/utils/states.py``, ``deep_merge`` in
``wfaas/utils/dicts.py``; everything else imports them."""

from __future__ import annotations

import ast
import pathlib

import wfaas

ROOT = pathlib.Path(wfaas.__file__).parent


def _definitions(wanted: set[str]) -> dict[str, list[str]]:
    """Where each name of ``wanted`` is bound at module level or defined as a function."""
    found: dict[str, list[str]] = {name: [] for name in wanted}
    for path in sorted(ROOT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.FunctionDef):
                names = [node.name]
            elif isinstance(node, ast.Assign) and node in tree.body:
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and node in tree.body \
                    and isinstance(node.target, ast.Name):
                names = [node.target.id]
            for name in names:
                if name in found:
                    found[name].append(str(path.relative_to(ROOT.parent)))
    return found


def test_terminal_states_and_deep_merge_are_defined_once() -> None:
    found = _definitions({"TERMINAL", "WORKFLOW_TERMINAL", "deep_merge", "_deep_merge"})
    assert found == {"TERMINAL": ["wfaas/utils/states.py"],
                     "WORKFLOW_TERMINAL": ["wfaas/utils/states.py"],
                     "deep_merge": ["wfaas/utils/dicts.py"], "_deep_merge": []}, found


def test_the_engine_names_are_the_leaf_ones() -> None:
    from wfaas.engine import states
    from wfaas.utils import states as names

    assert states.WORKFLOW_TERMINAL is names.WORKFLOW_TERMINAL
    assert states.TERMINAL is names.TERMINAL
    assert set(states.ALL) >= states.TERMINAL | {states.IDLE, states.RUNNING, states.PAUSED}
