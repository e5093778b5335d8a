"""The expression functions, in both languages, over a StaticFunctionContext."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from stevedore.extension import Extension, ExtensionManager

from wfaas.exceptions import ExpressionError, PluginLoadError
from wfaas.expressions import (
    EXECUTION_FIELDS,
    TASK_FIELDS,
    CallContext,
    FunctionContext,
    StaticFunctionContext,
    evaluate,
    set_function_manager,
    validate,
)
from wfaas.expressions import functions as std
from wfaas.expressions.registry import NAMESPACE, get_functions

TASKS: list[dict[str, Any]] = [
    {"id": "t1", "name": "a", "state": "SUCCESS", "type": "ACTION", "result": 5,
     "published": {"p": 1}, "workflow_execution_id": "ex1", "created_at": "2026-01-01 00:00:00",
     "extra": "dropped"},
    {"id": "t2", "name": "sub", "state": "SUCCESS", "type": "WORKFLOW",
     "workflow_execution_id": "ex1"},
    {"id": "t3", "name": "a", "state": "ERROR", "type": "ACTION", "result": 6,
     "workflow_execution_id": "ex1"},
    {"id": "t4", "name": "inner", "state": "ERROR", "type": "ACTION",
     "workflow_execution_id": "ex2"},
    {"id": "t5", "name": "other", "state": "SUCCESS", "type": "ACTION",
     "workflow_execution_id": "ex9"},
]
EXECUTIONS: list[dict[str, Any]] = [
    {"id": "ex1", "name": "wf", "state": "RUNNING", "root_execution_id": None,
     "created_at": "2026-01-01 10:00:00"},
    {"id": "ex2", "name": "subwf", "state": "ERROR", "root_execution_id": "ex1",
     "task_execution_id": "t2", "created_at": "2026-01-01T11:00:00Z"},
    {"id": "ex9", "name": "other", "state": "SUCCESS", "root_execution_id": None,
     "created_at": "2026-01-02 09:00:00"},
]
FC = StaticFunctionContext(
    environment={"region": "eu", "n": 3},
    execution_info={"id": "ex1", "name": "wf", "input": {"i": 1}, "state": "RUNNING"},
    task_executions=TASKS,
    current_task={"id": "t9", "name": "current", "state": "RUNNING", "type": "ACTION"},
    global_context={"g": {"v": 7}},
    workflow_executions=EXECUTIONS,
)
DATA = {"d": {"k": "v", "n": [1, 2]}, "text": '{"a": [1, 2]}', "y": "a: 1\nb: [x, y]\n"}


def both(yaql: str, jinja: str) -> tuple[Any, Any]:
    return evaluate(yaql, DATA, FC), evaluate(jinja, DATA, FC)


def test_static_context_satisfies_the_protocol() -> None:
    assert isinstance(FC, FunctionContext)
    assert isinstance(CallContext(FC, {}), FunctionContext)


def test_env() -> None:
    assert both("<% env() %>", "{{ env() }}") == ({"region": "eu", "n": 3},) * 2
    assert both("<% env().region %>", "{{ env().region }}") == ("eu", "eu")
    assert evaluate("{{ _ | env }}", DATA, FC) == {"region": "eu", "n": 3}


def test_execution_has_mistral_shape() -> None:
    yaql, jinja = both("<% execution() %>", "{{ execution() }}")
    assert yaql == jinja
    assert tuple(yaql) == EXECUTION_FIELDS
    assert yaql["id"] == "ex1" and yaql["input"] == {"i": 1}
    assert evaluate("<% execution().name %>", DATA, FC) == "wf"


def test_task_current_and_by_name() -> None:
    assert both("<% task().name %>", "{{ task().name }}") == ("current", "current")
    assert both("<% task(current).id %>", "{{ task('current').id }}") == ("t9", "t9")
    # By name: the last task with that name in this workflow execution.
    yaql, jinja = both("<% task(a) %>", "{{ task('a') }}")
    assert yaql == jinja
    assert tuple(yaql) == TASK_FIELDS
    assert yaql["id"] == "t3" and yaql["result"] == 6
    assert evaluate("<% task(a).result %>", DATA, FC) == 6
    assert both("<% task(nope) %>", "{{ task('nope') }}") == (None, None)
    assert evaluate("{{ 'a' | task }}", DATA, FC)["id"] == "t3"


def test_task_without_current_task() -> None:
    fc = StaticFunctionContext(task_executions=TASKS)
    assert evaluate("<% task() %>", {}, fc) is None
    assert evaluate("<% task(other).id %>", {}, fc) == "t5"


def test_tasks_filters() -> None:
    def ids(text: str) -> list[str]:
        return [t["id"] for t in evaluate(text, DATA, FC)]

    assert ids("<% tasks() %>") == ["t1", "t2", "t3", "t4", "t5"]
    assert ids("<% tasks(ex1) %>") == ["t1", "t2", "t3"]
    assert ids("{{ tasks('ex1') }}") == ["t1", "t2", "t3"]
    assert ids("<% tasks(ex1, true) %>") == ["t1", "t2", "t3", "t4"]
    assert ids("<% tasks(ex1, true, ERROR) %>") == ["t3", "t4"]
    assert ids("<% tasks(state => SUCCESS) %>") == ["t1", "t2", "t5"]
    assert ids("{{ tasks(state='SUCCESS') }}") == ["t1", "t2", "t5"]
    # Keyword arguments by Python name or, as in Mistral, by camelCase name.
    assert ids("<% tasks(workflow_execution_id => ex2) %>") == ["t4"]
    assert ids("<% tasks(workflowExecutionId => ex2) %>") == ["t4"]
    assert ids("<% tasks(ex1, recursive => true, state => ERROR) %>") == ["t3", "t4"]
    # flat: action tasks, and workflow tasks whose state differs from their sub-workflow.
    assert ids("<% tasks(ex1, false, null, true) %>") == ["t1", "t2", "t3"]
    fc = StaticFunctionContext(task_executions=TASKS, workflow_executions=[
        {**EXECUTIONS[1], "state": "SUCCESS"}])
    assert [t["id"] for t in evaluate("<% tasks(ex1, flat => true) %>", {}, fc)] == ["t1", "t3"]
    assert all(tuple(t) == TASK_FIELDS for t in evaluate("<% tasks() %>", DATA, FC))


def test_global() -> None:
    assert both("<% global(g) %>", "{{ global('g') }}") == ({"v": 7}, {"v": 7})
    assert both("<% global(g).v %>", "{{ global('g').v }}") == (7, 7)
    assert both("<% global(nope) %>", "{{ global('nope') }}") == (None, None)


def test_executions_filters() -> None:
    def ids(text: str) -> list[str]:
        return [e["id"] for e in evaluate(text, DATA, FC)]

    assert ids("<% executions() %>") == ["ex1", "ex2", "ex9"]
    assert ids("<% executions(ex2) %>") == ["ex2"]
    assert ids("<% executions(root_execution_id => ex1) %>") == ["ex2"]
    assert ids("<% executions(rootExecutionId => ex1) %>") == ["ex2"]
    assert ids("<% executions(fromTime => '2026-01-02 00:00:00') %>") == ["ex9"]
    assert ids("{{ executions(state='SUCCESS') }}") == ["ex9"]
    assert ids("<% executions(from_time => '2026-01-01 10:30:00') %>") == ["ex2", "ex9"]
    assert ids("<% executions(to_time => '2026-01-01 11:00:00') %>") == ["ex1"]
    assert ids("{{ executions(from_time='2026-01-01 10:00:00', "
               "to_time='2026-01-02 00:00:00') }}") == ["ex1", "ex2"]


def test_json_functions() -> None:
    assert both("<% json_parse($.text) %>", "{{ json_parse(_.text) }}") == ({"a": [1, 2]},) * 2
    dumped = evaluate("<% json_dump($.d) %>", DATA, FC)
    assert dumped == json.dumps({"k": "v", "n": [1, 2]}, indent=4)
    assert evaluate("{{ json_dump(_.d) }}", DATA, FC) == dumped
    assert evaluate("{{ _.d | json_dump }}", DATA, FC) == dumped
    with pytest.raises(ExpressionError, match="json_parse"):
        evaluate("<% json_parse('{bad') %>", DATA, FC)


def test_yaml_functions() -> None:
    expected = {"a": 1, "b": ["x", "y"]}
    assert both("<% yaml_parse($.y) %>", "{{ yaml_parse(_.y) }}") == (expected, expected)
    dumped = evaluate("<% yaml_dump($.d) %>", DATA, FC)
    assert dumped == "k: v\nn:\n- 1\n- 2\n"
    assert evaluate("{{ yaml_dump(_.d) }}", DATA, FC) == dumped
    assert evaluate("<% yaml_dump(set(1)) %>", DATA, FC) == "- 1\n"


def test_yaml_parse_is_safe() -> None:
    # Anchors and aliases are plain text: nothing expands (as in Mistral).
    assert evaluate("<% yaml_parse($) %>", "a: &x foo\nb: *x\n", FC) == {
        "a": "&x foo", "b": "*x"}
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b]\n"
    assert evaluate("{{ yaml_parse(_) }}", bomb, FC)["c"] == ["*b", "*b", "*b"]
    with pytest.raises(ExpressionError):
        evaluate("<% yaml_parse($) %>", "!!python/object/apply:os.system ['true']", FC)


def test_uuid() -> None:
    first, second = both("<% uuid() %>", "{{ uuid() }}")
    assert uuid.UUID(first) and uuid.UUID(second) and first != second


def test_functions_without_a_function_context_see_empty_data() -> None:
    assert evaluate("<% env() %>", {}) == {}
    assert evaluate("<% task() %>", {}) is None
    assert evaluate("{{ tasks() }}", {}) == []
    assert evaluate("<% execution() %>", {}) == {}


def test_functions_get_plain_arguments_and_cannot_mutate_the_context() -> None:
    seen: list[Any] = []

    def probe_(context: CallContext, value: Any) -> Any:
        seen.append(value)
        return context.env()

    set_function_manager(make_manager(probe=probe_))
    result = evaluate("<% probe($.d).region %>", DATA, FC)
    assert result == "eu"
    assert seen == [{"k": "v", "n": [1, 2]}] and type(seen[0]) is dict
    assert type(seen[0]["n"]) is list
    with pytest.raises(ExpressionError):
        evaluate("{{ probe(1).update({'x': 1}) }}", DATA, FC)
    assert FC.environment == {"region": "eu", "n": 3}


def test_mistral_style_context_access() -> None:
    def legacy_(context: Any) -> Any:
        return [context["__env"]["region"], context["__execution"]["id"],
                context["__task_execution"], context["d"]["k"]]

    set_function_manager(make_manager(legacy=legacy_))
    assert evaluate("<% legacy() %>", DATA, FC) == [
        "eu", "ex1", {"id": "t9", "name": "current"}, "v"]


def make_manager(**functions: Any) -> ExtensionManager[Any]:
    extensions = [Extension(name, None, func, None)  # type: ignore[arg-type]
                  for name, func in functions.items()]
    return ExtensionManager.make_test_instance(extensions, namespace=NAMESPACE)


def test_plugin_function_from_a_test_extension_manager() -> None:
    def double_(context: CallContext, value: int, times: int = 2) -> int:
        return value * times

    set_function_manager(make_manager(double=double_, env=std.env_))
    assert evaluate("<% double(21) %>", {}, FC) == 42
    assert evaluate("<% double($, times => 3) %>", 5, FC) == 15
    assert evaluate("{{ double(21) }}", {}, FC) == 42
    assert evaluate("{{ 4 | double(times=5) }}", {}, FC) == 20
    assert evaluate("<% env().n %>", {}, FC) == 3
    with pytest.raises(ExpressionError):  # not in this manager
        evaluate("<% uuid() %>", {}, FC)
    set_function_manager(None)
    assert uuid.UUID(evaluate("<% uuid() %>", {}, FC))
    with pytest.raises(ExpressionError):
        evaluate("<% double(1) %>", {}, FC)


def test_entry_points_declare_all_standard_functions() -> None:
    names = set(get_functions())
    assert {"env", "execution", "executions", "global", "task", "tasks", "json_parse",
            "json_dump", "yaml_parse", "yaml_dump", "uuid"} <= names
    assert get_functions() is get_functions()  # loaded once


def test_broken_plugin_raises_an_error_naming_it(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    dist = tmp_path / "brokenfn-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: brokenfn\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{NAMESPACE}]\nbroken_fn = wfaas_no_such_module_xyz:func\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    # stevedore remembers each namespace's entry points per process: rescan.
    monkeypatch.setattr(ExtensionManager, "ENTRY_POINT_CACHE", {})
    set_function_manager(None)
    with pytest.raises(PluginLoadError, match="broken_fn") as info:
        get_functions()
    assert "wfaas_no_such_module_xyz" in str(info.value)
    with pytest.raises(PluginLoadError, match="broken_fn"):
        evaluate("<% 1 + len([]) %>", {})
    assert validate("<% $.x + 1 %>") == []  # syntax checks need no functions
    assert validate("{{ env() }}") == []
    monkeypatch.undo()
    sys.modules.pop("wfaas_no_such_module_xyz", None)
    set_function_manager(None)
    assert "env" in get_functions()
