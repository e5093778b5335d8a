"""``wfaas run FILE.yaml [WORKFLOW]``: run a workflow locally, without a server.

The workflow runs on the embedded default (a temporary SQLite file unless
``--db PATH``). Each task is shown as it starts and ends (on stderr), the
output is printed as JSON (on stdout). The exit code is 0 on SUCCESS, 1 when
the workflow ends in ERROR or CANCELLED (the failing tasks' errors are
printed), 2 for a usage or definition error, 130 after Ctrl-C (the execution
is cancelled). ``--resume`` continues the unfinished executions of ``--db``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
from typing import Any, TextIO

from wfaas.exceptions import DSLError, WfaasError
from wfaas.utils.states import WORKFLOW_TERMINAL as TERMINAL

WAIT_CHUNK = 3600.0


def add_parser(subparsers: Any) -> None:
    """Register the ``run`` subcommand."""
    p = subparsers.add_parser(
        "run", help="run a workflow locally (no server needed)",
        description="Run a workflow from a YAML file on an embedded database and print "
                    "its output as JSON.")
    p.add_argument("file", nargs="?", metavar="FILE.yaml",
                   help="workflow or workbook file")
    p.add_argument("workflow", nargs="?", metavar="WORKFLOW",
                   help="workflow to run (optional when the file has only one)")
    p.add_argument("--input", dest="input_json", metavar="JSON",
                   help="workflow input as a JSON object")
    p.add_argument("-i", dest="inputs", action="append", default=[], metavar="KEY=VALUE",
                   help="one input value (JSON or plain string); may be repeated")
    p.add_argument("--env", metavar="JSON", help="execution environment as a JSON object")
    p.add_argument("--task-name", metavar="TASK", help="target task of a reverse workflow")
    p.add_argument("--db", metavar="PATH", help="SQLite file to keep state in "
                   "(default: a temporary file removed at the end)")
    p.add_argument("--resume", action="store_true",
                   help="continue the unfinished executions stored in --db")
    p.add_argument("-q", "--quiet", action="store_true", help="do not show task progress")
    p.add_argument("--config-file", action="append", default=[], metavar="FILE",
                   help="wfaas configuration file, as for wfaas-server (action settings, "
                        "limits, expressions, logging; the database stays --db)")
    p.add_argument("--config-dir", metavar="DIR", help="directory of *.conf files")
    p.set_defaults(func=run)


class UsageError(Exception):
    """A mistake on the command line."""


def parse_inputs(input_json: str | None, pairs: list[str]) -> dict[str, Any]:
    """Merge ``--input JSON`` and ``-i key=value`` (values parsed as JSON when possible)."""
    data: dict[str, Any] = {}
    if input_json:
        data.update(_json_object(input_json, "--input"))
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"-i expects KEY=VALUE, got {pair!r}")
        try:
            data[key] = json.loads(raw)
        except ValueError:
            data[key] = raw
    return data


def _json_object(text: str, option: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{option}: invalid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise UsageError(f"{option} must be a JSON object")
    return value


# ---------------------------------------------------------------- definitions


def store_file(session: Any, text: str) -> list[str]:
    """Store the workflows (and workbook actions) of ``text``; return workflow names."""
    from wfaas.db import api
    from wfaas.db import models as m
    from wfaas.lang import detect_kind, parse_workbook, parse_workflows, render_input

    checksum = hashlib.sha256(text.encode()).hexdigest()
    if detect_kind(text) == "workbook":
        wb = parse_workbook(text)
        _upsert(session, m.Workbook, wb.name, definition=text, checksum=checksum,
                tags=list(wb.tags))
        for act in wb.actions.values():
            _upsert(session, m.ActionDefinition, act.name, definition=act.definition,
                    input=render_input(act.input), source="adhoc", tags=list(act.tags),
                    description=act.description, is_system=False)
        workflows = list(wb.workflows.values())
        extra: dict[str, Any] = {"workbook_name": wb.name}
    else:
        workflows = parse_workflows(text)
        extra = {}
    for spec in workflows:
        _upsert(session, m.WorkflowDefinition, spec.name, definition=spec.definition,
                checksum=checksum, input=render_input(spec.input), tags=list(spec.tags),
                **extra)
    api.count(session, m.WorkflowDefinition)  # flush
    return [spec.name for spec in workflows]


def _upsert(session: Any, model: Any, name: str, **values: Any) -> None:
    from wfaas.db import api

    row = api.find_by_name(session, model, name)
    if row is None:
        api.create(session, model, name=name, **values)
    else:
        api.update_row(session, row, **values)


def pick_workflow(names: list[str], wanted: str | None) -> str:
    """The workflow to run: ``wanted`` (full or workbook-short name) or the only one."""
    if wanted:
        for name in names:
            if name == wanted or name.rsplit(".", 1)[-1] == wanted:
                return name
        raise UsageError(f"workflow {wanted!r} is not in the file (it has: "
                         f"{', '.join(names)})")
    if len(names) != 1:
        raise UsageError(f"the file has several workflows, name one: {', '.join(names)}")
    return names[0]


# ---------------------------------------------------------------- progress


class Progress:
    """Prints one line when a task starts and one when it ends."""

    def __init__(self, out: TextIO, quiet: bool = False) -> None:
        self.out = out
        self.quiet = quiet
        self.shown: dict[str, tuple[str, int]] = {}
        self.finished: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def finished_event(self, ex_id: str) -> threading.Event:
        """Set once the engine reported ``ex_id`` finished (after its task lines)."""
        with self._lock:
            return self.finished.setdefault(ex_id, threading.Event())

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "execution" and data["state"] in TERMINAL:
            self.finished_event(data["id"]).set()
        if kind != "task" or self.quiet:
            return
        state, task_id, name = data["state"], data["id"], data["name"]
        key = (state, int(data.get("retry_no") or 0))
        if self.shown.get(task_id) == key:
            return
        self.shown[task_id] = key
        if key[1] and state in ("RUNNING", "SUCCESS", "ERROR"):
            # the end line too: attempts of std.fail run inside one step (folding), so
            # no RUNNING line of a retry may have been reported
            name = f"{name} (retry {key[1]})"
        if state in ("SUCCESS", "ERROR", "CANCELLED", "SKIPPED"):
            took = max(0.0, (data.get("updated_at") or 0) - (data.get("created_at") or 0))
            mark = {"SUCCESS": "ok", "SKIPPED": "skipped"}.get(state, state)
            line = f"  [{mark}] {name} ({took:.3f} s)"
            if state == "ERROR" and data.get("state_info"):
                line += f": {data['state_info']}"
        elif state == "RUNNING_DELAYED":
            line = f"  [wait] {name}"
        elif state == "RUNNING":
            line = f"  [run]  {name}"
        else:
            line = f"  [{state.lower()}] {name}"
        print(line, file=self.out, flush=True)


# ---------------------------------------------------------------- main


def run(args: argparse.Namespace) -> int:
    """Run the command; returns the exit code."""
    try:
        return _run(args)
    except UsageError as exc:
        print(f"wfaas run: {exc}", file=sys.stderr)
        return 2
    except DSLError as exc:
        print(f"wfaas run: {args.file}: invalid definition:", file=sys.stderr)
        for problem in exc.problems or []:
            print(f"  {problem}", file=sys.stderr)
        if not exc.problems:
            print(f"  {exc}", file=sys.stderr)
        return 2
    except WfaasError as exc:
        print(f"wfaas run: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.resume and not args.db:
        raise UsageError("--resume needs --db PATH")
    if not args.resume and not args.file:
        raise UsageError("a workflow FILE is required")
    text = None
    if args.file:
        try:
            with open(args.file, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise UsageError(f"cannot read {args.file}: {exc.strerror}") from exc
    inputs = parse_inputs(args.input_json, args.inputs)
    params: dict[str, Any] = {}
    if args.env:
        params["env"] = _json_object(args.env, "--env")
    if args.task_name:
        params["task_name"] = args.task_name
    tmpdir = None if args.db else tempfile.mkdtemp(prefix="wfaas-run-")
    path = args.db or os.path.join(tmpdir or ".", "wfaas.db")
    try:
        return _execute(args, text, path, inputs, params)
    finally:
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)


def _execute(args: argparse.Namespace, text: str | None, path: str, inputs: dict[str, Any],
             params: dict[str, Any]) -> int:
    from wfaas.db import api, migration
    from wfaas.db.session import make_engine, sqlite_url
    from wfaas.services.runtime import Runtime

    conf = _load_conf(args)
    engine = make_engine(sqlite_url(path))
    migration.ensure_schema(engine)
    rt = Runtime(engine, engine_workers=1,
                 field_size_limit_kb=conf.engine.execution_field_size_limit_kb,
                 pure_actions_per_step=conf.engine.pure_actions_per_step,
                 executor_workers=conf.executor.workers)
    rt.attach_config(conf)
    progress = Progress(sys.stderr, args.quiet)
    rt.add_listener(progress)
    ex_ids: list[str] = []
    try:
        name = None
        if text is not None:
            with rt.session() as s:
                name = pick_workflow(store_file(s, text), args.workflow)
        if args.resume:
            with rt.session() as s:
                ex_ids = [r.id for r in api.executions_in_states(s, ["RUNNING", "PAUSED"])
                          if r.root_execution_id in (None, r.id)]
            rt.start()
            if not ex_ids:
                print("wfaas run: nothing to resume", file=sys.stderr)
                return 0
        else:
            rt.start()
            assert name is not None
            print(f"Workflow {name}", file=sys.stderr, flush=True)
            ex_ids = [rt.start_workflow(name, input=inputs, params=params)["id"]]
        code = 0
        for ex_id in ex_ids:
            code = max(code, _wait_and_report(rt, ex_id, progress))
        return code
    except KeyboardInterrupt:
        for ex_id in ex_ids:
            try:
                rt.stop_execution(ex_id, "CANCELLED", "Cancelled by the user (Ctrl-C)")
            except WfaasError:
                pass
        print("wfaas run: cancelled", file=sys.stderr)
        return 130
    finally:
        rt.close()


def _load_conf(args: argparse.Namespace) -> Any:
    """The configuration files, read as wfaas-server reads them; logging set from them."""
    from oslo_config import cfg

    from wfaas import config
    from wfaas.cmd.logsetup import configured, setup_logging

    argv = [a for f in getattr(args, "config_file", []) for a in ("--config-file", f)]
    if getattr(args, "config_dir", None):
        argv += ["--config-dir", args.config_dir]
    try:
        conf = config.load(argv, prog="wfaas")
        if configured(conf):
            setup_logging(conf, default_level=logging.WARNING)
    except (cfg.Error, OSError, ValueError, KeyError) as exc:
        raise UsageError(f"configuration: {exc}") from exc
    return conf


def _wait_and_report(rt: Any, ex_id: str, progress: Progress) -> int:
    from wfaas.db import api

    while True:
        row = rt.wait_execution(ex_id, WAIT_CHUNK)
        if row["state"] in TERMINAL:
            break
    # The engine reports the end after the last task lines: wait for it so that
    # the summary comes last (it may already have been reported: short timeout).
    progress.finished_event(ex_id).wait(2.0)
    took = (row["updated_at"] - row["created_at"]).total_seconds() if row["updated_at"] else 0
    print(f"Workflow {row['workflow_name']} {row['state']} ({took:.3f} s)", file=sys.stderr)
    if row["state"] == "SUCCESS":
        print(json.dumps(row["output"], indent=2, ensure_ascii=False, default=str))
        return 0
    with rt.session() as s:
        failed = [t for t in api.task_executions_of(s, ex_id) if t.state == "ERROR"]
        for task in failed:
            print(f"Task {task.name} failed: {task.state_info}", file=sys.stderr)
    if row.get("state_info"):
        print(f"Error: {row['state_info']}", file=sys.stderr)
    output = row.get("output")
    if output is not None and output != {"result": row.get("state_info")}:
        print(json.dumps(output, indent=2, ensure_ascii=False, default=str))
    return 1
