"""Fault injection against a real multi-process deployment (issue 20's table).

    python tools/distributed/faults.py --executions 200 --scenario broker --scenario engine ...
    python tools/distributed/faults.py --all --json tools/bench/results/faults.json

Each scenario starts a fresh cluster (:class:`cluster.Cluster`: 2 engines, 2
executors, 1 API, 1 scheduler on PostgreSQL + RabbitMQ), starts ``N``
executions of a workflow whose actions are ``std.http`` calls to a local
*counter* server, injects one fault a few seconds in, and waits until every
execution is finished (or ``--wait`` seconds passed). The counter records
every real run of every action, keyed by execution and task (and item), with
its start and end time, so the report can tell:

- ``stuck``: executions still RUNNING at the end;
- ``twice``: actions of tasks that are not ``safe-rerun`` that really ran more
  than once (must be 0), and ``twice_safe`` for safe-rerun tasks;
- ``error_never_ran``: ERROR executions whose failed action never ran;
- ``error_live``: ERROR executions whose failed action ran, but not on a
  killed executor (must be 0);
- ``error_killed``: ERROR executions whose action ran on the killed executor
  (failed as "lost": the executor that accepted it stopped its heartbeats, which
  only a killed executor does here; it may have finished its call and died
  before reporting) or was in flight at the kill; expected unless safe-rerun;
- ``error_accepted_killed``: ERROR executions whose action had been accepted
  by the killed executor (its heartbeats stopped: "was lost") but had not
  reached the counter yet when the process died: it was running there, in
  its first milliseconds.

Scenarios (``--scenario``, repeatable): ``none``, ``broker`` (``rabbitmqctl
stop_app; sleep 5; start_app``), ``engine`` (kill -9 of one engine),
``executor`` (kill -9 of one executor), ``both`` (kill -9 of an engine and an
executor, not restarted), ``both-restart`` (both restarted after 10 s).
Workloads (``--workload``): ``seq`` (3 tasks, the middle one waits 1 s),
``safe`` (the same, middle task ``safe-rerun: true``), ``items`` (the middle
task is a with-items over 3 items) and ``sub`` (the middle task is a
sub-workflow of two tasks).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tools.distributed.cluster import Cluster  # noqa: E402

TERMINAL = ("SUCCESS", "ERROR", "CANCELLED")

WORKFLOWS = """version: '2.0'
fault_seq:
  input: [base]
  tasks:
    t1:
      action: std.http url="<% $.base %>/run/<% execution().id %>/t1"
      on-success: [t2]
    t2:
      action: std.http url="<% $.base %>/run/<% execution().id %>/t2?sleep=1"
      on-success: [t3]
    t3:
      action: std.http url="<% $.base %>/run/<% execution().id %>/t3"
fault_safe:
  input: [base]
  tasks:
    t1:
      action: std.http url="<% $.base %>/run/<% execution().id %>/t1"
      on-success: [t2]
    t2:
      action: std.http url="<% $.base %>/run/<% execution().id %>/t2?sleep=1"
      safe-rerun: true
      on-success: [t3]
    t3:
      action: std.http url="<% $.base %>/run/<% execution().id %>/t3"
fault_items:
  input: [base]
  tasks:
    t1:
      action: std.http url="<% $.base %>/run/<% execution().id %>/t1"
      on-success: [t2]
    t2:
      with-items: i in <% [0, 1, 2] %>
      action: std.http url="<% $.base %>/run/<% execution().id %>/t2-<% $.i %>?sleep=1"
      on-success: [t3]
    t3:
      action: std.http url="<% $.base %>/run/<% execution().id %>/t3"
fault_child:
  input: [base]
  tasks:
    c1:
      action: std.http url="<% $.base %>/run/<% execution().id %>/c1?sleep=1"
      on-success: [c2]
    c2:
      action: std.http url="<% $.base %>/run/<% execution().id %>/c2"
fault_sub:
  input: [base]
  tasks:
    t1:
      action: std.http url="<% $.base %>/run/<% execution().id %>/t1"
      on-success: [t2]
    t2:
      workflow: fault_child base=<% $.base %>
      on-success: [t3]
    t3:
      action: std.http url="<% $.base %>/run/<% execution().id %>/t3"
"""
WORKLOADS = {"seq": "fault_seq", "safe": "fault_safe", "items": "fault_items",
             "sub": "fault_sub"}
SCENARIOS = ("none", "broker", "engine", "executor", "both", "both-restart")


# ---------------------------------------------------------------- the counter
class Counter:
    """An HTTP server recording each real run of ``/run/<key...>`` (start, end)."""

    def __init__(self) -> None:
        self.runs: dict[str, list[list[float]]] = {}
        self.lock = threading.Lock()
        counter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                parts = urlsplit(self.path)
                key = parts.path.removeprefix("/run/")
                sleep = float((parse_qs(parts.query).get("sleep") or ["0"])[0])
                run = [time.time(), 0.0]
                with counter.lock:
                    counter.runs.setdefault(key, []).append(run)
                time.sleep(sleep)
                body = json.dumps({"key": key}).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the caller died (a killed executor)
                finally:
                    run[1] = time.time()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Counter:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------- one scenario
@dataclass
class Outcome:
    """The counts of one scenario run (see the module docstring)."""

    scenario: str
    workload: str
    executions: int
    success: int = 0
    error: int = 0
    stuck: int = 0
    twice: int = 0
    twice_safe: int = 0
    error_never_ran: int = 0
    error_live: int = 0
    error_killed: int = 0
    error_accepted_killed: int = 0
    #: real action runs recorded by the counter (all of them, duplicates included)
    runs: int = 0
    #: SUCCESS executions whose task rows are not exactly t1, t2, t3 (lost or duplicated)
    wrong_tasks: int = 0
    wall_s: float = 0.0
    errors: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    def ok(self) -> bool:
        """The guarantees of issue 20 held."""
        return not (self.stuck or self.twice or self.error_never_ran or self.error_live
                    or self.wrong_tasks)


def rabbit_restart(pause: float = 5.0) -> None:
    """``rabbitmqctl stop_app; sleep; start_app`` (started again whatever happens)."""
    try:
        subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True,
                       timeout=120)
        time.sleep(pause)
    finally:
        subprocess.run(["rabbitmqctl", "start_app"], check=False, capture_output=True,
                       timeout=120)
        subprocess.run(["rabbitmqctl", "await_startup"], check=False, capture_output=True,
                       timeout=120)


def inject(cluster: Cluster, scenario: str) -> dict[str, float]:
    """Inject ``scenario``; returns {process name: kill time} of killed executors."""
    killed: dict[str, float] = {}
    if scenario == "broker":
        rabbit_restart()
    if scenario in ("engine", "both", "both-restart"):
        cluster.kill("engine1")
    if scenario in ("executor", "both", "both-restart"):
        killed["executor1"] = time.time()
        cluster.kill("executor1")
    if scenario == "both-restart":
        time.sleep(10)
        cluster.start("engine1")
        cluster.start("executor1")
    return killed


def start_executions(cluster: Cluster, workflow: str, count: int, base: str,
                     threads: int = 8) -> list[str]:
    """POST ``count`` executions from ``threads`` client threads."""
    import requests

    ids: list[str] = []
    lock = threading.Lock()

    def post(n: int) -> None:
        session = requests.Session()
        for _ in range(n):
            resp = session.post(cluster.api_url + "/v2/executions", timeout=60, json={
                "workflow_name": workflow, "input": json.dumps({"base": base})})
            resp.raise_for_status()
            with lock:
                ids.append(resp.json()["id"])

    shares = [count // threads + (1 if i < count % threads else 0) for i in range(threads)]
    workers = [threading.Thread(target=post, args=(n,)) for n in shares if n]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return ids


def states(cluster: Cluster, ids: list[str]) -> dict[str, tuple[str, str | None]]:
    """{execution id: (state, state_info)} read from the database."""
    from sqlalchemy import create_engine, select

    from wfaas.db import models as m

    engine = create_engine(cluster.db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(m.WorkflowExecution.id, m.WorkflowExecution.state,
                                       m.WorkflowExecution.state_info)
                                .where(m.WorkflowExecution.id.in_(ids))).all()
    finally:
        engine.dispose()
    return {r[0]: (r[1], r[2]) for r in rows}


def failed_actions(cluster: Cluster, ids: list[str], workload: str
                   ) -> dict[str, list[tuple[str, str]]]:
    """{root execution id: [(counter key, state_info) of its ERROR actions]}."""
    from sqlalchemy import create_engine, select

    from wfaas.db import models as m

    a, ex = m.ActionExecution, m.WorkflowExecution
    engine = create_engine(cluster.db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(a.workflow_execution_id, a.task_name,
                                       a.runtime_context, a.state_info, ex.root_execution_id)
                                .join(ex, ex.id == a.workflow_execution_id)
                                .where(a.state == "ERROR")).all()
    finally:
        engine.dispose()
    out: dict[str, list[tuple[str, str]]] = {}
    wanted = set(ids)
    for ex_id, task, rc, info, root in rows:
        if (root or ex_id) not in wanted:
            continue
        if workload == "items" and task == "t2":
            task = f"t2-{(rc or {}).get('index', 0)}"
        out.setdefault(root or ex_id, []).append((f"{ex_id}/{task}", str(info or "")))
    return out


def task_names(cluster: Cluster, ids: list[str]) -> dict[str, list[str]]:
    """{execution id: the sorted names of its task executions, one per row}."""
    from sqlalchemy import create_engine, select

    from wfaas.db import models as m

    t = m.TaskExecution
    engine = create_engine(cluster.db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(t.workflow_execution_id, t.name)
                                .where(t.workflow_execution_id.in_(ids))).all()
    finally:
        engine.dispose()
    out: dict[str, list[str]] = {i: [] for i in ids}
    for ex_id, name in rows:
        out[ex_id].append(name)
    return {k: sorted(v) for k, v in out.items()}


def classify(outcome: Outcome, counter: Counter, cluster: Cluster, ids: list[str],
             killed: dict[str, float]) -> None:
    """Fill ``outcome`` from the final states and the counter's records."""
    final = states(cluster, ids)
    outcome.success = sum(1 for s, _ in final.values() if s == "SUCCESS")
    outcome.error = sum(1 for s, _ in final.values() if s == "ERROR")
    outcome.stuck = sum(1 for s, _ in final.values() if s not in TERMINAL)
    with counter.lock:
        runs = {k: list(v) for k, v in counter.runs.items()}
    outcome.runs = sum(len(times) for times in runs.values())
    names = task_names(cluster, [i for i, (s, _) in final.items() if s == "SUCCESS"])
    for ex_id, tasks in names.items():
        if tasks != ["t1", "t2", "t3"]:
            outcome.wrong_tasks += 1
            outcome.details.append(f"tasks of {ex_id}: {tasks}")
    safe_tasks = {"t2"} if outcome.workload == "safe" else set()
    for key, times in runs.items():
        if len(times) > 1:
            task = key.rsplit("/", 1)[-1].split("-")[0]
            if task in safe_tasks:
                outcome.twice_safe += 1
            else:
                outcome.twice += 1
                outcome.details.append(f"ran {len(times)} times: {key}")
    kill_times = list(killed.values())
    failures = failed_actions(cluster, ids, outcome.workload)
    for root, (state, info) in final.items():
        if state != "ERROR":
            continue
        outcome.errors.append(str(info)[:200])
        for key, info in failures.get(root, []):
            ran = runs.get(key, [])
            lost = "was lost" in info and bool(kill_times)
            if lost and not ran:
                outcome.error_accepted_killed += 1
            elif not ran:
                outcome.error_never_ran += 1
                outcome.details.append(f"ERROR, never ran: {key}")
            elif lost or any(start <= kt <= (end or kt) for start, end in ran
                             for kt in kill_times):
                outcome.error_killed += 1
            else:
                outcome.error_live += 1
                outcome.details.append(f"ERROR, ran on a live executor: {key}")


def fault_cluster(workdir: Path, *, short_heartbeats: bool = False) -> Cluster:
    """A cluster as the scenarios need it (not started): executor path for every action,
    std.http allowed to reach the counter, optionally heartbeats every second."""
    heartbeat = ({"check_interval": 1, "max_missed_heartbeats": 5, "engine_lease": 5}
                 if short_heartbeats else {})
    return Cluster(workdir, extra_conf={
        "engine": {"pure_actions_per_step": 0},
        "action_std_http": {"allowed_hosts": "127.0.0.1"},
        "action_heartbeat": heartbeat},
        server_command=(str(Path(__file__).resolve().parent / "serve.py"),))


def start_cluster(cluster: Cluster) -> None:
    """Start ``cluster`` and upload the scenario workflows."""
    import requests

    cluster.up(timeout=120)
    resp = requests.post(cluster.api_url + "/v2/workflows", data=WORKFLOWS,
                         headers={"Content-Type": "text/plain"}, timeout=60)
    resp.raise_for_status()


def run_on(cluster: Cluster, scenario: str, workload: str, executions: int, *,
           fault_at: float = 3.0, wait: float = 300.0) -> Outcome:
    """``executions`` runs of ``workload`` on a running ``cluster`` (every process
    started again first), ``scenario`` injected at ``fault_at`` s."""
    for name in cluster.procs:
        cluster.start(name)
    outcome = Outcome(scenario, workload, executions)
    with Counter() as counter:
        t0 = time.time()
        ids: list[str] = []
        poster = threading.Thread(target=lambda: ids.extend(start_executions(
            cluster, WORKLOADS[workload], executions, counter.base)))
        poster.start()
        time.sleep(fault_at)
        killed = inject(cluster, scenario) if scenario != "none" else {}
        poster.join()
        deadline = time.time() + wait
        while time.time() < deadline:
            if all(s in TERMINAL for s, _ in states(cluster, ids).values()):
                break
            time.sleep(1)
        outcome.wall_s = round(time.time() - t0, 1)
        classify(outcome, counter, cluster, ids, killed)
    return outcome


def run_scenario(scenario: str, workload: str, executions: int, *, workdir: Path,
                 fault_at: float = 3.0, wait: float = 300.0, short_heartbeats: bool = False,
                 log: Any = print) -> Outcome:
    """One fresh cluster, ``executions`` runs of ``workload``, ``scenario`` at ``fault_at``."""
    cluster = fault_cluster(workdir, short_heartbeats=short_heartbeats)
    outcome = Outcome(scenario, workload, executions)
    try:
        start_cluster(cluster)
        outcome = run_on(cluster, scenario, workload, executions, fault_at=fault_at,
                         wait=wait)
    finally:
        if not outcome.ok():
            log(cluster.logs(tail=30))
        cluster.down()
    return outcome


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", action="append", choices=SCENARIOS, default=[])
    parser.add_argument("--workload", action="append", choices=sorted(WORKLOADS), default=[])
    parser.add_argument("--all", action="store_true", help="every scenario x workload seq")
    parser.add_argument("--executions", type=int, default=200)
    parser.add_argument("--wait", type=float, default=300.0,
                        help="seconds to wait for every execution after the last POST")
    parser.add_argument("--short-heartbeats", action="store_true",
                        help="check_interval 1 s, lost after 5 s (default: 10 s x 6)")
    parser.add_argument("--dir", default="/tmp/wfaas-faults")
    parser.add_argument("--json", help="append the outcomes to this JSON file")
    args = parser.parse_args()
    scenarios = list(SCENARIOS) if args.all else (args.scenario or ["broker"])
    workloads = args.workload or ["seq"]
    results = []
    for scenario in scenarios:
        for workload in workloads:
            out = run_scenario(scenario, workload, args.executions,
                               workdir=Path(args.dir) / f"{scenario}-{workload}",
                               wait=args.wait, short_heartbeats=args.short_heartbeats)
            row = asdict(out)
            row["errors"] = sorted(set(out.errors))[:5]
            results.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "details"}), flush=True)
            for line in out.details[:20]:
                print("   ", line, flush=True)
    if args.json:
        path = Path(args.json)
        old = json.loads(path.read_text()) if path.exists() else []
        path.write_text(json.dumps(old + results, indent=1))


if __name__ == "__main__":
    _main()
