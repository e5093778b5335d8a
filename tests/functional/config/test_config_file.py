"""Options given ONLY through ``wfaas-server --config-file`` reach their readers (issue 15).

A real ``wfaas-server`` subprocess reads one configuration file; each check below
observes one option of a section of etc/wfaas.conf.sample in behaviour (API,
engine, executor, actions, OpenStack auth, triggers, logging). The options that
only act in distributed mode ([scheduler], [action_heartbeat]) are shown to reach
the process's configuration through the DEBUG dump of effective values.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.functional.client.server import ServerProcess, wait_until
from tests.functional.config.conftest import HTTP_WF

CONF = """
[DEFAULT]
state_dir = {d}/state
log_file = {d}/logs/wfaas.log
use_json = true
debug = true
max_document_size_kb = 2

[database]
connection = sqlite:///{d}/from-config.db

[api]
host = 127.0.0.1
port = {port}
max_limit = 2
max_json_depth = 5

[engine]
execution_field_size_limit_kb = 1

[executor]
workers = 1

[scheduler]
batch_size = 7

[action_heartbeat]
check_interval = 3.5

[action_std_http]
allowed_hosts = 127.0.0.1

[expressions]
allowed_languages = yaql

[yaql]
limit_iterators = 50

[pecan]
auth_enable = false

[openstack_actions]
enabled_services = identity
cloud = wfaas-no-such-cloud

[cron_trigger]
enabled = false

[event_engine]
event_definitions_file = {d}/events.yaml

[limits]
max_with_items = 2

[metrics]
enabled = false

[dashboard]
enabled = false

[egress]
use_environment_proxies = true

[action_std_ssh]
key_dirs = {d}/keys

[actions]
rescan_interval = 4.5

[execution_expiration_policy]
batch_size = 9
"""

EVENTS = """
- event_types: [config.test.*]
  properties:
    source: from-the-config-file
"""

WF = HTTP_WF + """
cfg_sleepy:
  tasks:
    a:
      action: std.sleep seconds=1
    b:
      action: std.sleep seconds=1
cfg_big:
  tasks:
    t:
      action: std.noop
      publish:
        v: <% range(100).toList() %>
cfg_plain:
  tasks:
    t:
      action: std.noop
cfg_items:
  tasks:
    t:
      with-items: i in <% [1, 2, 3] %>
      action: std.noop
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("config")
    proc = ServerProcess(workdir)
    (workdir / "events.yaml").write_text(EVENTS)
    proc.conf_file.write_text(CONF.format(d=workdir, port=proc.port))
    proc.start()
    try:
        resp = requests.post(proc.url + "/v2/workflows", data=WF,
                             headers={"Content-Type": "text/plain"}, timeout=30)
        assert resp.status_code == 201, resp.text
        yield proc
    finally:
        assert proc.stop() == 0, proc.log.read_text()[-3000:]


def run(server: ServerProcess, workflow: str, input: dict[str, Any] | None = None
        ) -> dict[str, Any]:
    """Start ``workflow`` and wait until it ends; the execution as the API shows it."""
    resp = requests.post(server.url + "/v2/executions", timeout=30,
                         json={"workflow_name": workflow, "input": json.dumps(input or {})})
    assert resp.status_code == 201, resp.text
    ex_id = resp.json()["id"]

    def ended() -> dict[str, Any] | None:
        ex = requests.get(f"{server.url}/v2/executions/{ex_id}", timeout=30).json()
        return ex if ex["state"] in ("SUCCESS", "ERROR", "CANCELLED") else None

    final = wait_until(ended)
    assert final, server.log.read_text()[-3000:]
    return dict(final)


def test_database_connection(server: ServerProcess) -> None:
    db = create_engine(f"sqlite:///{server.workdir}/from-config.db")
    with db.connect() as conn:
        names = set(conn.execute(text("SELECT name FROM workflow_definitions")).scalars())
    db.dispose()
    assert {"cfg_http", "cfg_plain"} <= names


def test_api_max_limit_and_max_json_depth(server: ServerProcess) -> None:
    resp = requests.get(server.url + "/v2/actions?limit=50", timeout=30)
    assert resp.status_code == 200 and len(resp.json()["actions"]) == 2
    deep: Any = 1
    for _ in range(6):
        deep = [deep]
    resp = requests.post(server.url + "/v2/executions", timeout=30,
                         json={"workflow_name": "cfg_plain", "input": json.dumps({"x": deep})})
    assert resp.status_code == 400 and "deeper than 5 levels" in resp.json()["faultstring"]


def test_default_max_document_size(server: ServerProcess) -> None:
    big = WF.replace("cfg_", "cfg2_") + "#" + "x" * 3000 + "\n"
    resp = requests.post(server.url + "/v2/workflows", data=big,
                         headers={"Content-Type": "text/plain"}, timeout=30)
    assert resp.status_code in (400, 413), resp.text
    assert "over the limit of 2048 bytes" in resp.text  # 2 KiB, from the file


def test_engine_field_size_limit(server: ServerProcess) -> None:
    resp = requests.post(server.url + "/v2/executions", timeout=30,
                         json={"workflow_name": "cfg_plain", "input": {"x": "a" * 2000}})
    assert resp.status_code in (400, 413), resp.text
    assert "1 KB" in resp.text or "1024" in resp.text or "limit" in resp.text


def test_std_http_allowed_hosts_and_the_refusal_names_its_option(server: ServerProcess,
                                                                 peer: str) -> None:
    ok = run(server, "cfg_http", {"url": peer})
    assert ok["state"] == "SUCCESS", ok["state_info"]
    assert json.loads(ok["output"])["status"] == 200
    # 127.0.0.2 is loopback too, but not in allowed_hosts: refused, naming the option
    refused = run(server, "cfg_http", {"url": peer.replace("127.0.0.1", "127.0.0.2")})
    assert refused["state"] == "ERROR"
    assert "allowed_hosts" in refused["state_info"], refused["state_info"]


def test_executor_workers(server: ServerProcess) -> None:
    started = time.monotonic()
    done = run(server, "cfg_sleepy")
    assert done["state"] == "SUCCESS", done["state_info"]
    assert time.monotonic() - started >= 1.9  # two 1 s sleeps on one executor thread


def test_expressions_allowed_languages(server: ServerProcess) -> None:
    jinja = "version: '2.0'\ncfg_jinja:\n  tasks:\n    t:\n      action: std.echo " \
            "output={{ 1 + 1 }}\n"
    resp = requests.post(server.url + "/v2/workflows", data=jinja,
                         headers={"Content-Type": "text/plain"}, timeout=30)
    assert resp.status_code == 400 and "Jinja expressions are not allowed" in resp.text


def test_yaql_limit_iterators(server: ServerProcess) -> None:
    failed = run(server, "cfg_big")
    assert failed["state"] == "ERROR" and "50" in failed["state_info"], failed["state_info"]


def test_openstack_actions_reach_the_provider_and_the_auth(server: ServerProcess) -> None:
    assert requests.get(server.url + "/v2/actions/compute.servers",
                        timeout=30).status_code == 404
    assert requests.get(server.url + "/v2/actions/identity.projects",
                        timeout=30).status_code == 200
    resp = requests.post(server.url + "/v2/action_executions", timeout=60,
                         json={"name": "identity.projects", "input": "{}"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["state"] == "ERROR"
    assert "wfaas-no-such-cloud" in resp.json()["output"]


def test_cron_trigger_enabled_false(server: ServerProcess) -> None:
    import datetime as dt

    first = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3)  # still ahead when it arrives
    resp = requests.post(server.url + "/v2/cron_triggers", timeout=30, json={
        "name": "cfg_cron", "workflow_name": "cfg_plain",
        "first_execution_time": first.strftime("%Y-%m-%d %H:%M:%S")})
    assert resp.status_code == 201, resp.text
    time.sleep(5)
    executions = requests.get(server.url + "/v2/executions?limit=100", timeout=30).json()
    # max_limit=2 caps pages: follow them all
    names: list[str] = [e["workflow_name"] for e in executions["executions"]]
    while executions.get("next"):
        executions = requests.get(executions["next"], timeout=30).json()
        names += [e["workflow_name"] for e in executions["executions"]]
    assert "cfg_plain" not in names
    assert requests.get(server.url + "/v2/cron_triggers/cfg_cron", timeout=30).status_code == 200


def test_event_engine_definitions_file(server: ServerProcess) -> None:
    wf_id = requests.get(server.url + "/v2/workflows/cfg_plain", timeout=30).json()["id"]
    resp = requests.post(server.url + "/v2/event_triggers", timeout=30, json={
        "name": "cfg_ev", "workflow_id": wf_id, "exchange": "x", "topic": "t",
        "event": "config.test.happened"})
    assert resp.status_code == 201, resp.text
    resp = requests.post(server.url + "/v2/event_triggers/events", timeout=30, json={
        "exchange": "x", "topic": "t", "event": "config.test.happened", "payload": {}})
    assert resp.status_code == 200, resp.text
    [started] = resp.json()["executions"]
    ex = requests.get(f"{server.url}/v2/executions/{started['id']}", timeout=30).json()
    assert json.loads(ex["params"])["event_params"] == {"source": "from-the-config-file"}


def test_log_file_json_debug_and_every_section(server: ServerProcess) -> None:
    done = run(server, "cfg_plain")
    log = Path(server.workdir, "logs", "wfaas.log")
    lines = [json.loads(line) for line in wait_until(
        lambda: log.read_text().splitlines() if log.exists() else None)]
    assert any(r["level"] == "DEBUG" for r in lines)  # [DEFAULT] debug
    assert any(r.get("execution_id") == done["id"] for r in lines)  # the log context
    messages = "\n".join(r["message"] for r in lines)
    # the DEBUG dump of effective values: options acting only in distributed mode too
    for option, value in (("scheduler.batch_size", "7"), ("action_heartbeat.check_interval",
                          "3.5"), ("api.max_limit", "2"), ("pecan.auth_enable", "False"),
                          ("openstack_actions.cloud", "wfaas-no-such-cloud"),
                          ("egress.use_environment_proxies", "True"),
                          ("action_std_ssh.key_dirs", f"['{server.workdir}/keys']"),
                          ("actions.rescan_interval", "4.5"),
                          ("execution_expiration_policy.batch_size", "9")):
        assert re.search(rf"{re.escape(option)}\s+= {re.escape(value)}$", messages,
                         re.MULTILINE), option
    # the server's standard error got no log lines: they all went to log_file
    assert "wfaas.api.access" not in server.log.read_text()


def first_answer(proc: ServerProcess, path: str, timeout: float = 90) -> requests.Response:
    """Start ``proc`` and return the first HTTP answer to GET ``path`` (any status)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(proc.log, "wb") as log:
        proc.proc = subprocess.Popen(
            [sys.executable, "-m", "wfaas.cmd.server", "--config-file", str(proc.conf_file)],
            stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.proc.poll() is None:
        try:
            return requests.get(proc.url + path, timeout=5)
        except requests.ConnectionError:
            time.sleep(0.05)
    raise AssertionError(f"no answer: {proc.log.read_text()[-3000:]}")


def test_pecan_auth_enable(tmp_path: Path) -> None:
    proc = ServerProcess(tmp_path)
    proc.conf_file.write_text(proc.conf_file.read_text() + "\n[pecan]\nauth_enable = true\n"
                              "\n[keystone_authtoken]\nwww_authenticate_uri = "
                              "http://127.0.0.1:5000/v3\n")
    try:
        assert first_answer(proc, "/v2/workflows").status_code == 401
    finally:
        assert proc.stop() == 0


def test_limits_max_with_items(server: ServerProcess) -> None:
    done = run(server, "cfg_items")
    assert done["state"] == "ERROR", done
    assert "[limits] max_with_items" in done["state_info"], done["state_info"]


def test_metrics_and_dashboard_disabled(server: ServerProcess) -> None:
    for path in ("/metrics", "/ui/"):
        assert requests.get(server.url + path, timeout=30).status_code == 404, path


def test_every_section_of_the_sample_is_given_here() -> None:
    sample = Path(__file__).parents[3] / "etc" / "wfaas.conf.sample"
    sections = set(re.findall(r"^\[(\w+)\]$", sample.read_text(), re.MULTILINE))
    given = set(re.findall(r"^\[(\w+)\]$", CONF, re.MULTILINE))
    assert len(sections) > 10 and sections - given == set(), sections - given
