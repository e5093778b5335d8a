"""Engine events travel as the typed classes of ``wfaas.engine.events``, never as
hand-written dicts: a dict literal ``{"kind": "<event kind>", ...}`` anywhere in ``wfaas/``
outside ``engine/events.py`` fails this test (build the event, send the object, and let
the transport boundary call ``to_dict()``)."""

from __future__ import annotations

import ast
import json
import pathlib

import pytest

import wfaas
from wfaas.engine import events
from wfaas.engine.events import ActionCompleted, ExecutorHeartbeat, StopWorkflow

ROOT = pathlib.Path(wfaas.__file__).parent
EVENT_KINDS = {*events.EVENT_TYPES, ExecutorHeartbeat.kind}


def event_literals(source: str) -> list[tuple[int, str]]:
    """(line, kind) of each dict literal in ``source`` whose constant ``kind`` is an event's."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Dict):
            continue
        for key, value in zip(node.keys, node.values, strict=True):
            if (isinstance(key, ast.Constant) and key.value == "kind"
                    and isinstance(value, ast.Constant) and value.value in EVENT_KINDS):
                found.append((node.lineno, str(value.value)))
    return found


def test_the_detector_sees_a_hand_written_event() -> None:
    source = ('send(x, {"kind": "action_completed", "action_id": a})\n'
              'timer = {"kind": "retry"}\n'
              'send(x, {\n    "kind": "stop_workflow"})\n')
    assert event_literals(source) == [(1, "action_completed"), (3, "stop_workflow")]


def test_no_hand_written_event_dicts_in_wfaas() -> None:
    allowed = ROOT / "engine" / "events.py"
    files = sorted(ROOT.rglob("*.py"))
    assert len(files) > 100
    bad = [f"{path.relative_to(ROOT.parent)}:{line}: {kind}"
           for path in files if path != allowed
           for line, kind in event_literals(path.read_text(encoding="utf-8"))]
    assert not bad, "use the wfaas.engine.events classes:\n" + "\n".join(bad)


def test_executor_heartbeat_round_trip() -> None:
    beat = ExecutorHeartbeat(executor="e1", group="g", action_ids=["a", "b"],
                             async_action_ids=["c"], announce=True)
    data = json.loads(json.dumps(beat.to_dict()))
    assert data == {"kind": "executor_heartbeat", "executor": "e1", "group": "g",
                    "action_ids": ["a", "b"], "async_action_ids": ["c"], "announce": True}
    assert ExecutorHeartbeat.from_dict(data) == beat
    # shell-only: decide never gets it through event_from_dict
    assert "executor_heartbeat" not in events.EVENT_TYPES


def test_from_dict_of_one_class_checks_the_kind() -> None:
    event = ActionCompleted(action_id="x", state="ERROR", result="boom", state_info="boom")
    assert ActionCompleted.from_dict(event.to_dict()) == event
    with pytest.raises(ValueError, match="stop_workflow"):
        ActionCompleted.from_dict(StopWorkflow().to_dict())


def test_to_dict_names_every_field_of_each_class_in_order() -> None:
    """The field names are cached per class: a subclass with fields of its own, and
    its base, each give their own."""
    import dataclasses

    from wfaas.engine import ActionCompleted, RunAction

    for cls in (ActionCompleted, RunAction):
        obj = cls(**{f.name: None for f in dataclasses.fields(cls)
                     if f.default is dataclasses.MISSING
                     and f.default_factory is dataclasses.MISSING})
        for _ in range(2):  # the second call reads the cached names
            data = obj.to_dict()
            assert list(data) == ["kind"] + [f.name for f in dataclasses.fields(cls)]
            assert data["kind"] == cls.kind
