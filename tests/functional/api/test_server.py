"""``wfaas-server``: a real process on a free port, stopped by SIGTERM."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.functional.client.server import ServerProcess
from wfaas.cmd.server import parse_parts

pytestmark = pytest.mark.slow

WF = "version: '2.0'\nsrv_wf:\n  tasks:\n    t:\n      action: std.echo output=ok\n"


def test_parse_parts() -> None:
    assert parse_parts(["all"]) == ["api", "engine", "executor", "scheduler"]
    assert parse_parts(["scheduler", "api"]) == ["api", "scheduler"]
    with pytest.raises(ValueError, match="bogus"):
        parse_parts(["api", "bogus"])


def test_bad_server_option_exits_2(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "wfaas.cmd.server", "--server", "bogus"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "bogus" in proc.stderr


def test_server_runs_a_workflow_and_stops_on_sigterm(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path).start()
    try:
        assert requests.get(server.url + "/", timeout=5).json()["versions"][0]["links"][0][
            "href"] == server.url + "/v2"
        resp = requests.post(server.url + "/v2/workflows", data=WF,
                             headers={"Content-Type": "text/plain"}, timeout=10)
        assert resp.status_code == 201, resp.text
        ex = requests.post(server.url + "/v2/executions", json={"workflow_name": "srv_wf"},
                           timeout=10).json()
        deadline = time.monotonic() + 20
        state = ex["state"]
        while state not in ("SUCCESS", "ERROR") and time.monotonic() < deadline:
            time.sleep(0.05)
            state = requests.get(f"{server.url}/v2/executions/{ex['id']}", timeout=5).json()[
                "state"]
        assert state == "SUCCESS"
        assert requests.get(server.url + "/v2/actions/std.echo", timeout=5).status_code == 200
    finally:
        started = time.monotonic()
        code = server.stop()
    assert code == 0, server.log.read_text()[-2000:]
    assert time.monotonic() - started < 15
    assert "stopped" in server.log.read_text()


SLEEPY = """---
version: '2.0'
srv_sleepy:
  tasks:
    nap:
      action: std.sleep seconds=600
"""


def test_sigterm_does_not_wait_for_running_actions(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path).start()
    try:
        requests.post(server.url + "/v2/workflows", data=SLEEPY,
                      headers={"Content-Type": "text/plain"}, timeout=10).raise_for_status()
        ex = requests.post(server.url + "/v2/executions", json={"workflow_name": "srv_sleepy"},
                           timeout=10).json()
        deadline = time.monotonic() + 20
        running = False
        while not running and time.monotonic() < deadline:
            tasks = requests.get(f"{server.url}/v2/executions/{ex['id']}/tasks",
                                 timeout=5).json()["tasks"]
            running = any(t["state"] == "RUNNING" for t in tasks)
            time.sleep(0.05)
        assert running, "the sleeping task never started"
    finally:
        started = time.monotonic()
        code = server.stop()
    assert code == 0, server.log.read_text()[-2000:]
    assert time.monotonic() - started < 15  # not the 600 s of the running std.sleep
    assert "action(s) still run" in server.log.read_text()
