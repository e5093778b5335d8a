"""CPU cost of single REST calls, in-process (WSGI app called directly, no socket, no engine).

    /work/venv/bin/python tools/bench/profiles/api_calls.py [-n 300] [--profile post|get|root]

The Runtime is built but not started, so ``POST /v2/executions`` only stores the
execution (the engine never runs it): the numbers are the API's own cost per call,
which the bench pays once per POST and once per 5 ms poll.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tools/bench for wfbench

from oslo_config import cfg  # noqa: E402
from wfbench import definitions as d  # noqa: E402

from wfaas import config  # noqa: E402
from wfaas.api.app import setup_app  # noqa: E402
from wfaas.cmd.run_cmd import store_file  # noqa: E402
from wfaas.db import migration  # noqa: E402
from wfaas.db.session import make_engine, sqlite_url  # noqa: E402
from wfaas.services.runtime import Runtime  # noqa: E402


def call(app: Any, method: str, path: str, body: Any = None) -> tuple[str, bytes]:
    """Call the WSGI app once; returns (status, body)."""
    raw = json.dumps(body).encode() if body is not None else b""
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "",
        "SERVER_NAME": "localhost", "SERVER_PORT": "8989", "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(raw)),
        "wsgi.input": io.BytesIO(raw), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0), "wsgi.multithread": True, "wsgi.multiprocess": False,
        "wsgi.run_once": False, "HTTP_HOST": "localhost:8989",
    }
    status: list[str] = []

    def start_response(s: str, headers: Any, exc_info: Any = None) -> None:
        status.append(s)

    out = b"".join(app(environ, start_response))
    return status[0], out


def make_app() -> tuple[Any, Any]:
    """The API app over a fresh SQLite file holding ``bench_seq10`` (runtime not started),
    and its engine."""
    path = os.path.join(tempfile.mkdtemp(prefix="wfaas-api-"), "wfaas.db")
    conf = cfg.ConfigOpts()
    config.register_opts(conf)
    conf([], project="wfaas")
    eng = make_engine(sqlite_url(path))
    migration.ensure_schema(eng)
    rt = Runtime(eng, provider=object())
    with rt.session() as s:
        store_file(s, d.sequence("bench_seq10", 10))
    return setup_app(rt, conf), eng


def main() -> None:
    """Print the CPU per call of POST /v2/executions, GET /v2/executions/<id> and GET /v2."""
    p = argparse.ArgumentParser()
    p.add_argument("-n", type=int, default=300)
    p.add_argument("--profile", default="", choices=["", "post", "get", "root"])
    a = p.parse_args()
    app, eng = make_app()
    status, body = call(app, "POST", "/v2/executions", {"workflow_name": "bench_seq10"})
    ex_id = json.loads(body)["id"]
    calls = {
        "post": ("POST", "/v2/executions", {"workflow_name": "bench_seq10"}),
        "get": ("GET", f"/v2/executions/{ex_id}", None),
        "root": ("GET", "/v2", None),
    }
    print(f"load average {os.getloadavg()[0]:.2f}")
    for key, (method, url, payload) in calls.items():
        for _ in range(20):
            call(app, method, url, payload)
        prof = cProfile.Profile() if a.profile == key else None
        c0 = time.process_time()
        if prof:
            prof.enable()
        for _ in range(a.n):
            status, _body = call(app, method, url, payload)
        if prof:
            prof.disable()
        cpu = (time.process_time() - c0) / a.n
        print(f"{method:4s} {url if key != 'get' else '/v2/executions/<id>':24s} {status:12s} "
              f"{cpu * 1e3:7.3f} ms cpu per call", flush=True)
        if prof:
            pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
    eng.dispose()


if __name__ == "__main__":
    main()
