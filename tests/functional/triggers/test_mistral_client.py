"""The real python-mistralclient (``mistral`` 6.3.0) manages event triggers."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from oslo_config import cfg

from wfaas.api.app import setup_app

MISTRAL = Path(os.environ.get("WFAAS_MISTRALCLIENT_VENV", "/tmp/wfaas-mistralclient-venv")
               ) / "bin" / "mistral"


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def url(runtime: Any, conf: cfg.ConfigOpts) -> Iterator[str]:
    if not MISTRAL.exists():
        pytest.skip("python-mistralclient venv missing (tests/functional/client creates it)")
    server = make_server("127.0.0.1", 0, setup_app(runtime, conf), handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v2"
    finally:
        server.shutdown()
        server.server_close()


def _mistral(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update({"OS_MISTRAL_URL": url, "PYTHONWARNINGS": "ignore"})
    return subprocess.run([str(MISTRAL), *args], capture_output=True, text=True, env=env,
                          timeout=120)


def test_event_trigger_commands(url: str, workflow_id: str) -> None:
    made = _mistral(url, "event-trigger-create", "on-boot", workflow_id, "nova",
                    "notifications", "compute.instance.create.end",
                    '{"who": "<% $.payload.name %>"}', "--params", '{"env": {"a": 1}}',
                    "-f", "json")
    assert made.returncode == 0, made.stderr
    shown = json.loads(made.stdout)
    assert shown["Name"] == "on-boot" and shown["Workflow ID"] == workflow_id
    assert shown["Exchange"] == "nova" and shown["Event"] == "compute.instance.create.end"
    tid = shown["ID"]
    listed = _mistral(url, "event-trigger-list", "-f", "json")
    assert listed.returncode == 0, listed.stderr
    assert [t["ID"] for t in json.loads(listed.stdout)] == [tid]
    got = _mistral(url, "event-trigger-get", tid, "-f", "json")
    assert got.returncode == 0 and json.loads(got.stdout)["Topic"] == "notifications"
    gone = _mistral(url, "event-trigger-delete", tid)
    assert gone.returncode == 0, gone.stderr
    missing = _mistral(url, "event-trigger-get", tid)
    assert missing.returncode != 0 and "not found" in missing.stderr.lower()
