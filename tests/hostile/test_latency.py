"""Issue 14's "other requests keep answering": the latency of a list, a start and a
cancel while each kind of attack runs, against one real ``wfaas-server``.

For every attack the harness keeps the attack running (starts it again when it
ends) for ``WINDOW_S`` seconds while three clients time their requests:
``GET /v2/executions?limit=2``, ``POST /v2/executions`` of a workflow that waits
(``std.async_noop``) and ``PUT /v2/executions/<that one>`` to CANCELLED. It prints
p50 / p99 / max per attack and request (``pytest -s``; the figures of a run are in
docs/security.md), with the same requests on the idle server first (``none``), the
reference that tells what the machine alone costs. The goal is p99 < 100 ms; the
assertions are generous (a busy 2-core CI runner alone was seen to push a cancel's
p99 to 0.9 s) but below the 3 s evaluation budget, so a return of the freezes (a
request waiting for a whole heavy step: a lock, a batch or the only engine worker
held by it) fails.

Run by hand against a server of your own (e.g. to watch it with py-spy)::

    python -m tests.hostile.test_latency http://127.0.0.1:9450 [attack ...]
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from tests.functional.client.server import ServerProcess
from tests.hostile.conftest import START_TIMEOUT, Api

WINDOW_S = 6.0
#: p99 bounds by request, s: a list or a start waits for no engine step, a cancel
#: waits for its own (one engine round trip)
P99_BOUND_S = {"list": 1.5, "start": 1.5, "cancel": 2.5}
PROBE_INTERVAL_S = 0.02
TERMINAL = ("SUCCESS", "ERROR", "CANCELLED")


def _noop_wf(name: str, body: str) -> str:
    return (f"version: '2.0'\n{name}:\n  tasks:\n    attack:\n      action: std.noop\n"
            f"      {body}\n")


#: attack name -> (workflow text, workflow name, state it must end in, text of state_info)
ATTACKS: dict[str, tuple[str, str, str, str]] = {
    "none": (_noop_wf("lat_none", "publish: {v: '<% 1 + 1 %>'}"), "lat_none", "SUCCESS", ""),
    "yaql_cpu": (_noop_wf("lat_yaql_cpu", "publish: {v: '<% range(30000).select("
                          "range(30000).sum()).len() %>'}"),
                 "lat_yaql_cpu", "ERROR", "[expressions]"),
    "jinja_cpu": (_noop_wf("lat_jinja_cpu", "publish: {v: '{% for i in range(100000) %}"
                           "{% for j in range(100000) %}{% endfor %}{% endfor %}'}"),
                  "lat_jinja_cpu", "ERROR", "[expressions]"),
    "yaql_memory": (_noop_wf("lat_yaql_memory", "publish: {v: '<% range(3000).select("
                             "range(3000).toList()) %>'}"),
                    "lat_yaql_memory", "ERROR", "[expressions]"),
    "jinja_memory": (_noop_wf("lat_jinja_memory", "publish: {v: \"{% set a='a'*9000000 %}"
                              "{% set a=a~a %}{% set a=a~a %}{{ a|length }}\"}"),
                     "lat_jinja_memory", "ERROR", "[expressions]"),
    "big_int": (_noop_wf("lat_big_int", "publish: {v: '<% let(x => pow(10, 20000)) -> "
                         "$x * $x * $x * $x %>'}"),
                "lat_big_int", "ERROR", "[expressions]"),
    "redos": (_noop_wf("lat_redos", "publish: {v: \"<% regex('(a+)+$').matches("
                       "'a' * 40 + '!') %>\"}"),
              "lat_redos", "SUCCESS", ""),
    "recursion": ("version: '2.0'\nlat_recursion:\n  tasks:\n    again:\n"
                  "      workflow: lat_recursion\n",
                  "lat_recursion", "ERROR", "max_nesting_depth"),
    "ssrf": ("version: '2.0'\nlat_ssrf:\n  tasks:\n    get:\n"
             "      action: std.http url=http://[::ffff:127.0.0.1]:1/ timeout=2\n",
             "lat_ssrf", "ERROR", "refusing to connect"),
}

WAITER_WF = ("version: '2.0'\nlat_waiter:\n  tasks:\n    wait:\n"
             "      action: std.async_noop\n")


class Timings:
    """Latencies (s) of one kind of request; a failed request counts as its timeout."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.errors: list[str] = []

    def time(self, call: Callable[[], requests.Response], ok: int) -> requests.Response | None:
        """Run ``call``, record how long it took; None when it failed."""
        t0 = time.perf_counter()
        try:
            resp = call()
        except requests.RequestException as exc:
            self.samples.append(time.perf_counter() - t0)
            self.errors.append(str(exc))
            return None
        self.samples.append(time.perf_counter() - t0)
        if resp.status_code != ok:
            self.errors.append(f"{resp.status_code} {resp.text[:200]}")
            return None
        return resp

    def quantile(self, q: float) -> float:
        """The ``q`` quantile, s (nearest rank)."""
        data = sorted(self.samples)
        return data[min(len(data) - 1, int(q * len(data)))] if data else float("nan")

    def row(self) -> str:
        """``n, p50, p99, max`` in ms."""
        if not self.samples:
            return "no sample"
        return (f"{len(self.samples):4d} {statistics.median(self.samples) * 1e3:7.1f} "
                f"{self.quantile(0.99) * 1e3:7.1f} {max(self.samples) * 1e3:7.1f}")


class Clients:
    """The three request loops (list, start, cancel) in background threads."""

    def __init__(self, url: str) -> None:
        self.base = url.rstrip("/") + "/v2"
        self.list, self.start, self.cancel = Timings(), Timings(), Timings()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._list_loop, daemon=True),
                         threading.Thread(target=self._start_cancel_loop, daemon=True)]

    def __enter__(self) -> Clients:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)

    def _list_loop(self) -> None:
        http = requests.Session()
        while not self._stop.wait(PROBE_INTERVAL_S):
            self.list.time(lambda: http.get(self.base + "/executions?limit=2", timeout=15),
                           200)

    def _start_cancel_loop(self) -> None:
        http = requests.Session()
        while not self._stop.wait(PROBE_INTERVAL_S * 2):
            resp = self.start.time(lambda: http.post(
                self.base + "/executions", json={"workflow_name": "lat_waiter"},
                timeout=15), 201)
            if resp is None:
                continue
            url = f"{self.base}/executions/{resp.json()['id']}"
            self.cancel.time(lambda u=url: http.put(u, json={"state": "CANCELLED"},
                                                   timeout=15), 200)


def run_attack(url: str, name: str, window: float = WINDOW_S) -> tuple[Clients, list[Any]]:
    """Keep attack ``name`` running for ``window`` s under the clients; returns them and
    the finished attack executions."""
    text, wf, _state, _info = ATTACKS[name]
    api = Api(url, timeout=15)
    api.create_workflows(text)
    api.create_workflows(WAITER_WF)
    finished: list[Any] = []
    with Clients(url) as clients:
        end = time.monotonic() + window
        while time.monotonic() < end:
            ex = api.start(wf)
            finished.append(api.wait(ex["id"], timeout=max(1.0, end - time.monotonic())))
    for ex in finished:
        if ex["state"] not in TERMINAL:  # the last one may outlive the window
            api.set_state(ex["id"], "CANCELLED")
    return clients, finished


def table(results: dict[str, Clients]) -> str:
    """The printed table: per attack and request, n / p50 / p99 / max (ms)."""
    lines = [f"{'attack':13s} {'request':7s} {'n':>4s} {'p50':>7s} {'p99':>7s} {'max':>7s}"]
    for name, c in results.items():
        for req, t in (("list", c.list), ("start", c.start), ("cancel", c.cancel)):
            lines.append(f"{name:13s} {req:7s} {t.row()}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server with the default configuration for all the attacks."""
    srv = ServerProcess(tmp_path_factory.mktemp("hostile-latency")).start(START_TIMEOUT)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def results() -> Iterator[dict[str, Clients]]:
    """Collects every attack's timings and prints the table at the end of the module."""
    collected: dict[str, Clients] = {}
    yield collected
    print("\nlatency during attacks (ms):\n" + table(collected))


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_requests_keep_answering_during_the_attack(server: ServerProcess, attack: str,
                                                  results: dict[str, Clients]) -> None:
    clients, finished = run_attack(server.url, attack)
    results[attack] = clients
    _text, _wf, state, info = ATTACKS[attack]
    done = [ex for ex in finished if ex["state"] in TERMINAL]
    assert done, finished[-1]
    for ex in done:
        assert ex["state"] == state, ex
        assert info in (ex["state_info"] or ""), ex["state_info"]
    for req, t in (("list", clients.list), ("start", clients.start),
                   ("cancel", clients.cancel)):
        assert len(t.samples) >= 5, (req, t.samples)
        assert not t.errors, (req, t.errors[:3])
        assert t.quantile(0.99) < P99_BOUND_S[req], f"{attack} {req}: {t.row()}"


if __name__ == "__main__":
    target, chosen = sys.argv[1], sys.argv[2:] or list(ATTACKS)
    collected: dict[str, Clients] = {}
    for attack_name in chosen:
        collected[attack_name] = run_attack(target, attack_name)[0]
        print(table({attack_name: collected[attack_name]}).splitlines()[1:], flush=True)
    print(table(collected))
