"""``wfaas execution ...``: start, follow, inspect and steer workflow executions."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from wfaas.client import Client
from wfaas.client.graph import format_duration
from wfaas.client.watch import failed_tasks, follow
from wfaas.cmd.client_common import (
    UsageError,
    add_list_options,
    command,
    confirm_deleted,
    list_query,
    load_object,
    merge_pairs,
    print_data,
    print_list,
    print_one,
    resource_parser,
    use_colour,
    verb,
)
from wfaas.cmd.client_graph import add_graph_verb, task_rank
from wfaas.utils.states import WORKFLOW_TERMINAL as TERMINAL

COLUMNS = ("id", "workflow_name", "workflow_namespace", "description", "task_execution_id",
           "root_execution_id", "state", "state_info", "created_at", "updated_at")
SHOW_COLUMNS = ("id", "workflow_id", "workflow_name", "workflow_namespace", "description",
                "tags", "task_execution_id", "root_execution_id", "source_execution_id",
                "state", "state_info", "created_at", "updated_at")


def finish(client: Client, args: argparse.Namespace, execution_id: str,
           known: list[dict[str, Any]] | None = None) -> int:
    """Follow ``execution_id`` to its end: 0 on SUCCESS, 1 otherwise (errors printed).

    ``known`` tasks (a snapshot from before a rerun/resume) are not reported again.
    """
    started = time.monotonic()
    colour = use_colour(args, sys.stderr)
    try:
        final = follow(client, execution_id, sys.stderr, colour=colour,
                       rank=task_rank(client, execution_id), known=known,
                       timeout=getattr(args, "wait_timeout", None))
    except KeyboardInterrupt:
        print(f"\nstopped following; execution {execution_id} goes on "
              f"(wfaas execution watch {execution_id})", file=sys.stderr)
        return 130
    state = final.get("state")
    took = format_duration(time.monotonic() - started)
    if state not in TERMINAL:
        print(f"error: execution {execution_id} still {state} after "
              f"{args.wait_timeout:g} s", file=sys.stderr)
        return 3
    if state == "SUCCESS":
        print(f"execution {execution_id} SUCCESS in {took}", file=sys.stderr)
        print_data(args if args.format != "table" else _json(args), final.get("output"))
        return 0
    reason = str(final.get("state_info") or "").strip()
    print(f"error: execution {execution_id} {state} in {took}"
          + (f": {reason}" if reason else ""), file=sys.stderr)
    for task in failed_tasks(client, execution_id):
        info = str(task.get("state_info") or "").strip() or "(no message)"
        if info != reason:
            print(f"  task {task.get('name')} [{task.get('id')}]: {info}", file=sys.stderr)
    return 1


def _json(args: argparse.Namespace) -> argparse.Namespace:
    return argparse.Namespace(**{**vars(args), "format": "json"})


@command
def do_create(client: Client, args: argparse.Namespace) -> int:
    wf_input = merge_pairs(load_object(args.input), args.set)
    params = load_object(args.params, "params")
    if args.env:
        env = load_object(args.env, "env") if args.env.strip().startswith(("{", "@")) \
            or args.env.endswith((".json", ".yaml", ".yml")) else args.env
        params["env"] = env
    params = merge_pairs(params, args.param, "-p")
    ex = client.executions.create(args.workflow, namespace=args.namespace, input=wf_input,
                                  params=params, description=args.description,
                                  source_execution_id=args.source)
    if not args.wait:
        print_one(args, ex, SHOW_COLUMNS)
        return 0
    print(f"execution {ex['id']} of {ex.get('workflow_name')} started", file=sys.stderr)
    return finish(client, args, ex["id"])


@command
def do_list(client: Client, args: argparse.Namespace) -> int:
    extra: dict[str, Any] = {"workflow_name": args.workflow, "state": args.state,
                             "task_execution_id": args.task}
    if args.rootsonly:
        extra["nulls"] = "task_execution_id"
    query = list_query(args, **extra)
    newest_first = not args.oldest and not query.get("sort_dirs") and query.get("limit")
    if newest_first:
        query["sort_keys"] = query.get("sort_keys") or "created_at"
        query["sort_dirs"] = "desc"
    rows = client.executions.list(**query)
    if newest_first:
        rows.reverse()
    print_list(args, rows, COLUMNS)
    return 0


@command
def do_get(client: Client, args: argparse.Namespace) -> int:
    print_one(args, client.executions.get(args.id), SHOW_COLUMNS)
    return 0


def _field_command(field: str) -> Any:
    @command
    def run(client: Client, args: argparse.Namespace) -> int:
        print_data(args, client.executions.get(args.id).get(field))
        return 0
    return run


@command
def do_pause(client: Client, args: argparse.Namespace) -> int:
    print_one(args, client.executions.pause(args.id), SHOW_COLUMNS)
    return 0


@command
def do_resume(client: Client, args: argparse.Namespace) -> int:
    before = client.executions.tasks(args.id) if args.wait else []
    ex = client.executions.resume(args.id, env=load_object(args.env, "env") or None)
    if args.wait:
        return finish(client, args, args.id, before)
    print_one(args, ex, SHOW_COLUMNS)
    return 0


@command
def do_cancel(client: Client, args: argparse.Namespace) -> int:
    print_one(args, client.executions.cancel(args.id, args.message), SHOW_COLUMNS)
    return 0


@command
def do_update(client: Client, args: argparse.Namespace) -> int:
    if not (args.state or args.description is not None or args.env):
        raise UsageError("give --state, --description or --env")
    ex = client.executions.update(args.id, state=args.state, state_info=args.message,
                                  description=args.description,
                                  env=load_object(args.env, "env") or None)
    print_one(args, ex, SHOW_COLUMNS)
    return 0


@command
def do_rerun(client: Client, args: argparse.Namespace) -> int:
    if args.new:
        ex = client.executions.create("", source_execution_id=args.id)
        if not args.wait:
            print_one(args, ex, SHOW_COLUMNS)
            return 0
        return finish(client, args, ex["id"])
    before = client.executions.tasks(args.id)
    failed = [t for t in before if t.get("state") == "ERROR"]
    if not failed:
        raise UsageError(f"execution {args.id} has no failed task to rerun "
                         "(use --new to start a new execution with the same input)")
    env = load_object(args.env, "env") or None
    for task in failed:
        client.tasks.rerun(task["id"], reset=not args.resume, env=env)
        print(f"task {task.get('name')} [{task['id']}] rerun", file=sys.stderr)
    if args.wait:
        rerun = {t["id"] for t in failed}
        return finish(client, args, args.id, [t for t in before if t["id"] not in rerun])
    print_one(args, client.executions.get(args.id), SHOW_COLUMNS)
    return 0


@command
def do_watch(client: Client, args: argparse.Namespace) -> int:
    return finish(client, args, args.id)


@command
def do_delete(client: Client, args: argparse.Namespace) -> int:
    return confirm_deleted("execution", args.ids,
                           lambda i: client.executions.delete(i, force=args.force))


@command
def do_report(client: Client, args: argparse.Namespace) -> int:
    report = client.executions.report(args.id, errors_only=not args.all_tasks,
                                      max_depth=args.max_depth,
                                      statistics_only=args.statistics_only)
    if args.format in ("json", "yaml"):
        print_data(args, report)
        return 0
    for line in report_lines(report):
        print(line)
    return 0


def report_lines(report: dict[str, Any]) -> list[str]:
    """An execution report as indented text: statistics, then the tree."""
    lines: list[str] = []
    stats = report.get("statistics") or {}
    if stats:
        lines.append("statistics: " + ", ".join(
            f"{k.replace('_tasks_count', '')}={v}" for k, v in stats.items()))
    root = report.get("root_workflow_execution")
    if root:
        _report_workflow(root, 0, lines)
    return lines


def _report_workflow(wf: dict[str, Any], depth: int, lines: list[str]) -> None:
    pad = "  " * depth
    lines.append(f"{pad}workflow {wf.get('name') or wf.get('workflow_name')} "
                 f"[{wf.get('id')}] {wf.get('state')}"
                 + (f": {wf['state_info']}" if wf.get("state_info") else ""))
    for task in wf.get("task_executions") or []:
        info = f": {task['state_info']}" if task.get("state_info") else ""
        retries = f" retries={task['retry_count']}" if task.get("retry_count") else ""
        lines.append(f"{pad}  task {task.get('name')} [{task.get('id')}] "
                     f"{task.get('state')}{retries}{info}")
        for action in task.get("action_executions") or []:
            lines.append(f"{pad}    action {action.get('name')} [{action.get('id')}] "
                         f"{action.get('state')}")
        for sub in task.get("workflow_executions") or []:
            _report_workflow(sub, depth + 2, lines)


def _wait_options(p: argparse.ArgumentParser, default: bool = False) -> None:
    if not default:
        p.add_argument("--wait", action="store_true",
                       help="follow the execution live until it ends; exit 1 if it fails")
    p.add_argument("--wait-timeout", type=float, default=None, metavar="SECONDS",
                   help="stop following after SECONDS (exit 3)")


def _add_create(verbs: Any) -> None:
    p = verb(verbs, "create", do_create, "start a workflow", aliases=["start"])
    p.add_argument("workflow", metavar="WORKFLOW", help="workflow name or id")
    p.add_argument("input", nargs="?", metavar="INPUT",
                   help="workflow input: a JSON object, or a JSON/YAML file")
    p.add_argument("-i", "--input", dest="set", action="append", metavar="KEY=VALUE",
                   help="one input value (JSON-parsed when possible); repeatable")
    p.add_argument("--params", metavar="JSON", help="execution params (JSON object or file)")
    p.add_argument("-p", "--param", action="append", metavar="KEY=VALUE",
                   help="one execution param; repeatable")
    p.add_argument("-e", "--env", metavar="ENV",
                   help="environment: a stored environment's name, a JSON object or a file")
    p.add_argument("--namespace", default="", help="workflow namespace")
    p.add_argument("-d", "--description", default="", help="execution description")
    p.add_argument("-s", "--source", metavar="EXECUTION_ID",
                   help="reuse the input and params of an earlier execution")
    _wait_options(p)


def _add_views(verbs: Any) -> None:
    p = verb(verbs, "list", do_list, "list executions (newest page first)", aliases=["ls"])
    add_list_options(p, default_limit=100)
    p.add_argument("--workflow", help="only executions of this workflow name")
    p.add_argument("--state", help="only executions in this state (e.g. ERROR, in:ERROR,PAUSED)")
    p.add_argument("--task", help="only sub-workflow executions of this task execution id")
    p.add_argument("--rootsonly", action="store_true", help="only top-level executions")
    p.add_argument("--oldest", action="store_true", help="show the oldest page first")
    for name, func, text in (("get", do_get, "show an execution"),
                             ("pause", do_pause, "pause a running execution"),
                             ("watch", do_watch, "follow an execution live until it ends")):
        p = verb(verbs, name, func, text, aliases=["show"] if name == "get" else [])
        p.add_argument("id", metavar="ID", help="execution id")
        if name == "watch":
            _wait_options(p, default=True)
    for field in ("input", "output", "params", "published_global"):
        p = verb(verbs, field.replace("_", "-"), _field_command(field),
                 f"print the {field.replace('_', ' ')} of an execution")
        p.set_defaults(format="json")
        p.add_argument("id", metavar="ID", help="execution id")
    p = verb(verbs, "report", do_report, "print the execution report (failed tasks by default)")
    p.add_argument("id", metavar="ID", help="execution id")
    p.add_argument("--all-tasks", action="store_true", help="every task, not only errors")
    p.add_argument("--max-depth", type=int, default=-1, help="sub-workflow depth (-1: all)")
    p.add_argument("--statistics-only", action="store_true", help="only the task counts")


def _add_steering(verbs: Any) -> None:
    p = verb(verbs, "resume", do_resume, "resume a paused execution")
    p.add_argument("id", metavar="ID", help="execution id")
    p.add_argument("-e", "--env", help="variables merged into the environment (JSON or file)")
    _wait_options(p)
    p = verb(verbs, "cancel", do_cancel, "cancel an execution")
    p.add_argument("id", metavar="ID", help="execution id")
    p.add_argument("-m", "--message", help="reason recorded as state_info")
    p = verb(verbs, "update", do_update, "change the state, description or env of an execution")
    p.add_argument("id", metavar="ID", help="execution id")
    p.add_argument("-s", "--state", choices=("PAUSED", "RUNNING", "SUCCESS", "ERROR",
                                             "CANCELLED"))
    p.add_argument("-m", "--message", help="state_info for SUCCESS/ERROR/CANCELLED")
    p.add_argument("-d", "--description")
    p.add_argument("-e", "--env", help="variables merged into the environment (JSON or file)")
    p = verb(verbs, "rerun", do_rerun, "rerun the failed tasks of an execution "
                                       "(or start a new one with its input: --new)")
    p.add_argument("id", metavar="ID", help="execution id")
    p.add_argument("--resume", action="store_true",
                   help="with-items: rerun only the failed iterations")
    p.add_argument("-e", "--env", help="variables for the rerun (JSON or file)")
    p.add_argument("--new", action="store_true",
                   help="start a new execution with the same workflow, input and params")
    _wait_options(p)
    p = verb(verbs, "delete", do_delete, "delete executions", output=False, aliases=["rm"])
    p.add_argument("ids", nargs="+", metavar="ID", help="execution ids")
    p.add_argument("--force", action="store_true", help="also delete running executions")


def add_parser(subparsers: Any) -> None:
    """Register ``wfaas execution``."""
    verbs = resource_parser(subparsers, "execution", "start and manage workflow executions",
                            aliases=["executions", "ex"])
    _add_create(verbs)
    _add_views(verbs)
    _add_steering(verbs)
    add_graph_verb(verbs, "execution")
