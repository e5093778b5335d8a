"""The runtime hands ITS configuration to what it builds: actions run by its executor read
the runtime's ``[action_std_http]`` (via ``Action.configure``), never another global."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.functional.api.conftest import make_conf, make_runtime
from tests.functional.config.conftest import HTTP_WF
from wfaas.cmd.run_cmd import store_file
from wfaas.config import CONF


def _run(tmp_path: Path, url: str, **overrides: Any) -> dict[str, Any]:
    runtime = make_runtime(make_conf(tmp_path, **overrides), populate=False)
    try:
        with runtime.session() as s:
            store_file(s, HTTP_WF)
        ex = runtime.start_workflow("cfg_http", input={"url": url})
        return dict(runtime.wait_execution(ex["id"], 30))
    finally:
        runtime.close()


def test_actions_read_the_runtimes_configuration(tmp_path: Path, peer: str) -> None:
    assert list(CONF.action_std_http.allowed_hosts) == []  # the global one denies loopback
    allowed = _run(tmp_path / "a", peer, **{"action_std_http.allowed_hosts": ["127.0.0.1"]})
    assert allowed["state"] == "SUCCESS", allowed["state_info"]
    denied = _run(tmp_path / "b", peer)
    assert denied["state"] == "ERROR"
    assert "allowed_hosts" in denied["state_info"]
