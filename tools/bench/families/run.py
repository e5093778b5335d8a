#!/usr/bin/env python3
"""Run the scaling families against a Mistral-compatible server over REST API v2.

    python3 tools/bench/families/run.py --url http://127.0.0.1:8989 \\
        --family context,nesting --json out.json [--pid PID] [--label wfaas] [--reps 3]

Stdlib only. ``--family`` takes family names (``all`` for every one) and paths of
standalone scripts (``*.py``): those are run as ``python SCRIPT --url URL [ARGS]``
(``ARGS`` = whatever follows ``--``), and the JSON they print is stored under the
script's name. See docs/bench.md.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import fam_context  # noqa: E402
import fam_listing  # noqa: E402
import fam_nesting  # noqa: E402
import fam_real_action  # noqa: E402
import fam_retries  # noqa: E402
import fam_seq  # noqa: E402
from fam_common import Ctx, HitServer, Point, measure  # noqa: E402
from wfbench import sampler  # noqa: E402
from wfbench.client import ApiError, Client, make_waiter  # noqa: E402

#: Built-in families, in the order ``all`` runs them (listing first: it counts rows).
FAMILIES: dict[str, Callable[[bool], list[Point]]] = {
    "listing": fam_listing.points,
    "seq_n": fam_seq.points,
    "context": fam_context.points,
    "real_action": fam_real_action.points,
    "retries": fam_retries.points,
    "nesting": fam_nesting.points,
}
_MODULES = {"listing": fam_listing, "seq_n": fam_seq, "context": fam_context,
            "real_action": fam_real_action, "retries": fam_retries, "nesting": fam_nesting}


def describe(name: str) -> str:
    """First paragraph of a family module's docstring, on one line."""
    return " ".join((_MODULES[name].__doc__ or "").strip().split("\n\n")[0].split())


def select(spec: str) -> list[str]:
    """Family names and script paths, in order, duplicates dropped; ValueError if unknown."""
    out: list[str] = []
    for item in (x.strip() for x in spec.split(",")):
        if not item:
            continue
        names = list(FAMILIES) if item == "all" else [item]
        for name in names:
            if name not in FAMILIES and not name.endswith(".py"):
                raise ValueError(f"unknown family {name!r} (known: {', '.join(FAMILIES)}, "
                                 "all, or a script path ending in .py)")
            if name not in out:
                out.append(name)
    return out


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(
        prog="run.py", description="Scaling families over REST API v2 (wfaas or Mistral).",
        epilog="families: " + "; ".join(f"{n}: {describe(n)}" for n in FAMILIES))
    p.add_argument("--url", default="http://127.0.0.1:8989", help="server root, without /v2")
    p.add_argument("--family", required=True, help="names or script paths, comma-separated")
    p.add_argument("--json", metavar="FILE", help="write the results here ('-' = stdout)")
    p.add_argument("--label", default="", help="name of this server in reports, e.g. mistral")
    p.add_argument("--reps", type=int, help="reps per point (default 3; 1 with --smoke)")
    p.add_argument("--smoke", action="store_true", help="smallest sizes, 1 rep (CI)")
    p.add_argument("--pid", type=int, help="server pid: its CPU seconds, bytes written, RSS")
    p.add_argument("--poll", type=float, default=0.005, help="poll interval, s")
    p.add_argument("--timeout", type=float, default=1800.0, help="per execution, s")
    p.add_argument("--http-port", type=int, default=0,
                   help="port of the loopback HTTP server for std.http (0: any free one)")
    p.add_argument("--no-verify", action="store_true", help="skip the after-timing checks")
    p.add_argument("--skip", default="", metavar="FAMILY:POINT,...",
                   help="leave out these points: 'family:name' patterns, '*' matches any "
                        "text (e.g. 'seq_n:n=1000,nesting:d=[23] w=50'); a slow server "
                        "then runs fewer points rather than fewer families")
    p.add_argument("ext_args", nargs=argparse.REMAINDER,
                   help="after --: arguments for the standalone scripts")
    return p


def skipped(spec: str) -> Callable[[Point], bool]:
    """A predicate: is a point named by one of the comma-separated ``family:name`` patterns
    (``fnmatch`` syntax, whole name)?"""
    patterns = [x.strip() for x in spec.split(",") if x.strip()]
    return lambda p: any(fnmatch.fnmatchcase(f"{p.family}:{p.name}", pat) for pat in patterns)


def run_external(script: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run a standalone family script and keep the JSON it prints."""
    extra = [a for a in args.ext_args if a != "--"]
    cmd = [sys.executable, script, "--url", args.url, *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout * 4)
    res: dict[str, Any] = {"external": script, "argv": cmd[1:],
                           "wall_s": round(time.perf_counter() - t0, 3),
                           "returncode": proc.returncode}
    try:
        res["output"] = json.loads(proc.stdout)
        res["status"] = "ok" if proc.returncode == 0 else "failed"
    except ValueError:
        res["status"] = "failed"
        res["errors"] = [f"no JSON on stdout (exit {proc.returncode}): "
                         + (proc.stderr or proc.stdout)[-500:]]
    if isinstance(res.get("output"), dict) and isinstance(res["output"].get("points"), list):
        res["points"] = res["output"]["points"]
    return res


def _status(points: list[dict[str, Any]]) -> str:
    states = {p.get("status") for p in points}
    return "ok" if states == {"ok"} else ("failed" if "ok" not in states else "partial")


def run_all(args: argparse.Namespace, names: list[str]) -> dict[str, Any]:
    """Run the selected families; return the result document."""
    client = Client(args.url, timeout=max(120.0, args.timeout))
    client.ping()
    waiter = make_waiter("poll", client, args.poll, args.timeout)
    hits = HitServer(args.http_port)
    pids = sampler.process_tree(args.pid) if args.pid else []
    ctx = Ctx(client, waiter, hits, verify=not args.no_verify, pids=pids)
    info: dict[str, Any] = {
        "harness": "tools/bench/families/run.py", "label": args.label, "url": args.url,
        "reps": args.reps, "smoke": args.smoke, "poll": args.poll, "pid": args.pid,
        "nproc": os.cpu_count(), "python": platform.python_version(),
        "loadavg_start": os.getloadavg()[0], "skip": args.skip, "argv": sys.argv[1:],
        "started": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    }
    families: dict[str, Any] = {}
    skip = skipped(args.skip)

    def log(text: str) -> None:
        print(text, file=sys.stderr if args.json == "-" else sys.stdout, flush=True)

    try:
        for name in names:
            if name.endswith(".py"):
                log(f"{name}: running the standalone script")
                families[os.path.splitext(os.path.basename(name))[0]] = run_external(name, args)
                continue
            pts = [measure(ctx, p, args.reps, args.pid, log)
                   for p in FAMILIES[name](args.smoke) if not skip(p)]
            families[name] = {"description": describe(name), "status": _status(pts),
                              "points": pts}
    finally:
        hits.close()
    info["finished"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    info["loadavg_end"] = os.getloadavg()[0]
    if args.pid:
        info["server_VmHWM_mb"] = round(sampler.peak_rss_kb(args.pid) / 1024, 1)
    return {"info": info, "families": families}


def main(argv: list[str] | None = None) -> int:
    """0 when every point succeeded, 1 if any failed, 2 on misuse or an unreachable server."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.reps is None:
        args.reps = 1 if args.smoke else 3
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    try:
        names = select(args.family)
    except ValueError as e:
        parser.error(str(e))
    try:
        doc = run_all(args, names)
    except (ApiError, OSError) as e:
        print(f"run.py: cannot benchmark {args.url}: {e}", file=sys.stderr)
        return 2
    text = json.dumps(doc, indent=1)
    if args.json == "-":
        print(text)
    elif args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    return 0 if all(f.get("status") == "ok" for f in doc["families"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
