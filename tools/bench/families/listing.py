"""List latency family: cost of one list page over the number of stored rows.

    python tools/bench/families/listing.py [--rows 100,1000,10000] [--page 100]
        [--reps 15] [--json FILE]

For each row count a fresh SQLite file (the embedded default) is filled with that many
workflow executions (realistic input, params, definition text and engine state), and
as many task executions under one workflow execution. The WSGI app is then called
in-process (no socket, runtime not started) for:

- ``executions_all``: ``GET /v2/executions?limit=<rows>`` (every row in one page)
- ``executions_first``: ``GET /v2/executions?limit=<page>``
- ``executions_deep``: the page of ``<page>`` rows whose marker is ``<page>`` rows
  before the end (keyset paging deep into the table)
- ``tasks_first`` / ``tasks_deep``: the same over ``/v2/executions/<id>/tasks``

Per call it records the thread CPU time (the server-side cost; stable on a loaded
machine) and the wall time; the median over ``--reps`` calls is reported, in ms.
Run it against another tree with ``PYTHONPATH=<tree>``. The script is standalone:
it prints a table and, with ``--json``, writes the results.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import io
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from typing import Any

from oslo_config import cfg
from sqlalchemy import insert

from wfaas import config
from wfaas.api.app import setup_app
from wfaas.db import migration
from wfaas.db import models as m
from wfaas.db.api import insert_executions
from wfaas.db.session import make_engine, sqlite_url
from wfaas.services.runtime import Runtime

SPEC = "---\nversion: '2.0'\nwf:\n  tasks:\n" + "".join(
    f"    t{i}:\n      action: std.echo output=<% $.x %>\n      on-success: [t{i + 1}]\n"
    for i in range(20))


def call(app: Any, path: str, query: str = "") -> tuple[str, bytes]:
    """One in-process GET; returns (status, body)."""
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query,
        "SERVER_NAME": "localhost", "SERVER_PORT": "8989", "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_LENGTH": "0", "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr, "wsgi.version": (1, 0), "wsgi.multithread": True,
        "wsgi.multiprocess": False, "wsgi.run_once": False, "HTTP_HOST": "localhost:8989",
    }
    status: list[str] = []

    def start_response(s: str, headers: Any, exc_info: Any = None) -> None:
        status.append(s)

    body = b"".join(app(environ, start_response))
    return status[0], body


def fill(engine: Any, rows: int) -> str:
    """Store ``rows`` executions and ``rows`` tasks of the first one; return its id."""
    base = _dt.datetime(2026, 12, 1)
    ex_ids = [str(uuid.uuid4()) for _ in range(rows)]
    executions = [{
        "id": ex_id, "workflow_name": "wf", "workflow_namespace": "", "workflow_id": None,
        "description": "", "spec": SPEC, "state": "SUCCESS" if i % 3 else "RUNNING",
        "params": {"env": {"region": "one", "n": i}, "namespace": ""},
        "input": {"x": i, "name": f"item-{i}", "payload": list(range(10))},
        "output": {"result": "x" * 200}, "tags": ["bench"], "root_execution_id": ex_id,
        "engine_state": {"counts": {f"t{k}": 1 for k in range(20)}}, "version": 3,
        "project_id": "<default-project>",
        # a few share a timestamp: the keyset must break ties by id
        "created_at": base + _dt.timedelta(seconds=i // 4),
        "updated_at": base + _dt.timedelta(seconds=i // 4 + 1),
    } for i, ex_id in enumerate(ex_ids)]
    tasks = [{
        "id": str(uuid.uuid4()), "name": f"t{i}", "workflow_name": "wf",
        "workflow_namespace": "", "workflow_execution_id": ex_ids[0], "type": "ACTION",
        "state": "SUCCESS", "published": {"v": i}, "result": {"out": "y" * 200},
        "runtime_context": {"index": i}, "engine_state": {"n": i}, "processed": True,
        "project_id": "<default-project>", "created_at": base + _dt.timedelta(seconds=i // 4),
        "updated_at": base + _dt.timedelta(seconds=i // 4 + 1),
    } for i in range(rows)]
    with engine.begin() as conn:
        insert_executions(conn, executions)
        conn.execute(insert(m.TaskExecution), tasks)
    return ex_ids[0]


def measure(app: Any, path: str, query: str, reps: int) -> dict[str, Any]:
    """Median thread CPU and wall ms of ``reps`` calls (after two warm-up calls)."""
    for _ in range(2):
        status, body = call(app, path, query)
        if not status.startswith("200"):
            raise SystemExit(f"{path}?{query}: {status} {body[:300]!r}")
    cpu, wall = [], []
    for _ in range(reps):
        c0, w0 = time.thread_time(), time.perf_counter()
        call(app, path, query)
        cpu.append(time.thread_time() - c0)
        wall.append(time.perf_counter() - w0)
    return {"cpu_ms": round(statistics.median(cpu) * 1e3, 3),
            "wall_ms": round(statistics.median(wall) * 1e3, 3), "bytes": len(body)}


def marker_before_end(app: Any, path: str, rows: int, page: int) -> str:
    """The id of the row ``page`` rows before the end (the marker of the last page)."""
    body = json.loads(call(app, path, f"limit={rows}&fields=id")[1])
    items = next(v for k, v in body.items() if isinstance(v, list))
    return str(items[max(0, len(items) - page - 1)]["id"])


def one_size(rows: int, page: int, reps: int) -> list[dict[str, Any]]:
    """Every measure over one database of ``rows`` rows."""
    path = os.path.join(tempfile.mkdtemp(prefix="wfaas-listing-"), "wfaas.db")
    conf = cfg.ConfigOpts()
    config.register_opts(conf)
    conf([], project="wfaas")
    conf.set_override("max_limit", max(rows, 1000), group="api")
    engine = make_engine(sqlite_url(path))
    migration.ensure_schema(engine)
    ex_id = fill(engine, rows)
    app = setup_app(Runtime(engine, provider=object()), conf)
    tasks_path = f"/v2/executions/{ex_id}/tasks"
    ex_marker = marker_before_end(app, "/v2/executions", rows, page)
    task_marker = marker_before_end(app, tasks_path, rows, page)
    cases = [
        ("executions_all", "/v2/executions", f"limit={rows}"),
        ("executions_first", "/v2/executions", f"limit={page}"),
        ("executions_deep", "/v2/executions", f"limit={page}&marker={ex_marker}"),
        ("tasks_first", tasks_path, f"limit={page}"),
        ("tasks_deep", tasks_path, f"limit={page}&marker={task_marker}"),
    ]
    out = []
    for name, url, query in cases:
        result = measure(app, url, query, reps)
        out.append({"case": name, "rows": rows, "page": rows if name.endswith("_all")
                    else page, **result})
        print(f"{rows:6d} rows  {name:17s} {result['cpu_ms']:9.2f} ms cpu "
              f"{result['wall_ms']:9.2f} ms wall  {result['bytes']:8d} bytes", flush=True)
    engine.dispose()
    return out


def main() -> None:
    """Run the family and print/write the results."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", default="100,1000,10000")
    p.add_argument("--page", type=int, default=100)
    p.add_argument("--reps", type=int, default=15)
    p.add_argument("--json", default="")
    a = p.parse_args()
    results: list[dict[str, Any]] = []
    for rows in (int(r) for r in a.rows.split(",")):
        results += one_size(rows, a.page, a.reps)
    if a.json:
        import wfaas

        doc = {"family": "listing", "tree": os.path.dirname(os.path.dirname(wfaas.__file__)),
               "load_average": os.getloadavg()[0], "page": a.page, "reps": a.reps,
               "results": results}
        with open(a.json, "w") as fh:
            json.dump(doc, fh, indent=1)


if __name__ == "__main__":
    main()
