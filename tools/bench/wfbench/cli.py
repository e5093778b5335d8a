"""Command line: run workloads, print the table, write JSON, compare two JSON files."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from typing import Any, TextIO

from . import __version__, report, sampler, workloads
from .client import WAITERS, ApiError, Client, make_waiter

EPILOG = """\
workloads (names or groups, comma-separated; default: the 'default' group):
{workloads}
groups: default = {default}
        scaling = {scaling}
        all     = every workload

examples:
  bench.py --url http://127.0.0.1:8989 --pid PID --db /path/wfaas.db --json wfaas.json
  bench.py --url http://127.0.0.1:8989 --smoke --json - >smoke.json
  bench.py --url http://127.0.0.1:8989 --workloads scaling --reps 1 --wait longpoll
  bench.py --compare wfaas.json mistral.json --markdown
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (kept separate so tests and docs can inspect it)."""
    wl = "\n".join(f"  {w.name:<18} {w.description}" for w in workloads.ALL)
    p = argparse.ArgumentParser(
        prog="bench.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Benchmark a Mistral-compatible server (wfaas or OpenStack Mistral) "
                    "over REST API v2.",
        epilog=EPILOG.format(workloads=wl, default=",".join(workloads.DEFAULT),
                             scaling=",".join(workloads.SCALING)))
    p.add_argument("--url", default="http://127.0.0.1:8989", help="server root, without /v2")
    p.add_argument("--workloads", help="names or groups, comma-separated")
    p.add_argument("--reps", type=int, help="reps per workload (default 3; 1 with --smoke)")
    p.add_argument("--poll", type=float, default=0.005, help="poll interval, s (default 0.005)")
    p.add_argument("--wait", choices=sorted(WAITERS), default="poll",
                   help="how to wait for executions: poll GET /v2/executions/<id>, or "
                        "longpoll GET ...?wait=S (falls back to polling if ignored)")
    p.add_argument("--longpoll-s", type=float, default=20.0, help="S for --wait longpoll")
    p.add_argument("--timeout", type=float, default=1800.0,
                   help="give up on an execution (or a batch) after this many s")
    p.add_argument("--seq-runs", type=int, help="executions per seq10 rep (default 20)")
    p.add_argument("--posters", type=int, help="threads POSTing concurrent executions (10)")
    p.add_argument("--no-verify", action="store_true",
                   help="skip listing the tasks of finished executions (done after timing)")
    p.add_argument("--pid", type=int, help="server pid: sample RSS of it and its children")
    p.add_argument("--rss-interval", type=float, default=0.02, help="RSS sampling period, s")
    p.add_argument("--db", help="SQLite file of the server: report its size")
    p.add_argument("--json", metavar="FILE", help="write the results as JSON ('-' = stdout)")
    p.add_argument("--markdown", action="store_true", help="print tables as Markdown")
    p.add_argument("--smoke", action="store_true",
                   help="tiny sizes, 1 rep, every workload: checks the harness and server work")
    p.add_argument("--report", metavar="FILE", help="print the table of a saved --json file")
    p.add_argument("--compare", nargs=2, metavar=("A.json", "B.json"),
                   help="print A and B side by side with ratios (e.g. wfaas vs Mistral)")
    p.add_argument("--labels", default="", help="labels for --compare, e.g. wfaas,mistral")
    return p


def _log(out: TextIO, text: str) -> None:
    print(text, file=out, flush=True)


def run_workload(ctx: workloads.Context, wl: workloads.Workload, args: argparse.Namespace,
                 out: TextIO) -> list[dict[str, Any]]:
    """Run every rep of one workload, sampling RSS; failures become failed runs."""
    overrides = {k: v for k, v in (("runs", args.seq_runs), ("posters", args.posters))
                 if v is not None}
    runs = []
    for rep in range(args.reps):
        with sampler.RssSampler(args.pid, args.rss_interval) as rss:
            try:
                run = wl.run(ctx, args.smoke, overrides)
                run["ok"] = True
            except Exception as e:  # a failed rep is reported, and the run goes on
                run = {"ok": False, "value": None, "error": _describe(e)}
        run["peak_rss_mb"] = _mb(rss.peak_kb)
        run["rss_start_mb"] = _mb(rss.start_kb)
        if args.db:
            run["db_bytes_after"] = sampler.db_bytes(args.db)
        runs.append(run)
        shown = f"{run['value']:.3f} {run['unit']}" if run["ok"] else "FAILED " + run["error"]
        rss_txt = f", peak RSS {run['peak_rss_mb']} MB" if run["peak_rss_mb"] else ""
        _log(out, f"{wl.name:<18} rep {rep + 1}/{args.reps}: {shown}{rss_txt}")
    return runs


def _describe(e: Exception) -> str:
    """The error of a failed rep; unexpected ones (harness bugs) say where they happened."""
    text = f"{type(e).__name__}: {e}"
    if not isinstance(e, ApiError | workloads.CheckFailed | TimeoutError | OSError):
        frame = traceback.extract_tb(e.__traceback__)[-1]
        text += f" (at {os.path.basename(frame.filename)}:{frame.lineno})"
    return text


def _mb(kb: int | None) -> float | None:
    return None if kb is None else round(kb / 1024, 1)


def run_all(args: argparse.Namespace, selected: list[workloads.Workload],
            out: TextIO) -> dict[str, Any]:
    """Run the selected workloads and return the whole result document."""
    client = Client(args.url, timeout=max(120.0, args.timeout))
    client.ping()
    waiter = make_waiter(args.wait, client, args.poll, args.timeout, args.longpoll_s)
    ctx = workloads.Context(client, waiter, verify=not args.no_verify)
    info: dict[str, Any] = {
        "harness": f"wfbench {__version__}", "url": args.url, "wait": args.wait,
        "poll": args.poll, "reps": args.reps, "verify": not args.no_verify,
        "smoke": args.smoke, "pid": args.pid,
        "nproc": os.cpu_count(), "python": platform.python_version(),
        "platform": platform.platform(), "argv": sys.argv[1:],
        "started": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    }
    if args.pid:
        info["server_rss_start_mb"] = _mb(sampler.tree_rss_kb(args.pid))
    _log(out, f"# wfbench {args.url}: {', '.join(w.name for w in selected)}; "
              f"{args.reps} rep(s); wait={args.wait} poll={args.poll}")
    results: dict[str, Any] = {}
    for wl in selected:
        runs = run_workload(ctx, wl, args, out)
        res: dict[str, Any] = {"description": wl.description, "params": wl.sizes(args.smoke),
               "family": wl.family, "size": wl.size(args.smoke)}
        res.update(report.summarise(runs))
        res["runs"] = runs
        results[wl.name] = res
    info["finished"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    info["requests_waiting"] = waiter.requests
    if getattr(waiter, "fell_back", False):
        info["wait"] = "longpoll (rejected by the server: polled instead)"
    if args.pid:
        info["server_VmHWM_mb"] = _mb(sampler.peak_rss_kb(args.pid))
        info["server_rss_end_mb"] = _mb(sampler.tree_rss_kb(args.pid))
    if args.db:
        info["db_bytes"] = sampler.db_bytes(args.db)
    return {"info": info, "results": results, "growth": report.growth(results)}


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns 0 when every workload succeeded, 1 if any failed, 2 on misuse."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.compare:
        labels = [x for x in args.labels.split(",") if x] or [
            os.path.splitext(os.path.basename(f))[0] for f in args.compare]
        if len(labels) != 2:
            parser.error("--labels needs two names, e.g. wfaas,mistral")
        a, b = (report.load(f) for f in args.compare)
        print(report.compare(a, b, labels[0], labels[1], args.markdown))
        return 0
    if args.report:
        print(report.results_table(report.load(args.report), args.markdown))
        return 0
    if args.reps is None:
        args.reps = 1 if args.smoke else 3
    if args.reps < 1 or args.poll < 0 or args.timeout <= 0:
        parser.error("--reps must be at least 1, --poll at least 0 and --timeout above 0")
    try:
        selected = workloads.select(args.workloads, args.smoke)
    except ValueError as e:
        parser.error(str(e))
    out = sys.stderr if args.json == "-" else sys.stdout
    try:
        doc = run_all(args, selected, out)
    except (ApiError, OSError, ValueError) as e:
        print(f"bench.py: cannot benchmark {args.url}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench.py: interrupted", file=sys.stderr)
        return 130
    _log(out, "\n" + report.results_table(doc, args.markdown))
    if args.json == "-":
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif args.json:
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=2)
    return 0 if all(r["status"] == "ok" for r in doc["results"].values()) else 1
