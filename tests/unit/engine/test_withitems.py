"""With-items progress: a typed ``WithItems`` in the engine, stored exactly as before
(``runtime_context["wi"]``, a plain dict) so rows written by older versions load."""

from __future__ import annotations

import json

from tests.unit.engine.bench_engine import items_yaml
from wfaas.engine import ActionCompleted, RunAction, StartWorkflow, TaskState, new_workflow_state
from wfaas.engine.core import decide
from wfaas.engine.withitems import WithItems
from wfaas.lang import parse_workflows

#: a task row's runtime_context as wfaas wrote it before WithItems (and writes it now)
STORED = {"timeout": None, "wi": {"count": 4, "todo": [1, 3], "pos": 2, "running": 1,
                                  "ok": 1, "err": 0, "cancel": 0, "conc": 2, "base": 1}}


def _task(runtime: dict[str, object]) -> dict[str, object]:
    return {"id": "t1", "name": "t", "state": "RUNNING", "runtime": runtime}


def test_a_stored_row_loads_typed_and_is_written_back_byte_for_byte() -> None:
    task = TaskState.from_dict(_task(json.loads(json.dumps(STORED))))
    assert task.with_items == WithItems(count=4, todo=[1, 3], pos=2, running=1, ok=1,
                                        conc=2, base=1)
    assert "wi" not in task.runtime  # the typed progress is not kept twice
    assert json.dumps(task.runtime_dict()) == json.dumps(STORED)
    assert json.dumps(task.to_dict()["runtime"]) == json.dumps(STORED)
    again = TaskState.from_dict(json.loads(json.dumps(task.to_dict())))
    assert again == task


def test_a_task_without_with_items_keeps_its_runtime_as_it_is() -> None:
    task = TaskState.from_dict(_task({"timeout": 5}))
    assert task.with_items is None
    assert task.to_dict()["runtime"] == {"timeout": 5}


def test_missing_counters_of_a_partial_dict_are_zero() -> None:
    assert WithItems.from_dict({"count": 3}) == WithItems(count=3)
    assert WithItems(count=3).total == 3
    assert WithItems(count=5, todo=[0, 4]).total == 2


def test_decide_counts_iterations_in_the_typed_progress() -> None:
    spec = parse_workflows(items_yaml(2))[0]
    st, cmds = decide(spec, new_workflow_state("e", "wi"),
                      StartWorkflow(input={"items": ["a", "b", "c"]}), 0.0)
    task = next(iter(st.tasks.values()))
    assert task.with_items == WithItems(count=3, pos=2, running=2, conc=2)
    run = next(c for c in cmds if isinstance(c, RunAction))
    st, cmds = decide(spec, st, ActionCompleted(action_id=run.action_id, state="ERROR",
                                                result="boom"), 1.0)
    assert task.with_items == WithItems(count=3, pos=3, running=2, err=1, conc=2)
    assert task.to_dict()["runtime"]["wi"] == {"count": 3, "todo": None, "pos": 3,
                                               "running": 2, "ok": 0, "err": 1, "cancel": 0,
                                               "conc": 2, "base": 0}
