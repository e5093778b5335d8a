"""``wfaas`` against a real wfaas-server: workbooks, workflows, actions,
environments, cron and event triggers, completion."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests
import yaml

WF = """---
version: '2.0'
{name}:
  description: first
  input:
    - who: world
  tasks:
    hello:
      action: std.echo output="hi <% $.who %>"
"""

WORKBOOK = """---
version: '2.0'
name: {name}
workflows:
  wf1:
    tasks:
      t1:
        action: std.noop
actions:
  shout:
    base: std.echo
    base-input:
      output: <% $.text %>!!!
    input:
      - text
"""

ACTIONS = """---
version: '2.0'
{name}:
  base: std.echo
  base-input:
    output: <% $.x %>
  input:
    - x
"""


def test_workflow_lifecycle(cli, write) -> None:
    path = write("wf.yaml", WF.format(name="cli_wf"))
    created = cli.json("workflow", "create", path)
    assert [w["name"] for w in created] == ["cli_wf"]
    assert created[0]["input"] == 'who="world"'
    code, _, err = cli("workflow", "create", path)
    assert code == 1 and err.startswith("error: 409 ")
    listed = cli.json("workflow", "list", "--filter", "name=cli_wf")
    assert [w["name"] for w in listed] == ["cli_wf"]
    shown = cli.json("workflow", "get", "cli_wf", "--fields", "name,interface")
    assert shown == {"name": "cli_wf", "interface": {"input": [{"who": "world"}], "output": []}}
    assert cli.ok("workflow", "definition", "cli_wf").startswith("---\nversion: '2.0'")
    updated = cli.json("workflow", "update", write("wf2.yaml", WF.format(name="cli_wf")
                                                   .replace("first", "second")))
    assert updated[0]["name"] == "cli_wf"
    assert "second" in cli.ok("workflow", "definition", "cli_wf")
    table = cli.ok("workflow", "get", "cli_wf")
    assert table.startswith("+") and "| name " in table and "cli_wf" in table
    assert cli.ok("workflow", "delete", "cli_wf") == "workflow cli_wf deleted\n"
    code, _, err = cli("workflow", "get", "cli_wf")
    assert code == 1 and err.startswith("error: 404 ") and err.count("\n") == 1


def test_workflow_validate_on_the_server(cli, write) -> None:
    good = write("good.yaml", WF.format(name="cli_valid"))
    assert cli.json("workflow", "validate", good) == {"valid": True, "error": None}
    bad = write("bad.yaml", "---\nversion: '2.0'\nx:\n  tasks:\n    a:\n"
                            "      action: std.noop\n      on-success: nowhere\n")
    code, out, _ = cli("workflow", "validate", bad)
    assert code == 1 and "False" in out and "nowhere" in out


def test_workflow_graph_svg(cli, write, tmp_path) -> None:
    cli.ok("workflow", "create", write("g.yaml", """---
version: '2.0'
cli_graph:
  tasks:
    first:
      action: std.noop
      on-success: [second]
      on-error: [recover]
    second:
      action: std.noop
    recover:
      action: std.noop
"""))
    text = cli.ok("workflow", "graph", "cli_graph")
    assert "│ first" in text and "│ recover" in text and "▼ error" in text
    svg = tmp_path / "g.svg"
    code, _, err = cli("workflow", "graph", "cli_graph", "-o", str(svg))
    assert code == 0 and "graph written" in err
    content = svg.read_text()
    for name in ("first", "second", "recover"):
        assert f'data-name="{name}"' in content
    pytest.importorskip("PIL", reason="PNG output is drawn with Pillow")
    png = tmp_path / "g.png"
    cli.ok("workflow", "graph", "cli_graph", "-o", str(png))
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_workbook_lifecycle(cli, write) -> None:
    path = write("wb.yaml", WORKBOOK.format(name="cli_wb"))
    assert cli.json("workbook", "create", path)[0]["name"] == "cli_wb"
    assert "cli_wb" in cli.ok("workbook", "list", "-f", "value", "-c", "name").split()
    assert cli.json("workbook", "get", "cli_wb", "-c", "name") == {"name": "cli_wb"}
    assert "name: cli_wb" in cli.ok("workbook", "definition", "cli_wb")
    assert cli.json("workbook", "validate", path)["valid"] is True
    assert cli.json("workbook", "update", path)[0]["name"] == "cli_wb"
    names = cli.ok("workflow", "list", "-f", "value", "-c", "name").split()
    assert "cli_wb.wf1" in names
    assert cli.ok("workbook", "delete", "cli_wb") == "workbook cli_wb deleted\n"


def test_actions(cli, write) -> None:
    echo = cli.json("action", "get", "std.echo", "-c", "name,input")
    assert echo == {"name": "std.echo", "input": "output, delay=0"}
    rows = cli.json("action", "list", "--filter", "name=std.echo")
    assert [r["name"] for r in rows] == ["std.echo"]
    path = write("a.yaml", ACTIONS.format(name="cli_act"))
    assert cli.json("action", "validate", path)["valid"] is True
    assert [a["name"] for a in cli.json("action", "create", path)] == ["cli_act"]
    assert "base: std.echo" in cli.ok("action", "definition", "cli_act")
    assert cli.json("action", "update", path)[0]["name"] == "cli_act"
    assert cli.ok("action", "run", "std.echo", "-i", "output=hi") == '"hi"\n'
    assert cli.ok("action", "run", "std.echo", '{"output": {"a": 1}}') == \
        '{\n  "a": 1\n}\n'
    code, _, err = cli("action", "run", "std.fail")
    assert code == 1 and err.startswith("error: action std.fail failed: ")
    code, _, err = cli("action", "run", "std.nope")
    assert code == 1 and err.startswith("error: 4")
    assert cli.ok("action", "delete", "cli_act") == "action cli_act deleted\n"


def test_action_get_shows_a_generated_openstack_input(cli) -> None:
    action = cli.json("action", "get", "compute.create_server", "-c", "name,input")
    assert action["input"].startswith("name, flavor_id, access_ipv4=null, ")
    for server_set in ("status=", "power_state", "launched_at", "task_state", "addresses"):
        assert server_set not in action["input"]


def test_action_get_shows_the_input_schema(cli) -> None:
    schema = cli.json("action", "get", "std.echo", "-c", "params_schema")["params_schema"]
    assert schema["required"] == ["output"]
    assert schema["properties"]["delay"] == {"default": 0, "type": ["integer", "null"]}
    table = cli.ok("action", "get", "std.http")
    assert "params_schema" in table and "url  (required)" in table
    assert 'method  (string; default "GET")' in table
    assert "{" not in table.split("params_schema", 1)[1]     # readable, not JSON
    server = cli.json("action", "get", "compute.create_server")
    assert {"name", "flavor_id"} <= set(server["params_schema"]["required"])
    assert "launched_at" not in server["params_schema"]["properties"]


def test_environments(cli, write) -> None:
    env = cli.json("environment", "create", "--name", "cli_env", "-v", "k=v", "-v", "n=2",
                   "--description", "d")
    assert env["variables"] == {"k": "v", "n": 2} and env["description"] == "d"
    assert "cli_env" in cli.ok("environment", "list")
    exported = yaml.safe_load(cli.ok("environment", "get", "cli_env", "--export", "-f", "yaml"))
    assert exported["name"] == "cli_env" and exported["variables"] == {"k": "v", "n": 2}
    path = write("env.yaml", yaml.safe_dump({**exported, "variables": {"k": "w"}}))
    assert cli.json("environment", "update", path)["variables"] == {"k": "w"}
    assert cli.ok("environment", "delete", "cli_env") == "environment cli_env deleted\n"


def test_cron_triggers(cli, write) -> None:
    cli.ok("workflow", "create", write("c.yaml", WF.format(name="cli_cron_wf")))
    row = cli.json("cron-trigger", "create", "cli_cron", "cli_cron_wf", "-i", "who=cron",
                   "--pattern", "0 0 1 1 *")
    assert row["workflow_input"] == {"who": "cron"} and row["pattern"] == "0 0 1 1 *"
    assert row["next_execution_time"]
    assert [r["name"] for r in cli.json("cron-trigger", "list")] == ["cli_cron"]
    assert cli.json("cron-trigger", "get", "cli_cron", "-c", "name") == {"name": "cli_cron"}
    assert cli.ok("cron-trigger", "delete", "cli_cron") == "cron trigger cli_cron deleted\n"
    code, _, err = cli("cron-trigger", "create", "x", "cli_cron_wf")
    assert code == 2 and "--pattern" in err


def test_event_triggers(cli, server, write) -> None:
    if requests.get(f"{server.url}/event_triggers", timeout=5).status_code == 404:
        pytest.skip("the server has no /v2/event_triggers endpoint yet")
    cli.ok("workflow", "create", write("e.yaml", WF.format(name="cli_event_wf")))
    wf_id = cli.json("workflow", "get", "cli_event_wf", "-c", "id")["id"]
    row = cli.json("event-trigger", "create", "cli_ev", wf_id, "nova", "notifications",
                   "compute.instance.create.end", "-i", "who=ev")
    assert row["workflow_input"] == {"who": "ev"}
    assert [r["name"] for r in cli.json("event-trigger", "list")] == ["cli_ev"]
    assert cli.ok("event-trigger", "delete", row["id"]).endswith("deleted\n")


def test_console_script_in_a_subprocess(server) -> None:
    run = subprocess.run([sys.executable, "-m", "wfaas.cmd.cli", "--url", server.url,
                          "workflow", "get", "no_such_wf"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 1
    assert run.stderr.startswith("error: 404 ") and "Traceback" not in run.stderr
    dead = subprocess.run([sys.executable, "-m", "wfaas.cmd.cli", "--url",
                           "http://127.0.0.1:9/v2", "execution", "list"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert (dead.returncode, dead.stderr) == (
        1, "error: cannot connect to http://127.0.0.1:9/v2: connection refused\n")


def test_unreachable_keystone_is_one_line(cli) -> None:
    code, out, err = cli("--os-auth-url", "http://127.0.0.1:9/v3", "--os-username", "u",
                         "--os-password", "p", "--os-project-name", "p", "workflow", "list")
    assert (code, out) == (1, "")
    assert err == ("error: cannot connect to http://127.0.0.1:9/v3: "
                   "Keystone unreachable (connection refused)\n")
