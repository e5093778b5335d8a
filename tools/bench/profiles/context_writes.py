"""Bytes a server writes per small task after a large publish, net of WAL checkpoints.

The ``context`` family reports ``(written with 20 following tasks - written with none)
/ 20``, from the server's ``wchar``. On SQLite a WAL checkpoint (about 4 MB of pages,
``wal_autocheckpoint``) lands in one run or the other, so one rep may show ~200 KB per
task that no task wrote. Here each round runs the family's workflow with 0, ``--short``
and ``--long`` following tasks and reports the per-task bytes of both differences: a
checkpoint shows as a sign flip or a value that shrinks with the number of tasks; what
the tasks really write is what stays the same.

    python tools/bench/profiles/context_writes.py --url http://127.0.0.1:8990 --pid PID

Prints one JSON object per round. Stdlib only, plus the family's definitions.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "families"))
from fam_context import definition, value_of  # noqa: E402


def _call(url: str, method: str = "GET", body: bytes | None = None,
          ctype: str = "application/json") -> Any:
    req = urllib.request.Request(url, data=body, method=method,
                                 headers={"Content-Type": ctype})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read() or b"null")


def wchar(pid: int) -> int:
    """Bytes the process has written (``/proc/PID/io``)."""
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            if line.startswith("wchar"):
                return int(line.split()[1])
    raise RuntimeError(f"no wchar for pid {pid}")


def run(api: str, pid: int, name: str, blob: Any) -> int:
    """Run ``name`` with the input ``blob`` to its end; the bytes the server wrote."""
    before = wchar(pid)
    body = json.dumps({"workflow_name": name, "input": json.dumps({"blob": blob})})
    ex = _call(api + "/executions", "POST", body.encode())
    while _call(f"{api}/executions/{ex['id']}")["state"] == "RUNNING":
        time.sleep(0.01)
    time.sleep(0.3)  # the engine's last writes
    return wchar(pid) - before


def main() -> None:
    """Parse the arguments, register the workflows, print a JSON line per round."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--size", type=int, default=1_000_000, help="bytes of the published list")
    p.add_argument("--short", type=int, default=20)
    p.add_argument("--long", type=int, default=80)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    api = args.url.rstrip("/") + "/v2"
    blob = value_of("list", args.size)
    follows = (0, args.short, args.long)
    for n in follows:
        text = definition(f"ctxw_{n}", n).encode()
        try:
            _call(api + "/workflows", "POST", text, "text/plain")
        except urllib.error.HTTPError as exc:  # defined by an earlier run: update it
            if exc.code != 409:
                raise
            _call(api + "/workflows", "PUT", text, "text/plain")
    for rnd in range(args.rounds):
        w = {n: run(api, args.pid, f"ctxw_{n}", blob) for n in follows}
        row: dict[str, Any] = {"round": rnd,
                               "written_mb": {n: round(v / 1e6, 2) for n, v in w.items()}}
        for n in follows[1:]:
            row[f"per_task_kb_{n}"] = round((w[n] - w[0]) / n / 1e3, 1)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
