"""CPU per REST call on a loaded machine: lower quartile of batch means, one JSON line.

    python tools/bench/profiles/api_calls_min.py                            # this tree
    PYTHONPATH=/work/wt/base python tools/bench/profiles/api_calls_min.py   # another

Same in-process setup as api_calls.py (WSGI app called directly, runtime not started).
Each call is timed in 15 batches of 20 (thread CPU time); the lower quartile of the
batch means is printed, which moves much less than a mean when other jobs share the
cores. ``list100`` lists the executions the POSTs stored (default page).
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))  # tools/bench for wfbench

from api_calls import call, make_app  # noqa: E402


def batch_cpu(app: Any, args: tuple[str, str, Any], batches: int = 15, size: int = 20
              ) -> float:
    """Lower quartile of the per-call CPU ms over ``batches`` batches of ``size`` calls."""
    for _ in range(size):
        call(app, *args)
    means = []
    for _ in range(batches):
        started = time.thread_time()
        for _ in range(size):
            call(app, *args)
        means.append((time.thread_time() - started) / size)
    means.sort()
    return round(means[len(means) // 4] * 1e3, 3)


def main() -> None:
    """Print ``{"post": ms, "get": ms, "list100": ms}``."""
    app, engine = make_app()
    start = {"workflow_name": "bench_seq10"}
    ex_id = json.loads(call(app, "POST", "/v2/executions", start)[1])["id"]
    out = {key: batch_cpu(app, args) for key, args in (
        ("post", ("POST", "/v2/executions", start)),
        ("get", ("GET", f"/v2/executions/{ex_id}", None)),
        ("list100", ("GET", "/v2/executions", None)))}
    print(json.dumps(out))
    engine.dispose()


if __name__ == "__main__":
    main()
