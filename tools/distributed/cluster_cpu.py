"""CPU time a running cluster (cluster.py ``up``) spends per benchmark workload.

    python tools/distributed/cluster_cpu.py --dir /tmp/before --dir /tmp/after \\
        --workloads seq10,withitems1000 [--reps 3] [--json out.json]

Runs ``tools/bench/bench.py`` on the cluster's API once per workload and reads
the user+system CPU seconds of every process of the cluster (``/proc/<pid>/stat``)
before and after. CPU time does not depend much on the load of a shared machine,
so it compares two trees where wall-clock time cannot (two cores shared by many).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench.py"


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(workdir: Path, workload: str, reps: int) -> dict[str, object]:
    """Run one workload on the cluster of ``workdir``; CPU seconds per process."""
    state = json.loads((workdir / "cluster.json").read_text())
    pids: dict[str, int] = state["pids"]
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    out = subprocess.run([sys.executable, str(BENCH), "--url",
                          f"http://127.0.0.1:{state['api_port']}", "--workloads", workload,
                          "--reps", str(reps), "--poll", "0.005", "--json", "-"],
                         check=True, capture_output=True, text=True)
    cpu = {name: round(cpu_seconds(pid) - before[name], 2) for name, pid in pids.items()}
    row = json.loads(out.stdout)["results"][workload]
    return {"workload": workload, "reps": reps, "median_s": row.get("median"),
            "unit": row.get("unit"), "cpu_s": cpu, "cpu_total_s": round(sum(cpu.values()), 2),
            "loadavg": round(os.getloadavg()[0], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", action="append", default=[],
                        help="a cluster directory (repeat: the clusters take turns, "
                             "workload by workload)")
    parser.add_argument("--workloads", default="seq10")
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    results = []
    for workload in args.workloads.split(","):
        for workdir in args.dir or ["/tmp/wfaas-cluster"]:
            row = measure(Path(workdir), workload, args.reps)
            row["cluster"] = workdir
            print(f"{workdir:20} {workload:18} median {row['median_s']:8.3f}  cpu "
                  f"{row['cpu_total_s']:6.2f} s {row['cpu_s']}  load {row['loadavg']}",
                  flush=True)
            results.append(row)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
