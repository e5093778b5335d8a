"""The real ``mistral`` command (python-mistralclient 6.3.0) against ``wfaas-server``.

Outputs are compared with the transcript of the same commands against Mistral 23
(tests/functional/client/transcript.md) after masking ids and timestamps. Where
wfaas deliberately differs, only the stable part is compared and the test says why.
The tests run in file order and share one server (and its data) per module.
"""

from __future__ import annotations

import inspect
import json
import time
from typing import Any

import pytest
import requests

from tests.functional.client.conftest import (
    Mistral,
    Result,
    command_key,
    fields,
    load_transcript,
    normalize,
    parse_table,
)

pytestmark = pytest.mark.slow

EXPECTED = load_transcript()
STATE: dict[str, Any] = {}


def expect(result: Result, transcript_cmd: str) -> None:
    """``result`` equals the transcript's output for ``transcript_cmd`` (ids/times masked)."""
    body, rc = EXPECTED[command_key(transcript_cmd)]
    assert result.rc == rc, result.text
    assert normalize(result.text) == normalize(body)


def wait_state(mistral: Mistral, ex_id: str, states: tuple[str, ...] = ("SUCCESS", "ERROR"),
               timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        state = mistral.value("execution-get", ex_id, "-c", "State")
        if state in states or time.monotonic() > deadline:
            return state
        time.sleep(0.05)


def test_version(mistral: Mistral) -> None:
    expect(mistral("--version"), "mistral --version")


def test_workflow_create_list_get(mistral: Mistral) -> None:
    expect(mistral("--os-mistral-url", mistral.url + "/v2", "workflow-create", "hello_wf.yaml"),
           "mistral --os-mistral-url http://127.0.0.1:8989/v2 workflow-create hello_wf.yaml")
    expect(mistral("workflow-list"), "mistral workflow-list")
    expect(mistral("workflow-get", "hello_wf"), "mistral workflow-get hello_wf")


def test_workflow_validate_and_create_invalid(mistral: Mistral) -> None:
    result = mistral("workflow-validate", "bad_wf.yaml")
    assert result.rc == 0
    got = fields(result.out)
    assert got["Valid"] == "False"
    assert got["Error"].startswith("Invalid DSL") and "bogus-key" in got["Error"]
    # wfaas names the line instead of dumping the JSON schema
    assert "line 8" in got["Error"]
    result = mistral("workflow-create", "bad_wf.yaml")
    assert result.rc == 1 and result.err.startswith("ERROR (app) ")
    assert "bogus-key" in result.err and "line 8" in result.err


def test_execution_create_get_output_input(mistral: Mistral) -> None:
    first = mistral.value("execution-create", "hello_wf", '{"name": "anchor"}', "-c", "ID")
    STATE["ex"] = first
    expect(mistral("execution-create", "hello_wf", '{"name": "anchor"}', "-d", "demo run"),
           "mistral execution-create hello_wf '{\"name\": \"anchor\"}' -d 'demo run'")
    assert wait_state(mistral, first) == "SUCCESS"
    ex = "e7cf92f9-5204-43a5-aeca-deae17863d4f"
    expect(mistral("execution-get", first), f"mistral execution-get {ex}")
    expect(mistral("execution-get-output", first), f"mistral execution-get-output {ex}")
    expect(mistral("execution-get-input", first), f"mistral execution-get-input {ex}")


def test_execution_list(mistral: Mistral) -> None:
    rows = parse_table(mistral("execution-list").out)
    assert STATE["ex"] in [r["ID"] for r in rows]
    assert {r["Workflow name"] for r in rows} == {"hello_wf"}


def test_task_list_get_result_published(mistral: Mistral) -> None:
    ex = STATE["ex"]
    result = mistral("task-list", ex)
    body, _ = EXPECTED[command_key("mistral task-list e7cf92f9-5204-43a5-aeca-deae17863d4f")]
    # Same rows; Mistral's order of tasks created in the same second is arbitrary.
    assert sorted(normalize(result.out).splitlines()) == sorted(normalize(body).splitlines())
    tasks = {r["Name"]: r["ID"] for r in parse_table(result.out)}
    tid = STATE["task"] = tasks["say_hello"]
    old = "5f7921ca-7d69-43db-b638-2a11f57ec49d"
    expect(mistral("task-get", tid), f"mistral task-get {old}")
    expect(mistral("task-get-result", tid), f"mistral task-get-result {old}")
    expect(mistral("task-get-published", tid), f"mistral task-get-published {old}")


def test_action_execution_list_of_a_task(mistral: Mistral) -> None:
    rows = parse_table(mistral("action-execution-list", STATE["task"]).out)
    body, _ = EXPECTED[command_key(
        "mistral action-execution-list 5f7921ca-7d69-43db-b638-2a11f57ec49d")]
    (want,) = parse_table(normalize(body))
    (got,) = [{k: normalize(v) for k, v in r.items()} for r in rows]
    # Mistral 23 prints "None" as the task name of a task's action execution; wfaas fills it.
    assert got.pop("Task name") == "say_hello" and want.pop("Task name") == "None"
    assert got == want


def test_execution_get_missing(mistral: Mistral) -> None:
    missing = "00000000-0000-0000-0000-000000000000"
    expect(mistral("execution-get", missing), f"mistral execution-get {missing}")


def test_action_list_and_get(mistral: Mistral) -> None:
    rows = parse_table(mistral("action-list", "--filter", "name=has:std.").out)
    names = {r["Name"] for r in rows}
    assert {"std.echo", "std.noop", "std.fail", "std.http", "std.async_noop"} <= names
    got = fields(mistral("action-get", "std.echo").out)
    want = fields(EXPECTED[command_key("mistral action-get std.echo")][0])
    # Like Mistral 23: the name as ID, "Is system" False, the signature; the description
    # is the action class's docstring (wfaas's own text).
    for key in ("ID", "Name", "Is system", "Input", "Tags"):
        assert got[key] == want[key]


def test_action_list_shows_every_action(mistral: Mistral) -> None:
    """``mistral action-list`` (the client does not follow ``next``) lists every action,
    std.* included, as Mistral 23 does: the server does not cap this list."""
    rows = parse_table(mistral("action-list").out)
    total = len(requests.get(mistral.url + "/v2/actions", params={"fields": "name"},
                             timeout=30).json()["actions"])
    assert len(rows) == total > 1000
    want = {r["Name"]: r for r in parse_table(
        normalize(EXPECTED[command_key("mistral action-list")][0]))}
    ours = {r["Name"]: r for r in rows if r["Name"] in want}
    assert set(ours) == set(want) - {"std.javascript", "std.js", "std.mistral_http"} or \
        set(ours) == set(want)
    for name, row in ours.items():
        assert row["ID"] == name and row["Is system"] == "False"
        assert row["Input"] == want[name]["Input"], name
    assert mistral("action-list", "--limit", "5").out.count("| std.") <= 5


def test_action_get_std_http(mistral: Mistral) -> None:
    got = fields(mistral("action-get", "std.http").out)
    want = fields(EXPECTED[command_key("mistral action-get std.http")][0])
    for key in ("ID", "Name", "Is system", "Input", "Tags"):
        assert got[key] == want[key], key
    # the action class's whole docstring, as Mistral shows it (wfaas's own text)
    from wfaas.actions.std_http import HTTPAction
    assert got["Description"].split() == (inspect.getdoc(HTTPAction) or "").split()


def test_run_action(mistral: Mistral) -> None:
    # not a command of client 6.3.0: the client itself refuses it (exit 2), as in Mistral's
    expect(mistral("action-execution-run", "std.echo", '{"output": "hi"}'),
           "mistral action-execution-run std.echo '{\"output\": \"hi\"}'")
    expect(mistral("run-action", "std.echo", '{"output": "hi"}'),
           "mistral run-action std.echo '{\"output\": \"hi\"}'")
    saved = mistral("run-action", "std.echo", '{"output": "hi"}', "--save-result")
    assert saved.rc == 0
    got = fields(saved.out)
    want = fields(EXPECTED[command_key(
        "mistral run-action std.echo '{\"output\": \"hi\"}' --save-result")][0])
    assert list(got) == list(want)
    for key in ("Name", "Workflow name", "Workflow namespace", "Task name", "Task ID",
                "State info"):
        assert got[key] == want[key]
    assert got["State"] in ("RUNNING", "SUCCESS")
    # Mistral's "accepted": the result was accepted by the engine (False while running)
    assert got["Accepted"] == ("False" if got["State"] == "RUNNING" else "True")
    assert want["Accepted"] == "False"
    STATE["saved_action"] = got["ID"]
    failed = mistral("run-action", "std.fail", "{}")
    assert failed.rc == 0 and json.loads(failed.out)["result"]
    expect_rc = mistral("run-action", "std.nope", "{}")
    assert expect_rc.rc == 1
    assert expect_rc.err.startswith("ERROR (app) Failed to find action [action_name=std.nope")


def test_action_execution_list_and_get(mistral: Mistral) -> None:
    rows = parse_table(mistral("action-execution-list").out)
    ours = [r for r in rows if r["ID"] == STATE["saved_action"]]
    assert ours and ours[0]["Name"] == "std.echo" and ours[0]["Task ID"] == "None"
    # two executions of two tasks + the saved run; unsaved runs leave no row
    assert len(rows) == 5 and "std.fail" not in {r["Name"] for r in rows}
    got = fields(mistral("action-execution-get", STATE["saved_action"]).out)
    assert got["State"] == "SUCCESS"
    output = mistral("action-execution-get-output", STATE["saved_action"])
    assert json.loads(output.out) == {"result": "hi"}


def test_cron_triggers(mistral: Mistral) -> None:
    expect(mistral("cron-trigger-create", "every5min", "hello_wf", '{"name": "cron"}',
                   "--pattern", "*/5 * * * *"),
           "mistral cron-trigger-create every5min hello_wf '{\"name\": \"cron\"}' "
           "--pattern '*/5 * * * *'")
    expect(mistral("cron-trigger-create", "once_in_1h", "hello_wf", '{"name": "once"}',
                   "--first-time", "2099-01-01 00:00", "--count", "1"),
           "mistral cron-trigger-create once_in_1h hello_wf '{\"name\": \"once\"}' "
           "--first-time '2099-01-01 00:00' --count 1")
    expect(mistral("cron-trigger-list"), "mistral cron-trigger-list")
    expect(mistral("cron-trigger-get", "every5min"), "mistral cron-trigger-get every5min")
    bad = mistral("cron-trigger-create", "bad", "hello_wf", "{}", "--pattern", "nope")
    assert bad.rc == 1 and "Invalid cron pattern" in bad.err
    expect(mistral("cron-trigger-delete", "every5min", "once_in_1h"),
           "mistral cron-trigger-delete every5min once_in_1h")


def test_workbooks(mistral: Mistral) -> None:
    expect(mistral("workbook-create", "demo_wb.yaml"), "mistral workbook-create demo_wb.yaml")
    expect(mistral("workbook-list"), "mistral workbook-list")
    expect(mistral("workflow-list", "--filter", "name=demo_wb.wf1"),
           "mistral workflow-list --filter name=demo_wb.wf1")
    expect(mistral("action-get", "demo_wb.shout"), "mistral action-get demo_wb.shout")
    wbex = mistral.value("execution-create", "demo_wb.wf1", '{"text": "yo"}', "-c", "ID")
    assert wait_state(mistral, wbex) == "SUCCESS"
    expect(mistral("execution-get-output", wbex),
           "mistral execution-get-output c8457240-db11-4806-b385-f84a90b60eb6 #2")


def test_environments(mistral: Mistral) -> None:
    expect(mistral("environment-create", "env.yaml"), "mistral environment-create env.yaml")
    expect(mistral("environment-list"), "mistral environment-list")
    expect(mistral("environment-get", "demo_env"), "mistral environment-get demo_env")
    result = mistral("execution-create", "hello_wf", '{"name": "with env"}',
                     '{"env": "demo_env"}')
    expect(result, "mistral execution-create hello_wf '{\"name\": \"with env\"}' "
                   "'{\"env\": \"demo_env\"}'")
    assert wait_state(mistral, fields(result.out)["ID"]) == "SUCCESS"
    expect(mistral("environment-delete", "demo_env"), "mistral environment-delete demo_env")
    expect(mistral("workbook-delete", "demo_wb"), "mistral workbook-delete demo_wb")


ASYNC_WF = "version: '2.0'\nwait_wf:\n  tasks:\n    w:\n      action: std.async_noop\n"
FAILING_WF = ("version: '2.0'\nflaky:\n  tasks:\n    t1:\n"
              "      action: std.echo output=<% env().x %>\n")
ADHOC = ("version: '2.0'\ngreet:\n  base: std.echo\n  base-input:\n"
         "    output: Hello, <% $.who %>\n  input:\n    - who\n")


def test_execution_update_and_delete(mistral: Mistral, tmp_path: Any) -> None:
    (tmp_path / "wait.yaml").write_text(ASYNC_WF)
    assert mistral("workflow-create", str(tmp_path / "wait.yaml")).rc == 0
    ex = mistral.value("execution-create", "wait_wf", "-c", "ID")
    assert wait_state(mistral, ex, ("RUNNING",)) == "RUNNING"
    assert fields(mistral("execution-update", ex, "-s", "PAUSED").out)["State"] == "PAUSED"
    assert fields(mistral("execution-update", ex, "-s", "RUNNING").out)["State"] == "RUNNING"
    upd = fields(mistral("execution-update", ex, "-d", "new description").out)
    assert upd["Description"] == "new description"
    action = [r for r in parse_table(mistral("action-execution-list").out)
              if r["Name"] == "std.async_noop"][0]["ID"]
    done = mistral("action-execution-update", action, "--state", "SUCCESS", "--output", '"ok"')
    assert done.rc == 0 and fields(done.out)["State"] == "SUCCESS"
    assert wait_state(mistral, ex) == "SUCCESS"
    deleted = mistral("execution-delete", ex)
    assert deleted.rc == 0 and "has been accepted" in deleted.out
    assert mistral("execution-get", ex).rc == 1


def test_task_rerun(mistral: Mistral, tmp_path: Any) -> None:
    (tmp_path / "flaky.yaml").write_text(FAILING_WF)
    assert mistral("workflow-create", str(tmp_path / "flaky.yaml")).rc == 0
    ex = mistral.value("execution-create", "flaky", "-c", "ID")
    assert wait_state(mistral, ex) == "ERROR"
    (task,) = parse_table(mistral("task-list", ex).out)
    assert task["State"] == "ERROR"
    rerun = mistral("task-rerun", task["ID"], "--env", '{"x": "fixed"}')
    assert rerun.rc == 0, rerun.text
    assert wait_state(mistral, ex) == "SUCCESS"


def test_adhoc_action_create_and_run(mistral: Mistral, tmp_path: Any) -> None:
    (tmp_path / "greet.yaml").write_text(ADHOC)
    created = mistral("action-create", str(tmp_path / "greet.yaml"))
    assert created.rc == 0 and parse_table(created.out)[0]["Name"] == "greet"
    assert fields(mistral("action-get", "greet").out)["Input"] == "who"
    result = mistral("run-action", "greet", '{"who": "you"}')
    assert result.rc == 0 and json.loads(result.out) == {"result": "Hello, you"}
    assert mistral("action-delete", "greet").rc == 0
    assert mistral("action-get", "greet").rc == 1


def test_execution_report_and_clone(mistral: Mistral) -> None:
    ex = STATE["ex"]
    report = mistral("execution-get-report", ex, "--no-errors-only")
    assert report.rc == 0, report.text
    assert "Number of tasks in SUCCESS state: 2" in report.out
    assert f"workflow 'hello_wf' [SUCCESS] {ex}" in report.out
    assert "task 'say_hello' [SUCCESS]" in report.out and "action 'std.echo' [SUCCESS]" in \
        report.out
    clone = fields(mistral("execution-create", "-s", ex).out)
    assert clone["Workflow name"] == "hello_wf"
    assert clone["Description"] == f"Based on the execution '{ex}'"
    assert wait_state(mistral, clone["ID"]) == "SUCCESS"
    assert json.loads(mistral("execution-get-input", clone["ID"]).out) == {"name": "anchor"}


def test_every_transcript_command_is_run() -> None:
    """Each subcommand of the reference transcript is exercised by a test of this file."""
    source = open(__file__).read()
    subcommands = {cmd.split()[1] if not cmd.split()[1].startswith("--") else cmd.split()[3]
                   for cmd in EXPECTED if len(cmd.split()) > 3 or
                   not cmd.split()[1].startswith("--")}
    subcommands.discard("--version")
    missing = sorted(c for c in subcommands if f'"{c}"' not in source)
    assert not missing, missing
