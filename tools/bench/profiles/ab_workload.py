"""Interleaved A/B of one bench workload: server CPU per rep and wall times, two trees.

    python3 tools/bench/profiles/ab_workload.py \
        --trees base=/tmp/base,new=/work/wt/x --rounds 4 --reps 4 [--workload parallel100] \
        [--extra '[engine]\\npure_actions_per_step = 0'] [--port 9221] [--json out.json]

Each round starts a fresh ``wfaas-server`` per tree (``PYTHONPATH=<tree>``, a new SQLite
file, ``PYTHONHASHSEED=0``), runs one warm-up rep (registers the workflows), then
``--reps`` reps of ``bench.py --no-verify``; the server's utime + stime over those reps
is divided by ``--reps``. The order of the trees alternates between rounds. On a shared
machine the CPU per rep moves far less than the wall times.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(os.path.dirname(HERE), "bench.py")
sys.path.insert(0, HERE)
from server_cpu import cpu_seconds  # noqa: E402  (the script's neighbour)


def start(tree: str, port: int, folder: str, extra: str) -> subprocess.Popen[bytes]:
    """A fresh server of ``tree`` on ``port`` with its state in ``folder``."""
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    with open(f"{folder}/wfaas.conf", "w") as fh:
        fh.write(f"[DEFAULT]\nstate_dir = {folder}\n[api]\nhost = 127.0.0.1\nport = {port}\n"
                 f"[database]\nconnection = sqlite:///{folder}/wfaas.db\n{extra}\n")
    env = dict(os.environ, PYTHONPATH=tree, PYTHONHASHSEED="0")
    with open(f"{folder}/server.log", "wb") as log:
        # cwd: ``python -m`` puts the working directory first on sys.path, before
        # PYTHONPATH; started from a checkout, both trees would run that checkout's code
        proc = subprocess.Popen([sys.executable, "-m", "wfaas.cmd.server", "--config-file",
                                 f"{folder}/wfaas.conf"], env=env, stdout=log,
                                stderr=subprocess.STDOUT, cwd=folder)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/workflows?limit=1", timeout=1)
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"the server of {tree} did not start (see {folder}/server.log)")


def bench(port: int, workload: str, reps: int) -> dict[str, Any]:
    """Run ``reps`` reps of ``workload``; bench.py's JSON."""
    out = subprocess.run([sys.executable, BENCH, "--url", f"http://127.0.0.1:{port}",
                          "--workloads", workload, "--reps", str(reps), "--no-verify",
                          "--json", "-"], capture_output=True, text=True, check=True).stdout
    result: dict[str, Any] = json.loads(out)
    return result


def main() -> None:
    """Print one line per (round, tree) and the medians per tree."""
    p = argparse.ArgumentParser()
    p.add_argument("--trees", required=True, help="name=path,name=path")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--reps", type=int, default=4)
    p.add_argument("--port", type=int, default=9221)
    p.add_argument("--extra", default="", help="config lines (\\n for new lines)")
    p.add_argument("--workload", default="parallel100")
    p.add_argument("--state", default="/tmp/ab-workload")
    p.add_argument("--json", default="")
    a = p.parse_args()
    trees = [t.split("=", 1) for t in a.trees.split(",")]
    res: dict[str, dict[str, list[float]]] = {n: {"cpu": [], "wall": []} for n, _ in trees}
    for rnd in range(a.rounds):
        for name, tree in trees if rnd % 2 == 0 else trees[::-1]:
            proc = start(tree, a.port, f"{a.state}/{name}", a.extra.replace("\\n", "\n"))
            try:
                bench(a.port, a.workload, 1)
                c0 = cpu_seconds(proc.pid)
                data = bench(a.port, a.workload, a.reps)
                c1 = cpu_seconds(proc.pid)
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)
            walls = [r["value"] for r in data["results"][a.workload]["runs"]]
            res[name]["cpu"].append((c1 - c0) / a.reps)
            res[name]["wall"] += walls
            print(f"round {rnd} {name}: cpu/rep {(c1 - c0) / a.reps:.3f} s, walls "
                  f"{[round(w, 3) for w in walls]}, load {os.getloadavg()[0]:.1f}", flush=True)
    for name, got in res.items():
        print(f"{name}: cpu/rep median {statistics.median(got['cpu']):.3f} s, wall median "
              f"{statistics.median(got['wall']):.3f} s ({len(got['wall'])} reps)")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
