"""The hostile suite: attacks against a real ``wfaas-server`` subprocess.

Fixtures and helpers every ``tests/hostile/test_*.py`` may use:

- ``server``: a server (default configuration, own SQLite file) shared by a module;
  ``server_factory(extra_conf)`` starts another one (stopped at the end of the test).
- ``Api(url)``: the few REST calls attacks need (create a workflow, start, wait).
- ``LatencyProbe(url)``: a background thread timing ``GET /v2/executions?limit=2``
  while an attack runs; ``probe.p50`` / ``probe.p99`` / ``probe.max`` in seconds.
- ``rss_mb(pid)``: the resident memory of a process (``/proc/<pid>/status``).
- ``assert_serving(url)``: the server still lists, starts and finishes executions.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.functional.client.server import ServerProcess

TERMINAL = frozenset({"SUCCESS", "ERROR", "CANCELLED"})
NOOP_WF = "version: '2.0'\nhostile_probe_noop:\n  tasks:\n    t:\n      action: std.noop\n"


class Api:
    """Minimal REST calls against ``url`` (``http://host:port``)."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.base = url.rstrip("/") + "/v2"
        self.timeout = timeout
        self.http = requests.Session()

    def create_workflows(self, text: str) -> list[dict[str, Any]]:
        """POST a workflow document; returns the created definitions."""
        r = self.http.post(self.base + "/workflows", data=text, timeout=self.timeout,
                           headers={"content-type": "text/plain"})
        if r.status_code == 409:  # already there (a module-scoped server)
            r = self.http.put(self.base + "/workflows", data=text, timeout=self.timeout,
                              headers={"content-type": "text/plain"})
        assert r.status_code in (200, 201), r.text
        return list(r.json()["workflows"])

    def start(self, name: str, input: dict[str, Any] | None = None,
              **body: Any) -> dict[str, Any]:
        """Start an execution of workflow ``name``; returns the execution."""
        r = self.http.post(self.base + "/executions", timeout=self.timeout,
                           json={"workflow_name": name, "input": input or {}, **body})
        assert r.status_code == 201, r.text
        return dict(r.json())

    def execution(self, ex_id: str) -> dict[str, Any]:
        """GET one execution."""
        r = self.http.get(f"{self.base}/executions/{ex_id}", timeout=self.timeout)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def executions(self, **params: Any) -> list[dict[str, Any]]:
        """GET /v2/executions with query ``params``."""
        r = self.http.get(self.base + "/executions", params=params, timeout=self.timeout)
        assert r.status_code == 200, r.text
        return list(r.json()["executions"])

    def set_state(self, ex_id: str, state: str) -> requests.Response:
        """PUT a new state (CANCELLED, PAUSED, RUNNING ...) on an execution."""
        return self.http.put(f"{self.base}/executions/{ex_id}", json={"state": state},
                             timeout=self.timeout)

    def wait(self, ex_id: str, timeout: float = 30.0,
             states: frozenset[str] = TERMINAL) -> dict[str, Any]:
        """Poll until the execution is in one of ``states``; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            ex = self.execution(ex_id)
            if ex["state"] in states or time.monotonic() > deadline:
                return ex
            time.sleep(0.05)


class LatencyProbe:
    """Times ``GET /v2/executions?limit=2`` in a loop in a background thread.

    Use as a context manager around an attack; a request that fails or takes
    longer than ``timeout`` counts as ``timeout`` seconds.
    """

    def __init__(self, url: str, *, interval: float = 0.02, timeout: float = 15.0) -> None:
        self.url = url.rstrip("/") + "/v2/executions?limit=2"
        self.interval = interval
        self.timeout = timeout
        self.samples: list[float] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="latency-probe", daemon=True)

    def __enter__(self) -> LatencyProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(self.timeout + 5)

    def _run(self) -> None:
        http = requests.Session()
        while not self._stop.is_set():
            t0 = time.perf_counter()
            try:
                ok = http.get(self.url, timeout=self.timeout).status_code == 200
                if not ok:
                    self.errors.append("status")
            except requests.RequestException as exc:
                self.errors.append(str(exc))
            self.samples.append(time.perf_counter() - t0)
            self._stop.wait(self.interval)

    def quantile(self, q: float) -> float:
        """The ``q`` quantile of the samples (seconds)."""
        assert self.samples, "no latency sample"
        data = sorted(self.samples)
        return data[min(len(data) - 1, int(q * len(data)))]

    @property
    def p50(self) -> float:
        """Median latency, s."""
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        """99th percentile latency, s."""
        return self.quantile(0.99)

    @property
    def max(self) -> float:
        """Slowest request, s."""
        return max(self.samples)

    def summary(self) -> str:
        """One line for assertion messages."""
        return (f"{len(self.samples)} GETs, p50 {self.p50 * 1000:.0f} ms, p99 "
                f"{self.p99 * 1000:.0f} ms, max {self.max * 1000:.0f} ms, "
                f"{len(self.errors)} errors")


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (VmRSS of /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


def assert_serving(url: str, timeout: float = 10.0) -> None:
    """The server answers a list quickly and still runs a new execution to SUCCESS."""
    api = Api(url, timeout=timeout)
    t0 = time.perf_counter()
    api.executions(limit=1)
    took = time.perf_counter() - t0
    assert took < 2.0, f"GET /v2/executions took {took:.2f} s"
    api.create_workflows(NOOP_WF)
    ex = api.start("hostile_probe_noop")
    done = api.wait(ex["id"], timeout=timeout)
    assert done["state"] == "SUCCESS", done


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/hostile carries the ``hostile`` marker."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.hostile)


#: a loaded 2-core CI machine was seen to need over 60 s to start a server
START_TIMEOUT = 180.0


def _start_server(workdir: Path, extra_conf: str) -> ServerProcess:
    return ServerProcess(workdir, extra_conf=extra_conf).start(START_TIMEOUT)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real wfaas-server with the default configuration, shared by a test module."""
    srv = _start_server(tmp_path_factory.mktemp("hostile-server"), "")
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start servers with extra configuration (``[group]`` lines); stopped after the test."""
    started: list[ServerProcess] = []

    def make(extra_conf: str = "", name: str = "srv") -> ServerProcess:
        workdir = tmp_path / f"{name}{len(started)}"
        workdir.mkdir()
        srv = _start_server(workdir, extra_conf)
        started.append(srv)
        return srv

    try:
        yield make
    finally:
        for srv in started:
            srv.stop()


@pytest.fixture
def api(server: ServerProcess) -> Api:
    """An :class:`Api` on the module's server."""
    return Api(server.url)
