#!/usr/bin/env python3
"""Interleaved A/B of tests/hostile/test_latency.py attacks on servers of two source trees.

    python tools/bench/profiles/latency_ab.py BEFORE_TREE AFTER_TREE [--rounds 4]
        [--attacks none,recursion] [--port 19100] [--json FILE]

Each round starts a ``wfaas-server`` of each tree (``PYTHONPATH=<tree>``, run from a
directory that is neither tree) in alternating order on ports ``--port`` + 1, + 2, ...,
runs every attack for ``WINDOW_S`` s under the three timed clients, and adds the
samples up per tree and attack. Prints (and writes) p50 / p99 in ms per request and
the server's CPU (user + system) per attack execution. Always keep ``none`` in the
attacks: what the machine alone costs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.functional.client.server import ServerProcess  # noqa: E402
from tests.hostile.test_latency import run_attack  # noqa: E402

REQUESTS = ("list", "start", "cancel")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _quantile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def _one_server(tree: str, port: int, work: Path, attacks: list[str],
                into: dict[str, dict[str, Any]]) -> None:
    srv = ServerProcess(work)
    srv.port, srv.url = port, f"http://127.0.0.1:{port}"
    srv.conf_file.write_text(re.sub(r"port = \d+", f"port = {port}",
                                    srv.conf_file.read_text()))
    os.environ["PYTHONPATH"] = tree
    srv.start(120)
    try:
        assert srv.proc is not None
        for attack in attacks:
            c0 = _cpu_s(srv.proc.pid)
            clients, finished = run_attack(srv.url, attack)
            acc = into[attack]
            acc["cpu_s"] += _cpu_s(srv.proc.pid) - c0
            acc["roots"] += len(finished)
            for req in REQUESTS:
                acc[req] += getattr(clients, req).samples
    finally:
        srv.stop()


def main() -> None:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--attacks", default="none,recursion")
    parser.add_argument("--port", type=int, default=19100)
    parser.add_argument("--json")
    args = parser.parse_args()
    trees = {"before": args.before, "after": args.after}
    attacks = args.attacks.split(",")
    samples = {v: {a: {"list": [], "start": [], "cancel": [], "roots": 0, "cpu_s": 0.0}
                   for a in attacks} for v in trees}
    os.chdir(tempfile.mkdtemp(prefix="latency-ab-"))  # not a tree: PYTHONPATH decides
    port = args.port
    for r in range(args.rounds):
        for variant in (list(trees) if r % 2 == 0 else list(reversed(trees))):
            port += 1
            work = Path.cwd() / f"{r}-{variant}"
            work.mkdir()
            _one_server(trees[variant], port, work, attacks, samples[variant])
    summary: dict[str, Any] = {}
    for variant, by_attack in samples.items():
        for attack, acc in by_attack.items():
            row: dict[str, Any] = {req: {"n": len(acc[req]),
                                         "p50_ms": round(statistics.median(acc[req]) * 1e3, 1),
                                         "p99_ms": round(_quantile(acc[req], 0.99) * 1e3, 1)}
                                   for req in REQUESTS if acc[req]}
            row["server_cpu_ms_per_root"] = round(acc["cpu_s"] / max(1, acc["roots"]) * 1e3, 1)
            summary[f"{variant}/{attack}"] = row
            print(f"{variant}/{attack}", json.dumps(row))
    if args.json:
        Path(args.json).write_text(json.dumps({"trees": trees, "summary": summary,
                                               "samples_s": samples}, indent=1))


if __name__ == "__main__":
    main()
