"""Interleaved A/B of what a sub-workflow costs a wfaas-server, in sequential tasks.

    python tools/bench/profiles/subworkflow_ab.py --rounds 3 --width 200 --reps 3 \
        --port 9240 'base=env PYTHONPATH=/tmp/base /venv/bin/wfaas-server --config-file {conf}' \
        'new=/venv/bin/wfaas-server --config-file {conf}'

Each round starts every server once (the order alternates from round to round) on a
fresh SQLite state directory and port ``--port`` + its index, stores three workflows
and runs each ``--reps`` times, measuring the server's CPU seconds (``/proc/PID/stat``)
and the bytes it passed to write() (``wchar``, SQLite's WAL included):

- ``subs``: a with-items over ``range(width)`` whose task runs ``nest_leaf`` (one
  ``std.noop`` task): CPU per sub-workflow;
- ``seqsub``: ``width`` sequential tasks, each running ``nest_leaf``: CPU per task;
- ``seq``: ``width`` sequential ``std.noop`` tasks: the yardstick "one task".

A server command's ``{conf}`` is replaced by its configuration file; it runs under
``exec`` (so its pid is the server's): set variables with ``env``. Prints one line per
server and round, then the medians and the ratios to ``seq``; ``--json`` keeps them.
The 50 ms status polls of the runner count for every server alike.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from typing import Any

LEAF = "---\nversion: '2.0'\nnest_leaf:\n  tasks:\n    t:\n      action: std.noop\n"
KINDS = ("subs", "seqsub", "seq")


def fan(width: int) -> str:
    """The with-items of ``width`` sub-workflows."""
    return (f"---\nversion: '2.0'\nsubs:\n  tasks:\n    fan:\n"
            f"      with-items: i in <% range({width}) %>\n      workflow: nest_leaf\n")


def sequence(name: str, width: int, run: str) -> str:
    """``width`` tasks one after the other, each running ``run``."""
    lines = ["---", "version: '2.0'", f"{name}:", "  tasks:"]
    for i in range(width):
        lines += [f"    t{i}:", f"      {run}"]
        if i < width - 1:
            lines.append(f"      on-success: t{i + 1}")
    return "\n".join(lines) + "\n"


def proc_cpu(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_wchar(pid: int) -> int:
    """Bytes the process passed to write()."""
    with open(f"/proc/{pid}/io") as fh:
        for line in fh:
            if line.startswith("wchar:"):
                return int(line.split()[1])
    return 0


def call(url: str, method: str = "GET", body: str | None = None,
         ctype: str = "application/json") -> Any:
    """One REST call; the decoded JSON answer."""
    req = urllib.request.Request(url, data=body.encode() if body else None, method=method,
                                 headers={"Content-Type": ctype})
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.loads(resp.read() or b"{}")


def run(base: str, name: str) -> None:
    """Start ``name`` and poll until it ends; it must succeed."""
    ex = call(base + "/v2/executions", "POST", json.dumps({"workflow_name": name}))
    while True:
        state = call(f"{base}/v2/executions/{ex['id']}")["state"]
        if state in ("SUCCESS", "ERROR", "CANCELLED"):
            if state != "SUCCESS":
                raise RuntimeError(f"{name} ended {state}")
            return
        time.sleep(0.05)


def one_server(cmd: str, port: int, width: int, reps: int) -> dict[str, list[float]]:
    """Start the server, measure every workload ``reps`` times, stop it."""
    state = tempfile.mkdtemp(prefix="subworkflow-ab-")
    conf = os.path.join(state, "wfaas.conf")
    with open(conf, "w") as fh:
        fh.write(f"[DEFAULT]\nstate_dir = {state}\n[api]\nport = {port}\n")
    with open(os.path.join(state, "server.err"), "w") as err:
        proc = subprocess.Popen("exec " + cmd.replace("{conf}", conf), shell=True,
                                stdout=subprocess.DEVNULL, stderr=err)
    base = f"http://127.0.0.1:{port}"
    out: dict[str, list[float]] = {k: [] for k in (*KINDS, *(k + "_wchar" for k in KINDS))}
    try:
        for _ in range(300):
            try:
                call(base + "/v2/workflows")
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"no server on {base}: see {state}/server.err")
        for doc in (LEAF, fan(width), sequence("seqsub", width, "workflow: nest_leaf"),
                    sequence("seq", width, "action: std.noop")):
            call(base + "/v2/workflows", "POST", doc, "text/plain")
        for kind in KINDS:  # warm-up
            run(base, kind)
        for _ in range(reps):
            for kind in KINDS:
                cpu, written = proc_cpu(proc.pid), proc_wchar(proc.pid)
                run(base, kind)
                out[kind].append((proc_cpu(proc.pid) - cpu) / width * 1e3)
                out[kind + "_wchar"].append((proc_wchar(proc.pid) - written) / width)
    finally:
        proc.terminate()
        proc.wait(30)
        if proc.returncode in (0, -15):
            shutil.rmtree(state, ignore_errors=True)
    return out


def median(values: list[float]) -> float:
    """The median (upper one of an even count)."""
    return sorted(values)[len(values) // 2]


def main() -> None:
    """Run the rounds and print the per-unit medians."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("servers", nargs="+", help="NAME=COMMAND ({conf}: its config file)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--width", type=int, default=200)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--port", type=int, default=9240)
    p.add_argument("--json", default="")
    args = p.parse_args()
    servers = [s.split("=", 1) for s in args.servers]
    results: dict[str, dict[str, list[float]]] = {
        name: {k: [] for k in (*KINDS, *(k + "_wchar" for k in KINDS))} for name, _ in servers}
    for rnd in range(args.rounds):
        order = list(enumerate(servers))
        for index, (name, cmd) in (order if rnd % 2 == 0 else order[::-1]):
            got = one_server(cmd, args.port + index, args.width, args.reps)
            for key, values in got.items():
                results[name][key].extend(values)
            print(name, rnd, {k: [round(v, 3) for v in vs] for k, vs in got.items()
                              if not k.endswith("_wchar")}, flush=True)
    summary = {}
    for name, _ in servers:
        med = {k: median(v) for k, v in results[name].items()}
        summary[name] = {**med, "subs_in_tasks": med["subs"] / med["seq"],
                         "seqsub_in_tasks": med["seqsub"] / med["seq"]}
        print(f"{name}: CPU ms per with-items sub-workflow {med['subs']:.3f}, per sequential "
              f"sub-workflow task {med['seqsub']:.3f}, per noop task {med['seq']:.3f} "
              f"(= {summary[name]['subs_in_tasks']:.2f} / "
              f"{summary[name]['seqsub_in_tasks']:.2f} tasks); wchar per unit "
              f"{med['subs_wchar']:.0f} / {med['seqsub_wchar']:.0f} / {med['seq_wchar']:.0f} B "
              f"(n={len(results[name]['subs'])})")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"raw": results, "median": summary}, fh, indent=1)


if __name__ == "__main__":
    main()
