"""Start and stop a local multi-process wfaas deployment (one process per role).

    python tools/distributed/cluster.py up   --dir /tmp/wfaas-cluster [--engines 2] ...
    python tools/distributed/cluster.py down --dir /tmp/wfaas-cluster

``up`` creates a dedicated PostgreSQL database (``wfaas_<hex>`` on
127.0.0.1:5432, user postgres, trust auth) and migrates it, picks a unique
RabbitMQ queue prefix, writes one config file per process into ``--dir`` and
starts ``wfaas-server --server <role>`` for 2 engines, 2 executors, 1 API and
1 scheduler by default; logs go to ``<dir>/<name>.log``. ``down`` stops the
processes (SIGTERM, then SIGKILL), drops the database and deletes the queues.
Tests use :class:`Cluster` directly (kill -9 a process, restart it ...).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/"
BROKER = "rabbit://guest:guest@127.0.0.1:5672/"


def free_port() -> int:
    """A TCP port nobody listens on right now (within ``$WFAAS_CLUSTER_PORTS``, e.g.
    ``9300-9349``, when set: machines shared by several test runs)."""
    low, _, high = os.environ.get("WFAAS_CLUSTER_PORTS", "").partition("-")
    for port in range(int(low), int(high or low) + 1) if low else ():
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Proc:
    """One wfaas-server process of the cluster."""

    name: str
    role: str
    config: Path
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen is not None else None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


@dataclass
class Cluster:
    """A deployment of separate wfaas-server processes on PostgreSQL + RabbitMQ."""

    workdir: Path
    engines: int = 2
    executors: int = 2
    apis: int = 1
    schedulers: int = 1
    executor_groups: dict[str, int] = field(default_factory=dict)
    extra_conf: dict[str, dict[str, Any]] = field(default_factory=dict)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    procs: dict[str, Proc] = field(default_factory=dict)
    api_port: int = 0
    #: threads running actions in each executor process ([executor] workers)
    executor_workers: int = 16
    #: the command that runs ``wfaas-server`` (serve.py also loads the global CONF)
    server_command: tuple[str, ...] = ("-m", "wfaas.cmd.server")
    #: run the processes on the wfaas of this checkout (PYTHONPATH; '' = the installed one)
    tree: str = ""

    @property
    def database(self) -> str:
        """``wfaas_<run id>`` (the prefix: ``$WFAAS_CLUSTER_DB_PREFIX`` when set)."""
        return f"{os.environ.get('WFAAS_CLUSTER_DB_PREFIX', 'wfaas_')}{self.run_id}"

    @property
    def db_url(self) -> str:
        return PG_BASE + self.database

    @property
    def transport_url(self) -> str:
        return f"{BROKER}?queue_prefix=wfaas-{self.run_id}.&queue_expires=1800"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    # ---------------------------------------------------------------- setup
    def create_database(self) -> None:
        """CREATE DATABASE, migrate it and load the action definitions."""
        from sqlalchemy import create_engine, text

        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.database}"'))
        admin.dispose()
        conf = self._write_conf("db", "")
        for command in ("upgrade", "populate"):  # the schema of the tree that runs
            subprocess.run([sys.executable, "-m", "wfaas.cmd.db_manage", "--config-file",
                            str(conf), command], check=True, capture_output=True, timeout=300,
                           env=self._env(), cwd=self.workdir)

    def _env(self) -> dict[str, str]:
        """The processes' environment: ``tree`` first on the path when given (they run
        in the work folder: ``python -m`` puts the current folder before PYTHONPATH, so
        a checkout as the current folder would win over ``tree``)."""
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        if self.tree:
            env["PYTHONPATH"] = self.tree
        return env

    def drop_database(self) -> None:
        """DROP DATABASE (forcing other sessions out)."""
        from sqlalchemy import create_engine, text

        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
        admin.dispose()

    def _write_conf(self, name: str, group: str) -> Path:
        sections: dict[str, dict[str, Any]] = {
            "DEFAULT": {"transport_url": self.transport_url,
                        "state_dir": str(self.workdir / "state")},
            "database": {"connection": self.db_url, "max_pool_size": 5},
            "api": {"host": "127.0.0.1", "port": self.api_port},
            "executor": {"host": group, "workers": self.executor_workers},
            "scheduler": {"max_sleep": 0.5},
            "engine": {"execution_integrity_check_delay": 5},
        }
        for section, values in self.extra_conf.items():
            sections.setdefault(section, {}).update(values)
        lines = []
        for section, values in sections.items():
            lines.append(f"[{section}]")
            lines.extend(f"{k} = {v}" for k, v in values.items())
            lines.append("")
        path = self.workdir / f"{name}.conf"
        path.write_text("\n".join(lines))
        return path

    def plan(self) -> None:
        """Decide the processes and write their config files."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.api_port = self.api_port or free_port()
        roles = ([("engine", "")] * self.engines + [("executor", "")] * self.executors
                 + [("api", "")] * self.apis + [("scheduler", "")] * self.schedulers)
        for group, count in self.executor_groups.items():
            roles += [("executor", group)] * count
        counters: dict[str, int] = {}
        for role, group in roles:
            key = f"{role}-{group}" if group else role
            counters[key] = counters.get(key, 0) + 1
            name = f"{key}{counters[key]}"
            self.procs[name] = Proc(name, role, self._write_conf(name, group),
                                    self.workdir / f"{name}.log")

    # ---------------------------------------------------------------- processes
    def start(self, name: str) -> Proc:
        """Start (or restart) one process."""
        proc = self.procs[name]
        if proc.alive():
            return proc
        log = proc.log.open("ab")
        proc.popen = subprocess.Popen(
            [sys.executable, *self.server_command, "--config-file", str(proc.config),
             "--server", proc.role], stdout=log, stderr=subprocess.STDOUT, env=self._env(),
            cwd=self.workdir, start_new_session=True)
        log.close()
        return proc

    def up(self, timeout: float = 60.0) -> None:
        """Create the database, start every process, wait until the API answers."""
        self.plan()
        self.create_database()
        for name in self.procs:
            self.start(name)
        self.wait_api(timeout)

    def wait_api(self, timeout: float = 60.0) -> None:
        """Wait until the API process answers HTTP."""
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [p.name for p in self.procs.values() if p.popen and not p.alive()]
            if dead:
                raise RuntimeError(f"processes exited: {dead}; see {self.workdir}")
            try:
                requests.get(self.api_url + "/v2/workflows", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise TimeoutError(f"the API did not answer within {timeout} s")

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to one process (SIGKILL: a crash) and wait for it to exit."""
        proc = self.procs[name]
        if proc.popen is not None and proc.alive():
            proc.popen.send_signal(sig)
            proc.popen.wait(30)

    def stop_all(self) -> None:
        """SIGTERM every process, SIGKILL what is still alive after 15 s."""
        for proc in self.procs.values():
            if proc.alive():
                assert proc.popen is not None
                proc.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in self.procs.values():
            if proc.popen is None:
                continue
            try:
                proc.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait(10)

    def delete_queues(self) -> None:
        """Delete the RabbitMQ queues of this run."""
        from wfaas.rpc.kombu_transport import KombuTransport

        t = KombuTransport(self.transport_url)
        groups = {""} | set(self.executor_groups)
        names = [q.name for q in t.engine_queues()] + [t.executor_queue(g).name
                                                        for g in groups]
        t.purge_and_delete(names)

    def down(self) -> None:
        """Stop the processes, drop the database, delete the queues."""
        self.stop_all()
        for step in (self.drop_database, self.delete_queues):
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - clean up as much as possible
                print(f"cluster clean-up: {step.__name__}: {exc}", file=sys.stderr)

    def logs(self, tail: int = 40) -> str:
        """The last lines of every process log (for a failing test's report)."""
        out = []
        for proc in self.procs.values():
            if proc.log.exists():
                lines = [line for line in proc.log.read_text(errors="replace").splitlines()
                         if "alembic.runtime.plugins" not in line][-tail:]
                out.append(f"== {proc.name} (pid {proc.pid}) ==\n" + "\n".join(lines))
        return "\n".join(out)

    def save(self) -> None:
        """Write cluster.json so that ``down`` can find what ``up`` started."""
        state = {"run_id": self.run_id, "api_port": self.api_port,
                 "executor_groups": self.executor_groups,
                 "executor_workers": self.executor_workers,
                 "pids": {n: p.pid for n, p in self.procs.items()}}
        (self.workdir / "cluster.json").write_text(json.dumps(state))


def _main() -> None:
    parser = argparse.ArgumentParser(description="local multi-process wfaas deployment")
    parser.add_argument("command", choices=["up", "down"])
    parser.add_argument("--dir", default="/tmp/wfaas-cluster")
    parser.add_argument("--engines", type=int, default=2)
    parser.add_argument("--executors", type=int, default=2)
    parser.add_argument("--apis", type=int, default=1)
    parser.add_argument("--schedulers", type=int, default=1)
    parser.add_argument("--executor-workers", type=int, default=16,
                        help="threads running actions in each executor process")
    parser.add_argument("--tree", default="",
                        help="run the processes on the wfaas of this checkout (e.g. the tree "
                             "before a change)")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="an extra config option for every process, e.g. "
                             "engine.pure_actions_per_step=0 (repeatable)")
    args = parser.parse_args()
    workdir = Path(args.dir)
    extra: dict[str, dict[str, Any]] = {}
    for item in args.set:
        key, _, value = item.partition("=")
        section, _, option = key.rpartition(".")
        extra.setdefault(section or "DEFAULT", {})[option] = value
    if args.command == "up":
        cluster = Cluster(workdir, args.engines, args.executors, args.apis, args.schedulers,
                          executor_workers=args.executor_workers, extra_conf=extra,
                          tree=args.tree)
        cluster.up()
        cluster.save()
        print(f"API {cluster.api_url}; database {cluster.database}; logs in {workdir}")
        return
    state = json.loads((workdir / "cluster.json").read_text())
    cluster = Cluster(workdir, run_id=state["run_id"],
                      executor_groups=state.get("executor_groups") or {})
    for name, pid in state["pids"].items():
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        print(f"stopped {name} (pid {pid})")
    time.sleep(2)
    cluster.down()


if __name__ == "__main__":
    _main()
