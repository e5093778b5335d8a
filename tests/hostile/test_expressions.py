"""Hostile expressions against a real ``wfaas-server`` (issue 14, items 1-3 and 9).

Each attack runs as a workflow on a fresh server with the default
configuration. It must end in ERROR with a ``state_info`` naming the limit
(or, for ReDoS, finish at once), within seconds, while ``GET
/v2/executions?limit=2`` keeps answering: its latency during the attacks is
measured and printed (``-s``); the assertion uses a generous bound so that a
busy CI machine does not make it flaky. The server's memory must stay bounded.
"""

from __future__ import annotations

import json
import re
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.functional.client.server import ServerProcess

#: Generous bounds (the goals are p99 < 100 ms and an end within the 3 s budget; the
#: per-attack p50/p99 table of list, start and cancel is test_latency.py's). API reads
#: are snapshot reads and ``decide`` runs outside the write transaction, so no request
#: waits for a bomb; what is left is the machine (a loaded 2-core CI runner): the p99
#: bound fails a return of the multi-second freezes, the max bound only a hang.
MAX_LATENCY_S = 6.0
P99_LATENCY_S = 1.0
MAX_ATTACK_S = 20.0
MAX_RSS_GROWTH_MB = 400

#: name -> (task body, regular expression its state_info must match).
ATTACKS: dict[str, tuple[str, str]] = {
    "yaql_range_select": (
        "publish: {v: '<% range(30000).select(range(30000).sum()).len() %>'}",
        r"\[expressions\] (evaluation_timeout|max_fuel)"),
    "yaql_nested_lists": (
        "publish: {v: '<% range(3000).select(range(3000).toList()) %>'}",
        r"\[expressions\] (evaluation_timeout|max_fuel)"),
    "yaql_big_int_squaring": (
        "publish: {v: '<% let(x => pow(10, 20000)) -> $x * $x * $x * $x %>'}",
        r"\[expressions\] max_int_bits"),
    "jinja_nested_for": (
        "publish: {v: '{% for i in range(100000) %}{% for j in range(100000) %}"
        "{% endfor %}{% endfor %}'}",
        r"\[expressions\] (evaluation_timeout|max_fuel)"),
    "jinja_concat_doubling": (
        "publish: {v: \"{% set a='a'*9000000 %}{% set a=a~a %}{% set a=a~a %}"
        "{{ a|length }}\"}",
        r"\[expressions\] max_value_size_kb"),
    "jinja_join": (
        "publish: {v: \"{{ (['a'*9000000]*30)|join|length }}\"}",
        r"\[expressions\] max_value_size_kb"),
    "jinja_replace": (
        "publish: {v: \"{{ ('x'*1000)|replace('x','x'*300000)|length }}\"}",
        r"\[expressions\] max_value_size_kb"),
    "yaql_many_big_strings": (
        "publish: {v: \"<% range(1000).select('a' * 9000000).len() %>\"}",
        r"\[expressions\] max_total_size_kb"),
    "regex_backtracking_fallback": (
        "publish: {v: \"<% regex('(a*)*\\\\\\\\1').matches('a' * 30 + '!') %>\"}",
        r"\[expressions\] regex_fallback"),
}


class Api:
    """A tiny REST client timing ``GET /v2/executions?limit=2`` while waiting."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.latencies: list[float] = []
        self.stop = threading.Event()
        self.prober = threading.Thread(target=self._probe_loop, daemon=True)

    def _probe_loop(self) -> None:
        """Probe every 20 ms from another thread, for the whole module."""
        while not self.stop.wait(0.02):
            self.probe()

    def upload(self, text: str) -> requests.Response:
        return requests.post(self.url + "/v2/workflows", data=text.encode(),
                             headers={"Content-Type": "text/plain"}, timeout=30)

    def start(self, name: str) -> str:
        resp = requests.post(self.url + "/v2/executions", json={"workflow_name": name},
                             timeout=30)
        assert resp.status_code == 201, resp.text
        return str(resp.json()["id"])

    def probe(self) -> None:
        started = time.perf_counter()
        resp = requests.get(self.url + "/v2/executions?limit=2", timeout=30)
        self.latencies.append(time.perf_counter() - started)
        assert resp.status_code == 200

    def wait(self, ex_id: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ex = requests.get(f"{self.url}/v2/executions/{ex_id}", timeout=30).json()
            if ex["state"] not in ("IDLE", "RUNNING"):
                return dict(ex)
            time.sleep(0.02)
        raise AssertionError(f"execution {ex_id} still running after {timeout} s")


def _rss_mb(server: ServerProcess) -> float:
    assert server.proc is not None
    for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One fresh server with the default configuration for the module's attacks."""
    proc = ServerProcess(tmp_path_factory.mktemp("hostile-expressions")).start()
    try:
        yield proc
    finally:
        assert proc.stop(timeout=10) == 0


@pytest.fixture(scope="module")
def api(server: ServerProcess) -> Iterator[Api]:
    """The client; prints the latency figures at the end of the module."""
    client = Api(server.url)
    client.prober.start()
    yield client
    client.stop.set()
    client.prober.join(35)
    lat = sorted(client.latencies)
    if lat:
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        print("\nGET /v2/executions?limit=2 during expression attacks: " + json.dumps({
            "requests": len(lat), "median_ms": round(statistics.median(lat) * 1000, 1),
            "p99_ms": round(p99 * 1000, 1), "max_ms": round(lat[-1] * 1000, 1)}))


def _workflow(name: str, body: str) -> str:
    return (f"version: '2.0'\n{name}:\n  tasks:\n    attack:\n      action: std.noop\n"
            f"      {body}\n")


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_fails_clearly_and_the_server_keeps_answering(
        server: ServerProcess, api: Api, attack: str) -> None:
    body, expected = ATTACKS[attack]
    resp = api.upload(_workflow(attack, body))
    assert resp.status_code == 201, resp.text
    rss_before = _rss_mb(server)
    started = time.monotonic()
    ex = api.wait(api.start(attack), MAX_ATTACK_S)
    elapsed = time.monotonic() - started
    assert ex["state"] == "ERROR", ex
    assert re.search(expected, ex["state_info"] or ""), ex["state_info"]
    assert elapsed < MAX_ATTACK_S
    assert max(api.latencies) < MAX_LATENCY_S, max(api.latencies)
    lat = sorted(api.latencies)
    assert lat[min(len(lat) - 1, int(len(lat) * 0.99))] < P99_LATENCY_S, lat[-5:]
    assert _rss_mb(server) - rss_before < MAX_RSS_GROWTH_MB


def test_redos_pattern_finishes_at_once(api: Api) -> None:
    name = "redos"
    body = "publish: {v: \"<% regex('(a+)+$').matches('a' * 40 + '!') %>\"}"
    assert api.upload(_workflow(name, body)).status_code == 201
    started = time.monotonic()
    ex = api.wait(api.start(name), MAX_ATTACK_S)
    assert ex["state"] == "SUCCESS", ex["state_info"]
    assert time.monotonic() - started < 5


def test_reverse_workflow_cycle_is_refused_at_upload(api: Api) -> None:
    text = ("version: '2.0'\ncycle:\n  type: reverse\n  tasks:\n"
            "    a: {action: std.noop, requires: [b]}\n"
            "    b: {action: std.noop, requires: [a]}\n")
    resp = api.upload(text)
    assert resp.status_code == 400, resp.text
    assert "cycle: a -> b -> a" in resp.text
