"""Run tools/bench/bench.py workload by workload and add the server's CPU time per rep.

    /work/venv/bin/python tools/bench/profiles/server_cpu.py --url http://127.0.0.1:8989 \
        --pid PID [--workloads seq10,parallel100] [--reps 3] [--json out.json]

On a machine shared with other jobs, wall times swing 2-3x with the load; the CPU
seconds the server process (all its threads) spent on a workload move much less, and
on a quiet 2-core machine the wall time of a CPU-bound workload approaches them. Both
are printed, with the load average at the start of each workload. The verification
GETs of the harness are skipped (``--no-verify``) so they do not count.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(os.path.dirname(HERE), "bench.py")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all threads), in seconds."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    """Print one line per workload: wall median, server CPU per rep, load average."""
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--workloads", default="seq10,parallel100,withitems1000,"
                                          "withitems1000_c20,fanout100_join,publish50")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--json", default="")
    p.add_argument("extra", nargs="*", help="more bench.py arguments (after --)")
    a = p.parse_args()
    rows = []
    for name in a.workloads.split(","):
        out = os.path.join(tempfile.mkdtemp(prefix="wfaas-cpu-"), "r.json")
        # register the workflows first so the definition upload is not counted
        subprocess.run([sys.executable, BENCH, "--url", a.url, "--workloads", name,
                        "--reps", "1", "--no-verify", "--smoke"], capture_output=True,
                       check=False)
        load = os.getloadavg()[0]
        c0 = cpu_seconds(a.pid)
        subprocess.run([sys.executable, BENCH, "--url", a.url, "--workloads", name,
                        "--reps", str(a.reps), "--no-verify", "--json", out, *a.extra],
                       capture_output=True, check=False)
        cpu = (cpu_seconds(a.pid) - c0) / a.reps
        with open(out) as fh:
            data = json.load(fh)
        wl = data["results"][name]
        median = wl.get("median")
        if name == "seq10":
            cpu /= 20  # 20 workflows per rep; the median is per workflow
        rows.append({"workload": name, "median_s": median, "server_cpu_s": round(cpu, 4),
                     "load": round(load, 2), "status": wl.get("status")})
        print(f"{name:18s} {wl.get('status', '?'):7s} wall median {median:8.4f}s  "
              f"server cpu/rep {cpu:8.4f}s  (load {load:.2f})", flush=True)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
