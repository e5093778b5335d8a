"""The trigger service runs inside ``wfaas-server``: cron and event triggers end to end."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.functional.client.server import ServerProcess, wait_until

pytestmark = pytest.mark.slow

WF = """---
version: '2.0'
trig_wf:
  input:
    - who: nobody
  output:
    who: <% $.who %>
  tasks:
    say:
      action: std.echo output=<% $.who %>
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path).start()
    try:
        yield proc
    finally:
        proc.stop()


def _wait(condition: Callable[[], Any], timeout: float) -> Any:
    return wait_until(condition, timeout)


def _executions(server: ServerProcess) -> list[dict[str, Any]]:
    resp = requests.get(server.url + "/v2/executions", timeout=5)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["executions"])


def _workflow_id(server: ServerProcess) -> str:
    resp = requests.post(server.url + "/v2/workflows", data=WF,
                         headers={"Content-Type": "text/plain"}, timeout=10)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["workflows"][0]["id"])


def test_cron_trigger_fires_inside_the_server(server: ServerProcess) -> None:
    _workflow_id(server)
    first = _dt.datetime.now(_dt.UTC) + _dt.timedelta(seconds=3)
    resp = requests.post(server.url + "/v2/cron_triggers", timeout=10, json={
        "name": "soon", "workflow_name": "trig_wf", "workflow_input": '{"who": "cron"}',
        "first_execution_time": first.strftime("%Y-%m-%d %H:%M:%S")})
    assert resp.status_code == 201, resp.text
    assert _executions(server) == []
    runs = _wait(lambda: _executions(server), timeout=20)
    assert len(runs) == 1, server.log.read_text()[-2000:]
    assert runs[0]["workflow_name"] == "trig_wf"
    done = _wait(lambda: requests.get(f"{server.url}/v2/executions/{runs[0]['id']}",
                                      timeout=5).json()["state"] == "SUCCESS", timeout=20)
    assert done
    # a one-shot trigger is deleted after its run
    assert requests.get(server.url + "/v2/cron_triggers", timeout=5).json()[
        "cron_triggers"] == []


def test_posted_event_starts_the_workflow_inside_the_server(server: ServerProcess) -> None:
    wf_id = _workflow_id(server)
    resp = requests.post(server.url + "/v2/event_triggers", timeout=10, json={
        "name": "on-create", "workflow_id": wf_id, "exchange": "nova",
        "topic": "notifications", "event": "compute.instance.create.end",
        "workflow_input": {"who": "<% $.payload.instance_id %>"}})
    assert resp.status_code == 201, resp.text
    resp = requests.post(server.url + "/v2/event_triggers/events", timeout=10, json={
        "exchange": "nova", "topic": "notifications", "event": "compute.instance.create.end",
        "payload": {"instance_id": "i-42"}})
    assert resp.status_code == 200, resp.text
    [started] = resp.json()["executions"]
    final = _wait(lambda: (lambda ex: ex if ex["state"] == "SUCCESS" else None)(
        requests.get(f"{server.url}/v2/executions/{started['id']}", timeout=5).json()),
        timeout=20)
    assert final, server.log.read_text()[-2000:]
    assert '"i-42"' in final["output"]
