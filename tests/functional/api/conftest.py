"""Fixtures of the API suite: the real app over a Runtime on a temporary SQLite file,
driven in-process through WebTest."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import webtest
from oslo_config import cfg

from wfaas.api.app import setup_app
from wfaas.config import register_opts


def make_conf(tmp_path: Any, **overrides: Any) -> cfg.ConfigOpts:
    """A fresh ConfigOpts with a temporary SQLite database."""
    conf = cfg.ConfigOpts()
    register_opts(conf)
    conf([], project="wfaas")
    conf.set_override("state_dir", str(tmp_path))
    conf.set_override("connection", f"sqlite:///{tmp_path}/wfaas.db", group="database")
    for key, value in overrides.items():
        group, _, name = key.rpartition(".")
        conf.set_override(name, value, group=group or None)
    return conf


def make_runtime(conf: cfg.ConfigOpts, populate: bool = True) -> Any:
    """The real Runtime (schema created, actions populated), started."""
    from wfaas.cmd.server import populate_actions
    from wfaas.services.runtime import Runtime

    runtime = Runtime.from_config(conf)
    if populate:
        populate_actions(runtime)
    runtime.start()
    return runtime


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, populated database built once; each test gets a copy."""
    where = tmp_path_factory.mktemp("template")
    runtime = make_runtime(make_conf(where))
    runtime.close()
    return where / "wfaas.db"


@pytest.fixture
def conf(tmp_path: Path, template_db: Path) -> cfg.ConfigOpts:
    for suffix in ("", "-wal", "-shm"):
        source = Path(str(template_db) + suffix)
        if source.exists():
            shutil.copy(source, tmp_path / ("wfaas.db" + suffix))
    return make_conf(tmp_path)


@pytest.fixture
def runtime(conf: cfg.ConfigOpts) -> Iterator[Any]:
    rt = make_runtime(conf, populate=False)
    try:
        yield rt
    finally:
        rt.stop()


@pytest.fixture
def app(runtime: Any, conf: cfg.ConfigOpts) -> webtest.TestApp:
    return webtest.TestApp(setup_app(runtime, conf))


class Client:
    """Small helpers over TestApp speaking the way python-mistralclient does."""

    def __init__(self, app: webtest.TestApp) -> None:
        self.app = app

    def post_yaml(self, url: str, text: str, status: int | str = "*") -> Any:
        return self.app.post(url, text.encode(), headers={"Content-Type": "text/plain"},
                             status=status)

    def put_yaml(self, url: str, text: str, status: int | str = "*") -> Any:
        return self.app.put(url, text.encode(), headers={"Content-Type": "text/plain"},
                            status=status)

    def post_json(self, url: str, body: Any, status: int | str = "*") -> Any:
        return self.app.post(url, json.dumps(body), headers={"Content-Type": "application/json"},
                             status=status)

    def put_json(self, url: str, body: Any, status: int | str = "*") -> Any:
        return self.app.put(url, json.dumps(body), headers={"Content-Type": "application/json"},
                            status=status)

    def get(self, url: str, status: int | str = "*") -> Any:
        return self.app.get(url, status=status)

    def delete(self, url: str, status: int | str = "*") -> Any:
        return self.app.delete(url, status=status)


@pytest.fixture
def client(app: webtest.TestApp) -> Client:
    return Client(app)


def assert_fault(resp: Any, status: int, contains: str = "") -> dict[str, Any]:
    """The response is Mistral's JSON fault with ``status`` and a message containing text."""
    assert resp.status_int == status, resp.text
    assert resp.content_type == "application/json"
    body = resp.json
    assert set(body) >= {"faultcode", "faultstring", "debuginfo"}
    assert body["faultcode"] == ("Client" if status < 500 else "Server")
    assert contains in body["faultstring"], body["faultstring"]
    return body


TIME_RE = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"

HELLO_WF = """---
version: '2.0'

rs_hello:
  description: REST sample workflow
  type: direct
  input:
    - name
    - greeting: Hello
  output:
    msg: <% $.msg %>
    items_result: <% $.items_result %>
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
        items_result: <% task().result %>
"""

FAIL_WF = """---
version: '2.0'
rs_fail:
  tasks:
    boom:
      action: std.fail error_data="kaboom"
"""

WORKBOOK = """---
version: '2.0'
name: demo_wb
workflows:
  wf1:
    type: direct
    input:
      - text: hey
    tasks:
      t1:
        action: shout text=<% $.text %>
        publish:
          shouted: <% task().result %>
actions:
  shout:
    base: std.echo
    base-input:
      output: <% $.text %>!!!
    input:
      - text
"""


def wait_until(check: Any, timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Poll ``check()`` until it returns a truthy value (short interval, bounded)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


ASYNC_WF = """---
version: '2.0'
rs_async:
  input:
    - x: 1
  tasks:
    wait:
      action: std.async_noop
      on-success: [after]
    after:
      action: std.echo output=done
      publish:
        res: <% task().result %>
"""

PARENT_WF = """---
version: '2.0'
rs_child:
  tasks:
    c1:
      action: std.echo output=child
rs_parent:
  tasks:
    call:
      workflow: rs_child
"""
