"""A real Mistral action plugin (mistral-lib, ``mistral.actions`` entry points) runs unmodified.

The plugin package is built here and pip-installed into a ``--target`` directory that
a real ``wfaas-server`` subprocess has on its PYTHONPATH from the start, *after* the
server started: its actions must become runnable without a restart. A broken plugin
does not stop the server (listed by populate), unless ``fail_on_broken_pack``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.functional.api.conftest import template_db
from tests.functional.client.server import ServerProcess

__all__ = ["template_db"]  # a migrated, populated database: the servers start faster

pytest.importorskip("mistral_lib")

PLUGIN = '''
"""A Mistral plugin written for Mistral: only mistral-lib is imported."""
from mistral_lib import actions
from mistral_lib import exceptions


class Greet(actions.Action):
    """Greets someone and tells which workflow asked."""

    def __init__(self, name, punctuation="!"):
        self.name = name
        self.punctuation = punctuation

    def run(self, context):
        return {"text": "Hello %s%s" % (self.name, self.punctuation),
                "workflow": context.execution.workflow_name,
                "execution": context.execution.workflow_execution_id,
                "action_execution": context.execution.action_execution_id,
                "has_security": context.security is not None}


class Divide(actions.Action):
    def __init__(self, a, b):
        self.a = a
        self.b = b

    def run(self, context):
        if self.b == 0:
            return actions.Result(error={"code": "division by zero"})
        return actions.Result(data=self.a / self.b)


class Explode(actions.Action):
    def run(self, context):
        raise exceptions.ActionException("boom from the plugin")


class WaitForCallback(actions.Action):
    def __init__(self, note=""):
        self.note = note

    def run(self, context):
        return None

    def is_sync(self):
        return False
'''

PYPROJECT = '''
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "1.0"
dependencies = ["mistral-lib"]

[tool.setuptools]
py-modules = ["{module}"]

[project.entry-points."mistral.actions"]
{entry_points}
'''

WORKFLOW = '''
version: '2.0'
plugin_wf:
  input: [who]
  tasks:
    greet:
      action: demo.greet name=<% $.who %>
      publish:
        greeting: <% task().result %>
      on-success: [divide_ok]
    divide_ok:
      action: demo.divide a=7 b=2
      publish:
        half: <% task().result %>
      on-success: [divide_bad]
    divide_bad:
      action: demo.divide a=1 b=0
      on-error: [wait]
      publish-on-error:
        div_error: <% task().result %>
    wait:
      action: demo.wait_for_callback note=hi
      publish:
        callback: <% task().result %>
  output:
    greeting: <% $.greeting %>
    half: <% $.half %>
    div_error: <% $.div_error %>
    callback: <% $.callback %>
'''


def _build(tmp: Path, name: str, module: str, source: str, eps: dict[str, str]) -> Path:
    src = tmp / f"src-{name}"
    src.mkdir()
    (src / f"{module}.py").write_text(source)
    lines = "\n".join(f'"{k}" = "{v}"' for k, v in eps.items())
    (src / "pyproject.toml").write_text(PYPROJECT.format(name=name, module=module,
                                                         entry_points=lines))
    return src


def _pip_install(src: Path, site: Path) -> None:
    base = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", "install",
            "--no-deps", "--target", str(site), str(src)]
    proc = subprocess.run([*base, "--no-build-isolation"], capture_output=True, text=True,
                          timeout=300)
    if proc.returncode != 0:  # an old setuptools without `wheel`: let pip fetch the backend
        proc = subprocess.run(base, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


def _wait(url: str, ex_id: str, states: tuple[str, ...], timeout: float = 30) -> dict[str, Any]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        body: dict[str, Any] = requests.get(f"{url}/v2/executions/{ex_id}", timeout=5).json()
        if body["state"] in states:
            return body
        time.sleep(0.1)
    raise AssertionError(f"execution {ex_id} still {body['state']}")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty install target on the PYTHONPATH of every subprocess."""
    target = tmp_path / "site"
    target.mkdir()
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(target), *filter(None, [os.environ.get("PYTHONPATH")])]))
    return target


def _start(tmp_path: Path, template: Path, extra: str = "") -> ServerProcess:
    work = tmp_path / "server"
    work.mkdir(exist_ok=True)
    shutil.copy(template, work / "wfaas.db")
    return ServerProcess(work, extra_conf=f"[actions]\nrescan_interval = 0.2\n{extra}")


def test_plugin_installed_after_start_runs_in_a_workflow(tmp_path: Path, site: Path,
                                                         template_db: Path) -> None:
    server = _start(tmp_path, template_db).start()
    try:
        url = server.url
        _pip_install(_build(tmp_path, "mistral-demo-plugin", "mistral_demo_plugin", PLUGIN, {
            "demo.greet": "mistral_demo_plugin:Greet",
            "demo.divide": "mistral_demo_plugin:Divide",
            "demo.explode": "mistral_demo_plugin:Explode",
            "demo.wait_for_callback": "mistral_demo_plugin:WaitForCallback"}), site)
        time.sleep(0.3)  # past the re-scan interval
        resp = requests.post(f"{url}/v2/workflows", data=WORKFLOW,
                             headers={"Content-Type": "text/plain"}, timeout=10)
        assert resp.status_code == 201, resp.text
        ex = requests.post(f"{url}/v2/executions", timeout=10, json={
            "workflow_name": "plugin_wf", "input": '{"who": "Ada"}'}).json()
        _wait_for_async_action(url, ex["id"])
        done = _wait(url, ex["id"], ("SUCCESS", "ERROR"))
        assert done["state"] == "SUCCESS", done["state_info"]
        out = json.loads(done["output"])
        greeting = out["greeting"]
        assert greeting["text"] == "Hello Ada!" and greeting["workflow"] == "plugin_wf"
        assert greeting["execution"] == ex["id"] and greeting["has_security"] is True
        assert greeting["action_execution"]  # the executor's id reached the plugin
        assert out["half"] == 3.5
        assert out["div_error"] == {"code": "division by zero"}
        assert out["callback"] == {"answer": 42}
        run = requests.post(f"{url}/v2/action_executions", timeout=10, json={
            "name": "demo.explode", "input": "{}"}).json()
        assert run["state"] == "ERROR" and "boom from the plugin" in run["output"]
        populate = subprocess.run([sys.executable, "-m", "wfaas.cmd.db_manage",
                                   "--config-file", str(server.conf_file), "populate"],
                                  capture_output=True, text=True, timeout=120)
        assert populate.returncode == 0, populate.stderr
        listed = requests.get(f"{url}/v2/actions/demo.greet", timeout=10).json()
        assert listed["input"] == 'name, punctuation="!"'
    finally:
        server.stop()


def _wait_for_async_action(url: str, ex_id: str, timeout: float = 30) -> None:
    """Deliver the async plugin action's result through the API, as Mistral's callers do."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        actions = requests.get(f"{url}/v2/action_executions", timeout=5).json()[
            "action_executions"]
        waiting = [a for a in actions if a["name"] == "demo.wait_for_callback"
                   and a["state"] == "RUNNING"]
        if waiting:
            resp = requests.put(f"{url}/v2/action_executions/{waiting[0]['id']}", timeout=10,
                                json={"state": "SUCCESS", "output": '{"answer": 42}'})
            assert resp.status_code == 200, resp.text
            return
        time.sleep(0.1)
    raise AssertionError("the async plugin action never started")


BROKEN = textwrap.dedent('''
    from mistral_lib import actions
    raise ImportError("this plugin needs a library that is not installed")
''')


def test_broken_plugin_is_listed_not_fatal_unless_strict(tmp_path: Path, site: Path,
                                                         template_db: Path) -> None:
    _pip_install(_build(tmp_path, "mistral-broken-plugin", "mistral_broken_plugin", BROKEN,
                        {"broken.act": "mistral_broken_plugin:Nothing"}), site)
    server = _start(tmp_path, template_db).start()  # starts anyway
    try:
        ex = requests.post(f"{server.url}/v2/action_executions", timeout=10, json={
            "name": "std.echo", "input": '{"output": "still works"}'}).json()
        assert ex["state"] == "SUCCESS"
        populate = subprocess.run([sys.executable, "-m", "wfaas.cmd.db_manage",
                                   "--config-file", str(server.conf_file), "populate"],
                                  capture_output=True, text=True, timeout=120)
        assert populate.returncode == 0 and "broken=1" in populate.stdout, populate.stdout
        assert "mistral-broken-plugin" in populate.stderr and "broken.act" in populate.stderr
    finally:
        server.stop()
    assert "mistral-broken-plugin" in server.log.read_text()  # the log names it
    strict = ServerProcess(tmp_path / "server", extra_conf="[actions]\n"
                           "fail_on_broken_pack = true\n")
    with pytest.raises(RuntimeError, match="mistral-broken-plugin"):
        strict.start(timeout=60)
