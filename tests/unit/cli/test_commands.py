"""The ``wfaas`` REST commands against the in-memory fake server."""

from __future__ import annotations

import json

import yaml

from wfaas.cmd.cli import main

URL = "http://wf.test/v2"
WF = {"id": "w1", "name": "hello", "namespace": "", "input": "name", "tags": [],
      "created_at": "2026-01-01 00:00:00", "updated_at": None,
      "definition": "---\nversion: '2.0'\nhello:\n  tasks:\n    a:\n      action: std.noop\n"}


def run(*argv: str) -> int:
    return main(["--url", URL, *argv])


def test_server_error_is_one_line_with_the_status(fake, capsys) -> None:
    fake.on("GET", "/v2/workflows/x", (404, {"faultstring": "Workflow not found [name=x]"}))
    assert run("workflow", "get", "x") == 1
    captured = capsys.readouterr()
    assert captured.err == "error: 404 Workflow not found [name=x]\n"
    assert captured.out == ""


def test_connection_refused_is_one_line_naming_the_url(fake, capsys) -> None:
    fake.refuse = True
    assert run("execution", "list") == 1
    assert capsys.readouterr().err == f"error: cannot connect to {URL}: connection refused\n"


def test_url_from_environment_and_after_the_verb(fake, capsys, monkeypatch) -> None:
    fake.on("GET", "/v2/workflows", (200, {"workflows": [WF]}))
    monkeypatch.setenv("WFAAS_URL", "http://env.test/v2")
    assert main(["workflow", "list", "-f", "value", "-c", "name"]) == 0
    assert fake.last().url.startswith("http://env.test/v2/workflows")
    assert main(["workflow", "list", "--url", "http://after.test/v2"]) == 0
    assert fake.last().url.startswith("http://after.test/v2/workflows")
    assert capsys.readouterr().out.startswith("hello\n")


def test_list_table_json_yaml_and_fields(fake, capsys) -> None:
    fake.on("GET", "/v2/workflows", (200, {"workflows": [WF]}))
    assert run("workflow", "list") == 0
    table = capsys.readouterr().out.splitlines()
    assert table[1].split("|")[1:3] == [" id ", " name  "]
    assert "| w1 " in table[3] and "hello" in table[3]
    assert run("workflow", "list", "-f", "json", "--fields", "name,input") == 0
    assert json.loads(capsys.readouterr().out) == [{"name": "hello", "input": "name"}]
    assert run("workflow", "list", "-f", "yaml", "-c", "name", "-c", "id") == 0
    assert yaml.safe_load(capsys.readouterr().out) == [{"name": "hello", "id": "w1"}]


def test_workflow_definition_prints_the_yaml(fake, capsys) -> None:
    fake.on("GET", "/v2/workflows/hello", (200, WF))
    assert run("workflow", "definition", "hello") == 0
    assert capsys.readouterr().out == WF["definition"]


def test_workflow_create_reads_files(fake, capsys, tmp_path) -> None:
    path = tmp_path / "wf.yaml"
    path.write_text(WF["definition"])
    fake.on("POST", "/v2/workflows", (201, {"workflows": [WF]}))
    assert run("workflow", "create", str(path), "--namespace", "ns", "-f", "json") == 0
    assert fake.last().body == WF["definition"].encode()
    assert json.loads(capsys.readouterr().out)[0]["name"] == "hello"
    assert run("workflow", "create", str(tmp_path / "missing.yaml")) == 2
    assert "cannot read" in capsys.readouterr().err


def test_validate_exit_code_follows_validity(fake, capsys, tmp_path) -> None:
    path = tmp_path / "wf.yaml"
    path.write_text("bad")
    fake.on("POST", "/v2/workflows/validate", (200, {"valid": False, "error": "boom"}))
    assert run("workflow", "validate", str(path), "-f", "json") == 1
    assert json.loads(capsys.readouterr().out) == {"valid": False, "error": "boom"}


def test_execution_create_merges_json_file_and_pairs(fake, capsys, tmp_path) -> None:
    path = tmp_path / "in.yaml"
    path.write_text("a: 1\nb: text\n")
    fake.on("POST", "/v2/executions", (201, {"id": "e1", "state": "RUNNING"}))
    assert run("execution", "create", "wf", str(path), "-i", "b=2", "-i", "c=[1, 2]",
               "-i", "d=plain words", "-e", "my_env", "-f", "json") == 0
    body = fake.body(fake.last())
    assert json.loads(body["input"]) == {"a": 1, "b": 2, "c": [1, 2], "d": "plain words"}
    assert json.loads(body["params"]) == {"env": "my_env"}
    assert json.loads(capsys.readouterr().out)["id"] == "e1"


def test_execution_create_rejects_bad_input(fake, capsys) -> None:
    assert run("execution", "create", "wf", "[1, 2]") == 2
    assert "input must be a JSON object" in capsys.readouterr().err
    assert run("execution", "create", "wf", "-i", "novalue") == 2
    assert "-i expects key=value" in capsys.readouterr().err
    assert fake.requests == []


def _wait_routes(fake, final_state: str, task_state: str, info: str | None) -> None:
    tasks_running = [{"id": "t1", "name": "a", "state": "RUNNING",
                      "created_at": "2026-01-01 00:00:00"}]
    tasks_done = [{"id": "t1", "name": "a", "state": task_state, "state_info": info,
                   "created_at": "2026-01-01 00:00:00", "started_at": "2026-01-01 00:00:00",
                   "finished_at": "2026-01-01 00:00:00.250000"}]
    fake.on("POST", "/v2/executions", (201, {"id": "e1", "workflow_name": "wf",
                                              "state": "RUNNING"}))
    fake.on("GET", "/v2/executions/e1", [
        (200, {"id": "e1", "workflow_id": "w1", "workflow_name": "wf", "state": "RUNNING"}),
        (200, {"id": "e1", "workflow_name": "wf", "state": "RUNNING"}),
        (200, {"id": "e1", "workflow_name": "wf", "state": final_state,
               "output": '{"out": 42}'})])
    fake.on("GET", "/v2/executions/e1/tasks", [(200, {"tasks": tasks_running}),
                                               (200, {"tasks": tasks_done})])
    fake.on("GET", "/v2/workflows/w1", (200, WF))


def test_wait_success_prints_tasks_and_output(fake, capsys, monkeypatch) -> None:
    monkeypatch.setattr("wfaas.client.watch.time.sleep", lambda s: None)
    _wait_routes(fake, "SUCCESS", "SUCCESS", None)
    assert run("execution", "create", "wf", "--wait") == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"out": 42}
    assert "▶ a started" in captured.err
    assert "✔ a SUCCESS in 0.25s" in captured.err
    assert "execution e1 SUCCESS" in captured.err


def test_wait_failure_exits_1_with_the_task_error(fake, capsys, monkeypatch) -> None:
    monkeypatch.setattr("wfaas.client.watch.time.sleep", lambda s: None)
    _wait_routes(fake, "ERROR", "ERROR", "kaboom")
    assert run("execution", "create", "wf", "--wait") == 1
    err = capsys.readouterr().err
    assert "✘ a ERROR in 0.25s: kaboom" in err
    assert "error: execution e1 ERROR" in err
    assert "task a [t1]: kaboom" in err


def test_execution_list_shows_newest_page_oldest_first(fake, capsys) -> None:
    fake.on("GET", "/v2/executions", (200, {"executions": [{"id": "new"}, {"id": "old"}]}))
    assert run("execution", "list", "--state", "ERROR", "-f", "value", "-c", "id") == 0
    assert capsys.readouterr().out == "old\nnew\n"
    query = fake.query(fake.last())
    assert query == {"limit": "100", "sort_keys": "created_at", "sort_dirs": "desc",
                     "state": "ERROR"}
    assert run("execution", "list", "--oldest", "--filter", "created_at=gte:2026-01-01",
               "-f", "value", "-c", "id") == 0
    assert fake.query(fake.last()) == {"limit": "100", "created_at": "gte:2026-01-01"}


def test_output_and_task_result_print_json(fake, capsys) -> None:
    fake.on("GET", "/v2/executions/e1", (200, {"id": "e1", "output": '{"x": [1, 2]}'}))
    assert run("execution", "output", "e1") == 0
    assert json.loads(capsys.readouterr().out) == {"x": [1, 2]}
    fake.on("GET", "/v2/tasks/t1", (200, {"id": "t1", "result": '"kaboom"'}))
    assert run("task", "result", "t1") == 0
    assert capsys.readouterr().out == '"kaboom"\n'


def test_delete_reports_each_name(fake, capsys) -> None:
    fake.on("DELETE", "/v2/environments/a", (204, None))
    fake.on("DELETE", "/v2/environments/b", (404, {"faultstring": "Environment not found"}))
    assert run("environment", "delete", "a", "b") == 1
    captured = capsys.readouterr()
    assert captured.out == "environment a deleted\n"
    assert captured.err == "error: environment b: 404 Environment not found\n"


def test_action_run_prints_the_result_and_fails_on_error(fake, capsys) -> None:
    fake.on("POST", "/v2/action_executions", [
        (201, {"state": "SUCCESS", "output": '{"result": {"a": 1}}'}),
        (201, {"state": "ERROR", "output": '{"result": "it broke"}'})])
    assert run("action", "run", "std.echo", "-i", "output={\"a\": 1}") == 0
    assert json.loads(capsys.readouterr().out) == {"a": 1}
    assert fake.body(fake.last())["input"] == {"output": {"a": 1}}
    assert run("action", "run", "std.fail") == 1
    assert capsys.readouterr().err == "error: action std.fail failed: it broke\n"


def test_resource_without_verb_prints_help(fake, capsys) -> None:
    assert run("workflow") == 2
    assert "create" in capsys.readouterr().out


def test_token_without_auth_url_is_sent_as_is(fake, capsys, monkeypatch) -> None:
    monkeypatch.setenv("OS_AUTH_TOKEN", "secret")
    fake.on("GET", "/v2/cron_triggers", (200, {"cron_triggers": []}))
    assert run("cron-trigger", "list") == 0
    assert fake.last().headers["X-Auth-Token"] == "secret"


def test_action_get_on_a_server_without_the_schema(fake, capsys) -> None:
    """A Mistral server refuses fields=...,params_schema: the action is shown without it."""
    def reply(request):  # type: ignore[no-untyped-def]
        if "fields=" in (request.url or ""):
            return 400, {"faultstring": "Some fields do not exist [params_schema], please "
                                        "choose from: id, name, input"}
        return 200, {"id": "std.echo", "name": "std.echo", "input": "output, delay=0"}
    fake.on("GET", "/v2/actions/std.echo", reply)
    assert run("action", "get", "std.echo", "-f", "json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["input"] == "output, delay=0" and shown["params_schema"] is None
    assert len(fake.requests) == 2
