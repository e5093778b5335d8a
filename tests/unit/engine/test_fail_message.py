"""Mistral's 'Failure caused by error in tasks' text for failed actions and sub-workflows,
and its bound (a hostile with-items of failing children must not build a huge text)."""

from __future__ import annotations

from wfaas.engine import states
from wfaas.engine.model import ActionState, TaskState, new_workflow_state
from wfaas.engine.step import Step
from wfaas.engine.workflow import FAIL_MESSAGE_CHARS, build_fail_message
from wfaas.lang import parse_workflows
from wfaas.utils.states import STATE_INFO_CHARS

SPEC = parse_workflows("""
version: '2.0'
wf:
  tasks:
    t:
      workflow: child
""")[0]


def _failed_task(children: list[tuple[int, int, object]], info: str | None) -> Step:
    st = new_workflow_state("ex", "wf")
    task = TaskState(id="task", name="t", state=states.ERROR, type="workflow", state_info=info)
    st.add_task(task)
    for n, (attempt, index, output) in enumerate(children):
        st.add_action(ActionState(id=f"c{n}", task_id="task", name="child", is_workflow=True,
                                  state=states.ERROR, attempt=attempt, index=index,
                                  result=output, created_at=float(n)))
    return Step(SPEC, st, 0.0)


def test_children_of_every_attempt_quote_their_output_result() -> None:
    step = _failed_task([(0, 0, {"result": "first"}), (1, 0, {"result": None}),
                         (2, 0, {"other": 1})], "first")
    assert build_fail_message(step) == (
        "Failure caused by error in tasks: t\n\n"
        "  t [task_ex_id=task] -> first\n"
        "    [wf_ex_id=c0, idx=0]: first\n"
        "    [wf_ex_id=c1, idx=1]: None\n"
        "    [wf_ex_id=c2, idx=2]: Unknown\n")


def test_many_huge_child_failures_stay_bounded() -> None:
    huge = {"result": "x" * (10 * STATE_INFO_CHARS)}
    step = _failed_task([(0, i, huge) for i in range(2000)], "y" * (10 * STATE_INFO_CHARS))
    msg = build_fail_message(step)
    assert msg is not None
    assert len(msg) < FAIL_MESSAGE_CHARS + 2 * STATE_INFO_CHARS
    assert f"  t [task_ex_id=task] -> {'y' * STATE_INFO_CHARS}...\n" in msg
    assert f"    [wf_ex_id=c0, idx=0]: {'x' * STATE_INFO_CHARS}...\n" in msg
