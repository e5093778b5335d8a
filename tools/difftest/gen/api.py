# ruff: noqa: E501 - case tables
"""Wire behaviour: upload validation, execution start errors, engine commands over the API.

Ported from mistral/tests/unit/api/v2 (test_workflows, test_executions, test_tasks) and
mistral/tests/unit/engine (test_commands, test_execution_fields_size_limitation is left out).
"""

from __future__ import annotations

from typing import Any

from tools.difftest.gen.common import _Literal, case, doc, wf

INVALID = {
    "no_tasks": "wf:\n  tasks: {}\n",
    "tasks_missing": "wf:\n  description: x\n",
    "task_unknown_key": "wf:\n  tasks:\n    t:\n      action: std.noop\n      foo: 1\n",
    "transition_unknown": "wf:\n  tasks:\n    t:\n      action: std.noop\n      on-success: [nosuch]\n",
    "action_and_workflow": "wf:\n  tasks:\n    t:\n      action: std.noop\n      workflow: x\n",
    "yaql_syntax": "wf:\n  tasks:\n    t:\n      action: std.echo output=<% $.a + %>\n",
    "jinja_syntax": "wf:\n  tasks:\n    t:\n      action: std.echo output=\"{{ _.a + }}\"\n",
    "jinja_unknown_filter": "wf:\n  tasks:\n    t:\n      action: std.echo output=\"{{ 1 | nosuchfilter }}\"\n",
    "jinja_unknown_test": "wf:\n  tasks:\n    t:\n      action: std.echo output=\"{{ 1 is nosuchtest }}\"\n",
    "mixed_languages": "wf:\n  tasks:\n    t:\n      action: std.echo output=\"<% 1 %> {{ 2 }}\"\n",
    "unknown_yaql_function": "wf:\n  tasks:\n    t:\n      action: std.echo output=<% nosuchfunc(1) %>\n",
    "invalid_yaml": "wf:\n  tasks: [\n",
    "uuid_name": "1e8a0b9a-2f52-4a2b-9c3d-aaaaaaaaaaaa:\n  tasks:\n    t:\n      action: std.noop\n",
    "join_bad": "wf:\n  tasks:\n    a:\n      action: std.noop\n      on-success: [j]\n    j:\n      join: abc\n",
    "join_too_many": "wf:\n  tasks:\n    a:\n      action: std.noop\n      on-success: [j]\n    j:\n      join: 3\n",
    "retry_no_count": "wf:\n  tasks:\n    t:\n      action: std.noop\n      retry: {delay: 1}\n",
    "with_items_bad": "wf:\n  tasks:\n    t:\n      action: std.noop\n      with-items: x on [1]\n",
    "type_bad": "wf:\n  type: foo\n  tasks:\n    t:\n      action: std.noop\n",
    "input_dict": "wf:\n  input: {a: 1}\n  tasks:\n    t:\n      action: std.noop\n",
    "reverse_requires_unknown": "wf:\n  type: reverse\n  tasks:\n    t:\n      action: std.noop\n      requires: [nosuch]\n",
    "top_level_unknown_key": "wf:\n  foo: bar\n  tasks:\n    t:\n      action: std.noop\n",
    "publish_not_dict": "wf:\n  tasks:\n    t:\n      action: std.noop\n      publish: [a]\n",
    "on_success_int": "wf:\n  tasks:\n    t:\n      action: std.noop\n      on-success: 5\n",
    "concurrency_str": "wf:\n  tasks:\n    t:\n      action: std.noop\n      concurrency: abc\n",
    "wait_before_negative": "wf:\n  tasks:\n    t:\n      action: std.noop\n      wait-before: -1\n",
    "timeout_str": "wf:\n  tasks:\n    t:\n      action: std.noop\n      timeout: x\n",
    "no_start_task": "wf:\n  tasks:\n    a:\n      action: std.noop\n      on-success: [b]\n    b:\n      action: std.noop\n      on-success: [a]\n",
    "unknown_action": "wf:\n  tasks:\n    t:\n      action: std.nosuch\n",
    "version_3": None,
    "task_name_256": "wf:\n  tasks:\n    " + "t" * 256 + ":\n      action: std.noop\n",
    "input_duplicate": "wf:\n  input: [a, a]\n  tasks:\n    t:\n      action: std.noop\n",
    "output_string": "wf:\n  output: abc\n  tasks:\n    t:\n      action: std.noop\n",
    "vars_list": "wf:\n  vars: [a]\n  tasks:\n    t:\n      action: std.noop\n",
    "engine_command_task": "wf:\n  tasks:\n    fail:\n      action: std.noop\n",
    "workflow_and_inline": "wf:\n  tasks:\n    t:\n      workflow: other x=1\nother:\n  input: [x]\n  tasks:\n    o:\n      action: std.noop\n",
    "keep_result_str": "wf:\n  tasks:\n    t:\n      action: std.noop\n      keep-result: abc\n",
    "two_workflows": "a1:\n  tasks:\n    t:\n      action: std.noop\nwf:\n  tasks:\n    t:\n      workflow: a1\n",
}


def uploads() -> list[dict[str, Any]]:
    """Definitions Mistral rejects or accepts at upload (then run when accepted)."""
    out = []
    for key, text in INVALID.items():
        body: str
        if text is None:
            body = _Literal("version: '3.0'\nwf:\n  tasks:\n    t:\n      action: std.noop\n")
        else:
            body = doc(text)
        out.append(case(f"upload.{key}", workflows=body, workflow="wf"))
    out.append(case("upload.empty_body", workflows=_Literal(""), workflow="wf"))
    out.append(case("upload.not_a_mapping", workflows=_Literal("- a\n- b\n"), workflow="wf"))
    return out


SIMPLE = wf("""
input: [a, {b: 2}]
output: {a: <% $.a %>, b: <% $.b %>}
tasks:
  t:
    action: std.noop
""")


def starts() -> list[dict[str, Any]]:
    """Execution start: input checks and unknown references."""
    inputs = {
        "ok": {"a": 1}, "missing": {}, "unexpected": {"a": 1, "c": 3}, "override_default": {"a": 1, "b": 5},
        "null_value": {"a": None},
    }
    out = [case(f"start.input_{k}", workflows=SIMPLE, input=v) for k, v in inputs.items()]
    out.append(case("start.unknown_workflow", workflows=SIMPLE, workflow="nosuchwf"))
    out.append(case("start.params_task_name_direct", workflows=SIMPLE, input={"a": 1},
                    params={"task_name": "t"}))
    out.append(case("start.description", workflows=SIMPLE, input={"a": 1},
                    steps=[{"start": {}}, {"wait": ["SUCCESS", "ERROR"]},
                           {"call": {"method": "GET", "path": "/executions/{ex}",
                                     "record": ["state", "description", "workflow_name",
                                                "params", "input", "output"]}}]))
    return out


LONG = wf("""
tasks:
  t1:
    action: std.sleep seconds=2
    publish: {a: 1}
    on-success: [t2]
  t2:
    action: std.echo output=<% $.a %>
    publish: {b: <% task().result %>}
""")
FAILING = wf("""
tasks:
  t1:
    action: std.noop
    on-success: [t2]
  t2:
    action: std.fail
""")


def _put(path: str, body: dict[str, Any], record: list[str] | None = None) -> dict[str, Any]:
    call: dict[str, Any] = {"method": "PUT", "path": path, "body": body}
    if record:
        call["record"] = record
    return {"call": call}


def commands() -> list[dict[str, Any]]:
    """Pause/resume/cancel/force states of executions, task re-runs, GET/PUT edge cases."""
    ex = "/executions/{ex}"
    wait_end = {"wait": ["SUCCESS", "ERROR", "CANCELLED"]}
    scripts: dict[str, tuple[str, list[dict[str, Any]]]] = {
        "pause_resume": (LONG, [{"start": {}}, _put(ex, {"state": "PAUSED"}),
                                {"wait": ["PAUSED"]}, {"sleep": 2.5}, {"observe": "paused"},
                                _put(ex, {"state": "RUNNING"}), wait_end, {"observe": "final"}]),
        "cancel": (LONG, [{"start": {}}, _put(ex, {"state": "CANCELLED"}), wait_end,
                          {"sleep": 2.5}, {"observe": "final"}]),
        "force_error": (LONG, [{"start": {}}, _put(ex, {"state": "ERROR", "state_info": "by hand"}),
                               wait_end, {"observe": "final"}]),
        "force_success": (LONG, [{"start": {}}, _put(ex, {"state": "SUCCESS"}), wait_end,
                                 {"observe": "final"}]),
        "resume_finished": (FAILING, [{"start": {}}, wait_end, _put(ex, {"state": "RUNNING"}),
                                      {"observe": "final"}]),
        "pause_finished": (FAILING, [{"start": {}}, wait_end, _put(ex, {"state": "PAUSED"}),
                                     {"observe": "final"}]),
        "rerun_task": (FAILING, [{"start": {}}, wait_end,
                                 _put("/tasks/{task:t2}", {"state": "RUNNING", "reset": True}),
                                 wait_end, {"sleep": 1.5}, {"observe": "final"}]),
        "rerun_success_task": (FAILING, [{"start": {}}, wait_end,
                                         _put("/tasks/{task:t1}", {"state": "RUNNING"}),
                                         {"observe": "final"}]),
        "skip_failed_task": (FAILING, [{"start": {}}, wait_end,
                                       _put("/tasks/{task:t2}", {"state": "SKIPPED"}),
                                       wait_end, {"sleep": 1.5}, {"observe": "final"}]),
        "update_description": (FAILING, [{"start": {}}, wait_end,
                                         _put(ex, {"description": "new"}, ["state", "description"])]),
        "bad_state": (FAILING, [{"start": {}}, wait_end, _put(ex, {"state": "NOSUCH"})]),
        "empty_put": (FAILING, [{"start": {}}, wait_end, _put(ex, {})]),
        "get_missing": (FAILING, [{"call": {"path": "/executions/00000000-0000-0000-0000-000000000000"}},
                                  {"call": {"path": "/tasks/00000000-0000-0000-0000-000000000000"}},
                                  {"call": {"path": "/workflows/nosuch-wf-name"}},
                                  {"call": {"path": "/actions/nosuch.action"}},
                                  {"call": {"path": "/environments/nosuch-env"}}]),
        "delete_running": (LONG, [{"start": {}}, {"call": {"method": "DELETE", "path": ex}},
                                  wait_end]),
        "action_get_std": (FAILING, [{"call": {"path": "/actions/std.echo",
                                               "record": ["name", "is_system", "input", "scope"]}},
                                     {"call": {"path": "/actions/std.http",
                                               "record": ["name", "is_system", "input", "id"]}}]),
        "run_action_sync": (FAILING, [{"call": {"method": "POST", "path": "/action_executions",
                                                "body": {"name": "std.echo",
                                                         "input": '{"output": "x"}'},
                                                "record": ["state", "output", "accepted"]}}]),
        "run_action_save": (FAILING, [{"call": {"method": "POST", "path": "/action_executions",
                                                "body": {"name": "std.echo", "input": '{"output": 1}',
                                                         "params": '{"save_result": true}'},
                                                "record": ["state", "output", "accepted"]}}]),
        "run_action_fail": (FAILING, [{"call": {"method": "POST", "path": "/action_executions",
                                                "body": {"name": "std.fail", "input": "{}"},
                                                "record": ["state", "output"]}}]),
        "run_action_unknown": (FAILING, [{"call": {"method": "POST", "path": "/action_executions",
                                                   "body": {"name": "std.nosuch"}}}]),
        "run_action_bad_input": (FAILING, [{"call": {"method": "POST", "path": "/action_executions",
                                                     "body": {"name": "std.echo",
                                                              "input": '{"zz": 1}'}}}]),
    }
    return [case(f"cmd.{k}", workflows=text, steps=steps) for k, (text, steps) in scripts.items()]


def families() -> dict[str, list[dict[str, Any]]]:
    """File name -> cases of this module."""
    return {"gen_api": uploads() + starts() + commands()}
