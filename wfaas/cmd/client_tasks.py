"""``wfaas task ...``: task executions (list, get, result, published, rerun, skip)."""

from __future__ import annotations

import argparse
from typing import Any

from wfaas.client import Client
from wfaas.cmd.client_common import (
    add_list_options,
    command,
    list_query,
    load_object,
    print_data,
    print_list,
    print_one,
    resource_parser,
    verb,
)
from wfaas.cmd.client_executions import finish

COLUMNS = ("id", "name", "workflow_name", "workflow_namespace", "workflow_execution_id",
           "state", "state_info", "created_at", "updated_at")
SHOW_COLUMNS = ("id", "name", "type", "workflow_name", "workflow_namespace", "workflow_id",
                "workflow_execution_id", "state", "state_info", "processed", "created_at",
                "started_at", "finished_at", "updated_at")


@command
def do_list(client: Client, args: argparse.Namespace) -> int:
    query = list_query(args, name=args.name, state=args.state, workflow_name=args.workflow)
    newest_first = not args.oldest and not query.get("sort_dirs") and query.get("limit") \
        and not args.execution
    if newest_first:
        query["sort_keys"] = query.get("sort_keys") or "created_at"
        query["sort_dirs"] = "desc"
    rows = client.tasks.list(args.execution, **query)
    if newest_first:
        rows.reverse()
    print_list(args, rows, COLUMNS)
    return 0


@command
def do_get(client: Client, args: argparse.Namespace) -> int:
    print_one(args, client.tasks.get(args.id), SHOW_COLUMNS)
    return 0


def _field(field: str) -> Any:
    @command
    def run(client: Client, args: argparse.Namespace) -> int:
        print_data(args, client.tasks.get(args.id).get(field))
        return 0
    return run


def _then_follow(client: Client, args: argparse.Namespace, change: Any) -> int:
    """Apply ``change`` to the task; with ``--wait`` follow its execution afterwards."""
    before: list[dict[str, Any]] = []
    if args.wait:
        ex_id = str(client.tasks.get(args.id).get("workflow_execution_id"))
        before = [t for t in client.executions.tasks(ex_id) if t.get("id") != args.id]
    task = change()
    if args.wait:
        return finish(client, args, str(task.get("workflow_execution_id")), before)
    print_one(args, task, SHOW_COLUMNS)
    return 0


@command
def do_rerun(client: Client, args: argparse.Namespace) -> int:
    env = load_object(args.env, "env") or None
    return _then_follow(client, args,
                        lambda: client.tasks.rerun(args.id, reset=not args.resume, env=env))


@command
def do_skip(client: Client, args: argparse.Namespace) -> int:
    return _then_follow(client, args, lambda: client.tasks.skip(args.id))


def add_parser(subparsers: Any) -> None:
    """Register ``wfaas task``."""
    verbs = resource_parser(subparsers, "task", "inspect and steer task executions",
                            aliases=["tasks"])
    p = verb(verbs, "list", do_list, "list task executions", aliases=["ls"])
    p.add_argument("execution", nargs="?", metavar="EXECUTION_ID",
                   help="only the tasks of this execution")
    add_list_options(p, default_limit=100)
    p.add_argument("--name", help="only tasks with this name")
    p.add_argument("--state", help="only tasks in this state")
    p.add_argument("--workflow", help="only tasks of this workflow name")
    p.add_argument("--oldest", action="store_true", help="show the oldest page first")

    p = verb(verbs, "get", do_get, "show a task execution", aliases=["show"])
    p.add_argument("id", metavar="ID", help="task execution id")
    for field in ("result", "published", "runtime_context"):
        p = verb(verbs, field.replace("_", "-"), _field(field), f"print the {field} of a task")
        p.set_defaults(format="json")
        p.add_argument("id", metavar="ID", help="task execution id")

    for name, func, text in (("rerun", do_rerun, "rerun a failed task"),
                             ("skip", do_skip, "skip a failed task; the workflow goes on")):
        p = verb(verbs, name, func, text)
        p.add_argument("id", metavar="ID", help="task execution id")
        if name == "rerun":
            p.add_argument("--resume", action="store_true",
                           help="with-items: rerun only the failed iterations")
            p.add_argument("-e", "--env", help="variables for the rerun (JSON or file)")
        p.add_argument("--wait", action="store_true",
                       help="then follow the execution until it ends")
        p.add_argument("--wait-timeout", type=float, default=None, metavar="SECONDS")
