"""Hostile workflows against a real ``wfaas-server``: SSRF through std.http (every address form,
a redirect, a proxy), std.ssh and std.email to loopback, and key files that are devices or
outside the key directories. Each execution must end ERROR with a clear state_info while the
server keeps answering and its memory stays put.

Self-contained (its own server on a free port); the peers are local servers in this process
that must receive nothing.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.functional.actions.conftest import serving
from tests.functional.client.server import ServerProcess

WORKFLOWS = """\
version: '2.0'
http_get:
  input: [url, proxies: null]
  tasks:
    get:
      action: std.http url=<% $.url %> proxies=<% $.proxies %> timeout=5
ssh_run:
  input: [host, key: null]
  tasks:
    run:
      action: std.ssh cmd=id host=<% $.host %> username=root private_key_filename=<% $.key %>
mail:
  input: [server]
  tasks:
    send:
      action: std.email from_addr=a@example.org to_addrs=b@example.org smtp_server=<% $.server %>
"""


class Recorder(BaseHTTPRequestHandler):
    """Records every request; /to?u=<url> redirects there."""

    server: RecordingServer

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        if self.path.startswith("/to?u="):
            self.send_response(302)
            self.send_header("Location", urllib.parse.unquote(self.path[len("/to?u="):]))
        else:
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


class RecordingServer(ThreadingHTTPServer):
    """A loopback HTTP server that should see only the requests the policy allows."""

    daemon_threads = True
    paths: list[str]


def _serve(address: str) -> Iterator[RecordingServer]:
    srv = RecordingServer((address, 0), Recorder)
    srv.paths = []
    yield from serving(srv)


@pytest.fixture(scope="module")
def victim() -> Iterator[RecordingServer]:
    """What an SSRF would reach: a service on 127.0.0.1."""
    yield from _serve("127.0.0.1")


@pytest.fixture(scope="module")
def redirector() -> Iterator[RecordingServer]:
    """An allowed host (127.0.0.2, in allowed_hosts) whose redirects point at loopback."""
    yield from _serve("127.0.0.2")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """wfaas-server with default egress settings; only 127.0.0.2 allowed (the redirector),
    and /dev among the key directories (so the device itself, not its place, is refused)
    once the server's configuration reaches the actions."""
    proc = ServerProcess(tmp_path_factory.mktemp("egress-server"), extra_conf=(
        "\n[action_std_http]\nallowed_hosts = 127.0.0.2\n"
        "\n[action_std_ssh]\nkey_dirs = ~/.ssh,/dev\n")).start()
    resp = requests.post(f"{proc.url}/v2/workflows", data=WORKFLOWS,
                         headers={"Content-Type": "text/plain"}, timeout=30)
    assert resp.status_code == 201, resp.text
    yield proc
    assert proc.stop() == 0


def _rss_kb(proc: ServerProcess) -> int:
    assert proc.proc is not None
    for line in Path(f"/proc/{proc.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _start(server: ServerProcess, workflow: str, inputs: dict[str, Any]) -> str:
    resp = requests.post(f"{server.url}/v2/executions", timeout=30, json={
        "workflow_name": workflow, "input": json.dumps(inputs)})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def _finish(server: ServerProcess, ids: list[str], timeout: float = 60) -> list[dict[str, Any]]:
    """Wait for every execution to finish, timing every GET meanwhile."""
    deadline = time.monotonic() + timeout
    latencies: list[float] = []
    done: dict[str, dict[str, Any]] = {}
    def timed_get(path: str) -> Any:
        start = time.monotonic()
        resp = requests.get(f"{server.url}{path}", timeout=10)
        latencies.append(time.monotonic() - start)
        assert resp.status_code == 200, resp.text
        return resp.json()

    while len(done) < len(ids) and time.monotonic() < deadline:
        timed_get("/v2/executions?limit=2")
        for ex_id in set(ids) - set(done):
            ex = timed_get(f"/v2/executions/{ex_id}")
            if ex["state"] not in ("IDLE", "RUNNING"):
                done[ex_id] = ex
        time.sleep(0.05)
    assert len(done) == len(ids), "executions still running"
    latencies.sort()
    print(f"GETs during the attack: {len(latencies)} requests, median "
          f"{latencies[len(latencies) // 2] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
    assert latencies[-1] < 2.0, f"a GET took {latencies[-1]:.2f} s"
    return [done[i] for i in ids]


SSRF_URLS = ["http://0.0.0.0:{p}/", "http://0:{p}/", "http://[::]:{p}/",
             "http://[::ffff:127.0.0.1]:{p}/", "http://[::ffff:7f00:1]:{p}/",
             "http://[0:0:0:0:0:ffff:127.0.0.1]:{p}/", "http://[::ffff:a9fe:a9fe]/latest/",
             "http://169.254.169.254/latest/meta-data/", "http://2130706433:{p}/",
             "http://0x7f.1:{p}/", "http://0177.0.0.1:{p}/", "http://localhost:{p}/",
             "http://localhost.:{p}/", "http://vm:{p}/", "http://[::1]:{p}/",
             "http://[64:ff9b::7f00:1]:{p}/", "http://[2002:7f00:1::]:{p}/"]


def test_ssrf_forms_end_in_error_and_reach_nothing(server: ServerProcess,
                                                   victim: RecordingServer) -> None:
    port = victim.server_address[1]
    attacks: list[tuple[dict[str, Any], str]] = [
        ({"url": u.format(p=port)}, "refusing to connect to") for u in SSRF_URLS]
    attacks += [
        ({"url": "http://8.8.8.8/", "proxies": {"http": f"http://127.0.0.1:{port}"}},
         "refusing to connect to 127.0.0.1"),
        ({"url": "http://8.8.8.8/", "proxies": {"http": f"http://[::ffff:7f00:1]:{port}"}},
         "refusing to connect to"),
        ({"url": "file:///etc/passwd"}, "unsupported URL scheme"),
    ]
    ids = [_start(server, "http_get", inputs) for inputs, _ in attacks]
    for (inputs, expected), ex in zip(attacks, _finish(server, ids), strict=True):
        assert ex["state"] == "ERROR", inputs
        assert expected in ex["state_info"], (inputs, ex["state_info"])
    assert victim.paths == []
    assert requests.get(f"{server.url}/v2", timeout=5).status_code == 200


def test_redirect_from_an_allowed_host_to_mapped_loopback(server: ServerProcess,
                                                          victim: RecordingServer,
                                                          redirector: RecordingServer) -> None:
    first = f"http://127.0.0.2:{redirector.server_address[1]}"
    [probe] = _finish(server, [_start(server, "http_get", {"url": f"{first}/plain"})])
    if probe["state"] == "ERROR" and "127.0.0.2" in probe["state_info"]:
        pytest.skip("this build's actions do not read the server's --config-file "
                    "([action_std_http] allowed_hosts = 127.0.0.2); issue 15's wiring")
    assert probe["state"] == "SUCCESS", probe["state_info"]
    mapped = f"http://[::ffff:127.0.0.1]:{victim.server_address[1]}/"
    query = urllib.parse.quote(mapped, safe="")
    [ex] = _finish(server, [_start(server, "http_get", {"url": f"{first}/to?u={query}"})])
    assert ex["state"] == "ERROR"
    assert ("refusing to connect to ::ffff:127.0.0.1 (::ffff:7f00:1 = 127.0.0.1)"
            in ex["state_info"]), ex["state_info"]
    assert victim.paths == []
    assert redirector.paths == ["/plain", f"/to?u={query}"]


def test_ssh_and_email_to_loopback_end_in_error(server: ServerProcess) -> None:
    ids = [_start(server, "ssh_run", {"host": h}) for h in ("127.0.0.1", "localhost:22",
                                                            "[::ffff:127.0.0.1]:22", "0")]
    ids += [_start(server, "mail", {"server": s}) for s in ("127.0.0.1:25", "localhost",
                                                            "2130706433:587")]
    for ex in _finish(server, ids):
        assert ex["state"] == "ERROR"
        assert "refusing to connect to" in ex["state_info"], ex["state_info"]
        assert "denied network" in ex["state_info"]


def test_key_files_devices_and_outside_paths_refused_quickly(server: ServerProcess) -> None:
    before = _rss_kb(server)
    start = time.monotonic()
    names = ["/dev/zero", "/dev/urandom", "zero", "/etc/passwd", "/etc/no-such-file",
             "../../etc/shadow", "/proc/self/environ"]
    ids = [_start(server, "ssh_run", {"host": "8.8.8.8", "key": n}) for n in names]
    finished = _finish(server, ids, timeout=30)
    elapsed = time.monotonic() - start
    for name, ex in zip(names, finished, strict=True):
        assert ex["state"] == "ERROR"
        assert (f"Cannot read private key file {name}: no such regular file in "
                "[action_std_ssh] key_dirs") in ex["state_info"], ex["state_info"]
    assert elapsed < 20
    assert _rss_kb(server) - before < 50 * 1024  # KiB: nothing of /dev/zero was kept
