"""What every scaling family shares: the context, a point, and how a point is measured.

Stdlib only, REST API v2 only (the same code runs against wfaas and Mistral 23).
A *family* is a function ``points(smoke) -> list[Point]``; a *point* is one setting of
its parameters. ``measure`` runs a point ``reps`` times and folds the reps into
median/min/max of the point's value, the wall time per rep and, with ``--pid``, the
server's CPU seconds per rep (utime + stime of its process tree, from /proc).
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from wfbench import sampler  # noqa: E402
from wfbench.cli import _describe  # noqa: E402
from wfbench.client import ApiError, Client, Waiter  # noqa: E402
from wfbench.workloads import CheckFailed  # noqa: E402, F401  (re-exported for the families)
from wfbench.workloads import _expect as expect  # noqa: E402, F401
from wfbench.workloads import _output as output_of  # noqa: E402, F401


def _proc_sum(pids: list[int], name: str, parse: Callable[[str], int]) -> int | None:
    """Sum of ``parse(text of /proc/PID/<name>)`` over ``pids``; None without pids."""
    if not pids:
        return None
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/{name}") as fh:
                total += parse(fh.read())
        except (OSError, IndexError, ValueError):
            continue
    return total


def _stat_ticks(text: str) -> int:
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _io_wchar(text: str) -> int:
    return next(int(line.split()[1]) for line in text.splitlines()
                if line.startswith("wchar:"))  # the first line of the file


def cpu_seconds(pids: list[int]) -> float | None:
    """utime + stime of these processes (all threads), in seconds; None without pids."""
    ticks = _proc_sum(pids, "stat", _stat_ticks)
    return None if ticks is None else ticks / os.sysconf("SC_CLK_TCK")


def written_bytes(pids: list[int]) -> int | None:
    """Bytes these processes passed to write calls (``wchar`` of /proc/PID/io): the
    database pages and WAL frames, plus the (small) HTTP answers and log lines."""
    return _proc_sum(pids, "io", _io_wchar)


class HitServer:
    """A loopback HTTP server for ``std.http``: answers 200 ``{"ok": true}``, or 500 on
    paths ending in ``/fail``; ``hits`` records ``(perf_counter time, path)`` of each request."""

    def __init__(self, port: int = 0) -> None:
        hits: list[tuple[float, str]] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                hits.append((time.perf_counter(), self.path))
                fail = self.path.endswith("/fail")
                body = b'{"ok": false}' if fail else b'{"ok": true}'
                self.send_response(500 if fail else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _answer  # noqa: N815

        self.hits = hits
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/fam"
        self._thread = threading.Thread(target=self.server.serve_forever, name="hits",
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving and release the port."""
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Ctx:
    """What a point gets: the API client, the waiter, the hit server and the options."""

    client: Client
    waiter: Waiter
    hits: HitServer | None = None
    verify: bool = True
    posters: int = 10
    pids: list[int] = field(default_factory=list)
    registered: set[str] = field(default_factory=set)
    state: dict[str, Any] = field(default_factory=dict)

    def register(self, key: str, definition: str) -> None:
        """Register a workflow text once per run (create, or update if it exists)."""
        if key not in self.registered:
            self.client.register_workflows(definition)
            self.registered.add(key)

    def run_wf(self, workflow: str, wf_input: dict[str, Any] | None = None,
               params: dict[str, Any] | None = None) -> tuple[float, dict[str, Any]]:
        """POST one execution and wait for it; return (seconds, final execution)."""
        t0 = time.perf_counter()
        ex_id = self.client.start_execution(workflow, wf_input, params)
        ex = self.waiter.wait(ex_id)
        return time.perf_counter() - t0, ex

    def start_many(self, workflow: str, count: int) -> list[dict[str, Any]]:
        """POST ``count`` executions with ``posters`` threads and wait for all of them."""
        ids: list[str] = [""] * count

        def post(i: int) -> None:
            ids[i] = self.client.start_execution(workflow)

        with ThreadPoolExecutor(max(1, min(self.posters, count))) as pool:
            list(pool.map(post, range(count)))
        return self.waiter.wait_all(ids)

    def timed_get(self, path: str) -> tuple[float, Any]:
        """GET ``/v2<path>``: seconds until the last byte arrived, and the parsed body."""
        conn = http.client.HTTPConnection(self.client.host, self.client.port,
                                          timeout=self.client.timeout)
        try:
            t0 = time.perf_counter()
            conn.request("GET", self.client.prefix + path, headers={"Accept": "*/*"})
            resp = conn.getresponse()
            raw = resp.read()
            dt = time.perf_counter() - t0
        finally:
            conn.close()
        if resp.status != 200:
            raise ApiError(f"GET {path} answered {resp.status}: {raw[:300]!r}", resp.status)
        return dt, json.loads(raw)


@dataclass(frozen=True)
class Point:
    """One setting of a family: ``rep(ctx)`` runs once and returns ``{"value": ...}``.

    ``setup`` (untimed) runs once before the reps, e.g. to register workflows or
    fill the database. Other numeric keys of a rep's dict are reported as medians.
    """

    family: str
    name: str
    params: dict[str, Any]
    unit: str
    rep: Callable[[Ctx], dict[str, Any]]
    setup: Callable[[Ctx], None] | None = None


def _one_rep(ctx: Ctx, point: Point, pid: int | None) -> dict[str, Any]:
    pids = sampler.process_tree(pid) if pid else []
    with sampler.RssSampler(pid) as rss:
        cpu0, t0 = cpu_seconds(pids), time.perf_counter()
        try:
            run = dict(point.rep(ctx))
            run["ok"] = True
        except Exception as e:  # a failed rep is reported, and the run goes on
            run = {"ok": False, "error": _describe(e)}
        run["wall_s"] = time.perf_counter() - t0
        cpu1 = cpu_seconds(pids)
    if cpu0 is not None and cpu1 is not None:
        run["server_cpu_s"] = round(cpu1 - cpu0, 3)
    if rss.peak_kb is not None:
        run["peak_rss_mb"] = round(rss.peak_kb / 1024, 1)
    return run


def fold(point: Point, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The reps of one point as one result: statistics over the successful reps only.

    ``median``/``min``/``max`` are of the point's value, ``wall_s`` of the wall time of a
    whole rep, ``extra`` holds the medians of the other numbers the reps returned.
    """
    ok = [r for r in runs if r.get("ok")]
    status = "ok" if ok and len(ok) == len(runs) else ("partial" if ok else "failed")
    res: dict[str, Any] = {"name": point.name, "params": point.params, "unit": point.unit,
                           "status": status, "reps": len(runs), "ok_reps": len(ok)}
    if ok:
        vals = [r["value"] for r in ok]
        res.update(median=statistics.median(vals), min=min(vals), max=max(vals))
        keys = sorted({k for r in ok for k, v in r.items()
                       if k not in ("value", "ok") and isinstance(v, int | float)
                       and not isinstance(v, bool)})
        res["extra"] = {k: statistics.median([r[k] for r in ok if k in r]) for k in keys}
        walls = [r["wall_s"] for r in ok]
        res["wall_s"] = {"median": statistics.median(walls), "min": min(walls),
                         "max": max(walls)}
    peaks = [r["peak_rss_mb"] for r in runs if r.get("peak_rss_mb") is not None]
    if peaks:
        res["peak_rss_mb"] = max(peaks)
    errors = [r["error"] for r in runs if r.get("error")]
    if errors:
        res["errors"] = errors
    res["runs"] = runs
    return res


def measure(ctx: Ctx, point: Point, reps: int, pid: int | None,
            log: Callable[[str], None]) -> dict[str, Any]:
    """Set a point up, run it ``reps`` times and fold the reps (failures are reported)."""
    runs: list[dict[str, Any]] = []
    try:
        if point.setup is not None:
            point.setup(ctx)
    except Exception as e:
        runs = [{"ok": False, "error": "setup: " + _describe(e)}]
    else:
        for i in range(reps):
            run = _one_rep(ctx, point, pid)
            runs.append(run)
            shown = (f"{run['value']:.6g} {point.unit}" if run["ok"]
                     else "FAILED " + run["error"])
            log(f"{point.family:<12} {point.name:<28} rep {i + 1}/{reps}: {shown}")
    return fold(point, runs)
