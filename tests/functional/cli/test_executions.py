"""``wfaas`` against a real wfaas-server: executions (create, --wait, steer,
report, graph), tasks and action executions."""

from __future__ import annotations

import json
import time

import pytest

HELLO = """---
version: '2.0'
cli_hello:
  input:
    - name
    - greeting: Hello
  output:
    msg: <% $.msg %>
    items: <% $.items %>
  tasks:
    echo:
      action: std.echo output="<% $.greeting %>, <% $.name %>"
      publish:
        msg: <% task().result %>
      on-success: [loop]
    loop:
      with-items: i in <% [1, 2, 3] %>
      action: std.echo output=<% $.i * 10 %>
      publish:
        items: <% task().result %>
"""

FAIL = """---
version: '2.0'
cli_fail:
  tasks:
    first:
      action: std.noop
      on-success: [boom]
    boom:
      action: std.fail error_data="kaboom"
      on-success: [after]
    after:
      action: std.echo output=done
"""

SLOW = """---
version: '2.0'
cli_slow:
  tasks:
    nap:
      action: std.sleep seconds=4
"""


@pytest.fixture(scope="module", autouse=True)
def workflows(server, tmp_path_factory) -> None:
    from wfaas.client import Client

    client = Client(server.url)
    for text in (HELLO, FAIL, SLOW):
        client.workflows.create(text)


def wait_state(cli, ex_id: str, states: tuple[str, ...], timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        ex = cli.json("execution", "get", ex_id)
        if ex["state"] in states or time.monotonic() > deadline:
            return ex
        time.sleep(0.05)


def test_wait_success_follows_tasks_and_prints_output(cli) -> None:
    code, out, err = cli("execution", "create", "cli_hello", "-i", "name=anchor", "--wait")
    assert code == 0, err
    assert json.loads(out) == {"msg": "Hello, anchor", "items": [10, 20, 30]}
    lines = err.splitlines()
    assert lines[0].startswith("execution ") and lines[0].endswith("of cli_hello started")
    assert lines.index("▶ echo started") < lines.index("▶ loop started")
    assert any(line.startswith("✔ echo SUCCESS in ") for line in lines)
    assert any(line.startswith("✔ loop SUCCESS in ") and line.endswith("(3 items)")
               for line in lines)
    assert lines[-1].startswith("execution ") and " SUCCESS in " in lines[-1]


def test_wait_failure_exits_1_and_names_the_failing_task(cli) -> None:
    code, out, err = cli("execution", "create", "cli_fail", "--wait")
    assert code == 1 and out == ""
    assert any(line.startswith("✘ boom ERROR in ") and line.endswith(": kaboom")
               for line in err.splitlines())
    assert "▶ after started" not in err
    assert "error: execution " in err and " ERROR in " in err
    assert "  task boom [" in err and "]: kaboom" in err


def test_wait_failure_says_the_executions_reason_first(cli, write) -> None:
    path = write("gave_up.yaml", "version: '2.0'\ncli_gave_up:\n  tasks:\n    try:\n"
                 "      action: std.fail error_data=boom\n      on-error:\n"
                 "        - fail(msg='gave up')\n")
    assert cli("workflow", "create", path)[0] == 0
    code, _, err = cli("execution", "create", "cli_gave_up", "--wait")
    assert code == 1
    final = [line for line in err.splitlines() if line.startswith("error: execution ")]
    assert final and final[0].endswith(": gave up"), err
    assert "  task try [" in err and "boom" in err        # the task's own error follows


def test_create_input_forms_and_execution_views(cli, write) -> None:
    path = write("in.json", '{"name": "file"}')
    ex = cli.json("execution", "create", "cli_hello", path, "-i", "greeting=Hey",
                  "-d", "from a file")
    assert ex["state"] in ("RUNNING", "SUCCESS") and ex["description"] == "from a file"
    done = wait_state(cli, ex["id"], ("SUCCESS", "ERROR"))
    assert done["state"] == "SUCCESS"
    assert cli.json("execution", "input", ex["id"]) == {"name": "file", "greeting": "Hey"}
    assert cli.json("execution", "output", ex["id"])["msg"] == "Hey, file"
    inline = cli.json("execution", "create", "cli_hello", '{"name": "inline"}')
    wait_state(cli, inline["id"], ("SUCCESS",))
    assert cli.json("execution", "output", inline["id"])["msg"] == "Hello, inline"
    listed = cli.json("execution", "list", "--workflow", "cli_hello", "-c", "id,state")
    ids = [r["id"] for r in listed]
    assert ids.index(ex["id"]) < ids.index(inline["id"])          # oldest first
    assert all(set(r) == {"id", "state"} for r in listed)
    errors = cli.json("execution", "list", "--state", "ERROR", "-c", "workflow_name")
    assert all(r["workflow_name"] != "cli_hello" for r in errors)
    code, _, err = cli("execution", "create", "cli_hello")
    assert code == 1 and err.startswith("error: 400 ") and "name" in err


def test_tasks_result_published_and_report(cli) -> None:
    code, _, _ = cli("execution", "create", "cli_hello", "-i", "name=t", "--wait")
    assert code == 0
    ex_id = cli.json("execution", "list", "--workflow", "cli_hello", "--limit", "1")[0]["id"]
    tasks = cli.json("task", "list", ex_id)
    assert sorted(t["name"] for t in tasks) == ["echo", "loop"]
    loop = next(t for t in tasks if t["name"] == "loop")
    assert cli.json("task", "get", loop["id"], "-c", "name,state") == {
        "name": "loop", "state": "SUCCESS"}
    assert cli.json("task", "result", loop["id"]) == [10, 20, 30]
    assert cli.json("task", "published", loop["id"]) == {"items": [10, 20, 30]}
    actions = cli.json("action-execution", "list", loop["id"])
    assert len(actions) == 3 and {a["name"] for a in actions} == {"std.echo"}
    ae = cli.json("action-execution", "get", actions[0]["id"], "-c", "name,state")
    assert ae == {"name": "std.echo", "state": "SUCCESS"}
    assert cli.json("action-execution", "input", actions[0]["id"])["output"] in (10, 20, 30)
    assert "result" in cli.json("action-execution", "output", actions[0]["id"])
    report = cli.json("execution", "report", ex_id, "--all-tasks")
    assert report["statistics"]["success_tasks_count"] == 2
    text = cli.ok("execution", "report", ex_id, "--all-tasks")
    assert "task echo [" in text and "SUCCESS" in text


def test_task_rerun_and_skip(cli) -> None:
    code, _, _ = cli("execution", "create", "cli_fail", "--wait")
    assert code == 1
    ex_id = cli.json("execution", "list", "--workflow", "cli_fail", "--limit", "1")[0]["id"]
    boom = cli.json("task", "list", ex_id, "--state", "ERROR")
    assert [t["name"] for t in boom] == ["boom"]
    code, _, err = cli("task", "rerun", boom[0]["id"], "--wait")
    assert code == 1 and "task boom [" in err and "kaboom" in err
    code, _, err = cli("execution", "rerun", ex_id, "--wait")
    assert code == 1 and "task boom [" in err
    code, out, err = cli("task", "skip", boom[0]["id"], "--wait")
    assert code == 0, err
    assert "↷ boom SKIPPED" in err and "✔ after SUCCESS" in err
    assert "▶ first started" not in err                    # known tasks are not repeated
    assert cli.json("execution", "get", ex_id, "-c", "state") == {"state": "SUCCESS"}


def test_pause_resume_cancel_update_and_delete(cli) -> None:
    ex = cli.json("execution", "create", "cli_slow")
    wait_state(cli, ex["id"], ("RUNNING",))
    assert cli.json("execution", "pause", ex["id"], "-c", "state")["state"] == "PAUSED"
    assert cli.json("execution", "resume", ex["id"], "-c", "state")["state"] == "RUNNING"
    upd = cli.json("execution", "update", ex["id"], "-d", "renamed", "-c", "description")
    assert upd == {"description": "renamed"}
    code, _, err = cli("execution", "delete", ex["id"])
    assert code == 1 and "error: execution " in err
    cancelled = cli.json("execution", "cancel", ex["id"], "-m", "enough")
    assert cancelled["state"] == "CANCELLED" and cancelled["state_info"] == "enough"
    code, _, err = cli("execution", "watch", ex["id"])
    assert code == 1 and "CANCELLED" in err
    assert cli.ok("execution", "delete", ex["id"]) == f"execution {ex['id']} deleted\n"
    code, _, err = cli("execution", "get", ex["id"])
    assert code == 1 and err.startswith("error: 404 ")


def test_rerun_new_reuses_the_input(cli) -> None:
    first = cli.json("execution", "create", "cli_hello", "-i", "name=again")
    wait_state(cli, first["id"], ("SUCCESS",))
    code, out, err = cli("execution", "rerun", first["id"], "--new", "--wait")
    assert code == 0, err
    assert json.loads(out)["msg"] == "Hello, again"


def test_execution_graph_text_and_svg(cli, tmp_path) -> None:
    cli("execution", "create", "cli_fail", "--wait")
    ex_id = cli.json("execution", "list", "--workflow", "cli_fail", "--limit", "1")[0]["id"]
    text = cli.ok("execution", "graph", ex_id)
    assert "✔ first" in text and "✘ boom" in text and "kaboom" in text
    assert "not run" in text and f"execution {ex_id}: ERROR" in text
    svg = tmp_path / "run.svg"
    cli.ok("execution", "graph", ex_id, "-o", str(svg))
    content = svg.read_text()
    for name in ("first", "boom", "after"):
        assert f'data-name="{name}"' in content
    assert "#c9303e" in content                               # the failed task is red
    code, _, err = cli("execution", "graph", ex_id, "-o", str(tmp_path / "g.bmp"))
    assert code == 2 and "unknown graph format" in err


def test_graph_durations_and_items_agree_with_wait(cli, tmp_path) -> None:
    import re
    import xml.etree.ElementTree as ET

    code, _, err = cli("execution", "create", "cli_hello", "-i", "name=d", "--wait")
    assert code == 0, err
    ex_id = err.splitlines()[0].split()[1]
    took = dict(re.findall(r"^✔ (\w+) SUCCESS in (\S+)", err, re.M))
    assert set(took) == {"echo", "loop"}
    svg = tmp_path / "run.svg"
    cli.ok("execution", "graph", ex_id, "-o", str(svg))
    ns = {"s": "http://www.w3.org/2000/svg"}
    root = ET.parse(svg).getroot()
    details = {g.get("data-name"): "".join(g.find("s:text[@class='detail']", ns).itertext())
               for g in root.findall(".//s:g[@class='task']", ns)}
    assert details == {"echo": f"SUCCESS {took['echo']}",
                       "loop": f"SUCCESS {took['loop']} 3/3 items"}
    png = tmp_path / "run.png"
    cli.ok("execution", "graph", ex_id, "-o", str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_wait_timeout_exit_code(cli) -> None:
    code, _, err = cli("execution", "create", "cli_slow", "--wait", "--wait-timeout", "0.3")
    assert code == 3 and "still RUNNING" in err
    ex_id = cli.json("execution", "list", "--workflow", "cli_slow", "--limit", "1")[0]["id"]
    cli.ok("execution", "cancel", ex_id)




def test_list_filter_with_an_unknown_operator_is_an_error(cli) -> None:
    cli("execution", "create", "cli_fail", "--wait")
    rows = cli.json("execution", "list", "--filter", "state=in:ERROR,CANCELLED")
    assert rows and {r["state"] for r in rows} <= {"ERROR", "CANCELLED"}
    code, out, err = cli("execution", "list", "--filter", "state=bogus:ERROR")
    assert code == 1 and out == ""
    assert err.startswith("error: 400 ") and "unknown operator 'bogus'" in err, err
    assert "eq, neq, lt, lte, gt, gte, in, nin, has" in err
    code, _, err = cli("task", "list", "--filter", "state=FINISHED")
    assert code == 1 and "'FINISHED'" in err and "SUCCESS" in err, err
