"""What the parser builds: every construct lands in the right spec field."""

from __future__ import annotations

import pytest

from tests.unit.lang.conftest import FIXTURES
from wfaas.lang import parse_workflows
from wfaas.lang.specs import (
    InputParam,
    OnClause,
    PublishSpec,
    RetrySpec,
    Transition,
    WithItemsSpec,
    WorkflowSpec,
)


def _wfs(name: str) -> dict[str, WorkflowSpec]:
    return {w.name: w for w in parse_workflows((FIXTURES / "valid" / name).read_text())}


@pytest.fixture(scope="module")
def full() -> WorkflowSpec:
    return _wfs("all_task_attributes.yaml")["every_attribute"]


def test_workflow_keys(full: WorkflowSpec) -> None:
    assert full.type == "direct"
    assert full.description == "Uses every task attribute at least once"
    assert full.tags == ("demo", "full")
    assert full.input == (InputParam("url"), InputParam("method", True, "GET"),
                          InputParam("missing", True, None))
    assert full.vars == {"counter": 0}
    assert full.output == {"result": "<% $.result %>"}
    assert full.output_on_error == {"error": "<% task().result %>"}
    assert full.task_defaults is not None and full.task_defaults.values["timeout"] == 30
    assert list(full.tasks) == ["fetch", "each", "finish", "report"]
    assert full.line == 4
    assert [t.name for t in full.start_tasks()] == ["fetch"]


def test_every_task_attribute(full: WorkflowSpec) -> None:
    t = full.tasks["fetch"]
    assert (t.action, t.type, t.workflow) == ("std.http", "action", None)
    assert t.inline_input == {"url": "<% $.url %>", "method": "<% $.method %>", "timeout": 10,
                              "verify": False}
    assert t.input == {"headers": {"Accept": "application/json"}}
    assert t.description == "Fetch a page" and t.tags == ("http",)
    assert t.publish == {"result": "<% task().result.content %>"}
    assert t.publish_on_error == {"error": "<% task().result %>"}
    assert t.publish_on_skip == {"skipped": True}
    assert t.retry == RetrySpec("<% 3 %>", 5, "<% $.stop %>", "<% $.again %>")
    assert (t.wait_before, t.wait_after, t.timeout) == (1, "<% 2 %>", 60)
    assert (t.pause_before, t.fail_on) == (False, "<% $.result = null %>")
    assert (t.keep_result, t.target, t.safe_rerun) == (False, "executor-1", True)
    assert t.on_success == OnClause(next=(
        Transition("each", "<% $.result != null %>", False, {}, 50),
        Transition("fail", None, True, {"msg": "no result"}, 51)))
    assert t.on_skip is not None and t.on_skip.next[0].target == "each"
    assert t.line == 23


def test_with_items_workflow_task_and_advanced_clause(full: WorkflowSpec) -> None:
    t = full.tasks["each"]
    assert (t.type, t.workflow, t.action, t.action_name) == ("workflow", "sub_wf", None,
                                                             "std.noop")
    assert t.inline_input == {"param": "<% $.item %>"}
    assert t.with_items == WithItemsSpec((("item", "<% $.result %>"),
                                          ("idx", "{{ range(3) | list }}"),
                                          ("lit", [1, 2, 3])))
    assert t.concurrency == 2
    assert t.on_complete is not None
    assert t.on_complete.publish == PublishSpec({"done": True},
                                                {"total": "<% $.counter + 1 %>"}, {"x": 1})
    assert [x.target for x in t.on_complete.next] == ["finish"]
    assert full.tasks["finish"].join == "all"
    assert full.tasks["finish"].on_success == OnClause((Transition("succeed", None, True, {},
                                                                   70),))
    report = full.tasks["report"].on_complete
    assert report is not None
    assert report.next[0] == Transition("fail", None, True, {"msg": "<% $.error %>"}, 74)


def test_task_defaults_are_merged_like_mistral(full: WorkflowSpec) -> None:
    fetch, each, report = (full.tasks[n] for n in ("fetch", "each", "report"))
    # own retry and timeout win, defaults fill the rest
    assert fetch.retry is not None and fetch.retry.count == "<% 3 %>"
    assert fetch.timeout == 60
    assert each.retry == RetrySpec(2, 1) and each.timeout == 30
    # default on-error goes everywhere except to the task itself
    assert each.on_error is not None and [x.target for x in each.on_error.next] == ["report"]
    assert report.on_error is None
    # default transitions do not count as a task's own: not a start-task blocker for report
    assert full.tasks["finish"].on_error is not None


def test_default_transition_only_when_task_has_none() -> None:
    text = """version: '2.0'
wf:
  task-defaults:
    on-success: [c]
    on-complete:
      - c
  tasks:
    a:
      on-success: [b]
    b:
      on-success:
        publish: {branch: {x: 1}}
    c: {}
"""
    wf = parse_workflows(text)[0]
    a, b, c = wf.tasks["a"], wf.tasks["b"], wf.tasks["c"]
    assert a.on_success is not None and [t.target for t in a.on_success.next] == ["b"]
    # b's clause only publishes: the default next tasks are used, its publish kept
    assert b.on_success is not None and [t.target for t in b.on_success.next] == ["c"]
    assert b.on_success.publish == PublishSpec(branch={"x": 1})
    assert c.on_success is None and c.on_complete is None
    assert a.on_complete is not None and a.on_complete.next[0].target == "c"


def test_reverse_requires_unioned_with_defaults() -> None:
    wf = _wfs("reverse.yaml")["build_all"]
    assert wf.type == "reverse"
    assert wf.tasks["prepare"].requires == ()
    assert wf.tasks["compile"].requires == ("prepare",)
    assert wf.tasks["package"].requires == ("compile", "prepare")
    assert wf.tasks["publish"].requires == ("package", "compile", "prepare")
    assert all(t.workflow_type == "reverse" for t in wf.tasks.values())
    assert wf.start_tasks() == []


def test_engine_commands_and_shadowing() -> None:
    wf = _wfs("engine_commands.yaml")["commands"]
    check = wf.tasks["check"]
    assert check.on_success is not None and check.on_error is not None
    assert [(t.target, t.is_command, t.condition, t.params) for t in check.on_success.next] == [
        ("pause", True, None, {}), ("noop", True, "<% $.x %>", {}),
        ("succeed", True, None, {"msg": "all good"})]
    # a task named 'fail' shadows the engine command
    assert [(t.target, t.is_command) for t in check.on_error.next] == [
        ("fail", False), ("fail", False)]


def test_inline_forms_and_input_expression() -> None:
    wf = _wfs("inline_forms.yaml")["inline"]
    assert wf.tasks["quoted"].inline_input == {"output": "a b c", "other": "x y"}
    assert wf.tasks["json_values"].inline_input == {
        "list": [1, "two", 3], "obj": {"k": [1, 2]}, "num": 42, "f": 1.5, "t": True, "n": None}
    assert wf.tasks["jinja"].input == "<% {output => $.x} %>"
    assert wf.tasks["expr_action"].action == "<% $.action_name %>"


def test_anchors_and_merge_keys_work_in_workflows() -> None:
    wf = _wfs("anchors_and_merge.yaml")["anchored"]
    assert wf.tasks["b"].action == "std.echo" and wf.tasks["b"].retry == RetrySpec(3, 2)
    assert wf.tasks["b"].on_success is not None
    assert wf.tasks["b"].on_success.next[0].target == "c"


def test_specs_are_frozen(full: WorkflowSpec) -> None:
    with pytest.raises(AttributeError):
        full.name = "x"  # type: ignore[misc]
