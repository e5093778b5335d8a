"""``wfaas cron-trigger ...`` and ``wfaas event-trigger ...``."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from wfaas.client import Client
from wfaas.cmd.client_common import (
    UsageError,
    add_list_options,
    command,
    confirm_deleted,
    list_query,
    load_object,
    merge_pairs,
    print_list,
    print_one,
    resource_parser,
    verb,
)

CRON_COLUMNS = ("name", "workflow_name", "workflow_params", "pattern", "next_execution_time",
                "remaining_executions", "created_at", "updated_at")
CRON_SHOW = ("id", "name", "workflow_name", "workflow_id", "workflow_input", "workflow_params",
             "pattern", "first_execution_time", "next_execution_time", "remaining_executions",
             "scope", "project_id", "created_at", "updated_at")
EVENT_COLUMNS = ("id", "name", "workflow_id", "exchange", "topic", "event", "created_at",
                 "updated_at")
EVENT_SHOW = ("id", "name", "workflow_id", "workflow_input", "workflow_params", "exchange",
              "topic", "event", "scope", "project_id", "created_at", "updated_at")


def to_utc(text: str | None, utc: bool) -> str | None:
    """``YYYY-MM-DD HH:MM`` in local time (or UTC with ``utc``) as UTC text."""
    if not text:
        return None
    try:
        moment = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise UsageError(f"--first-time expects 'YYYY-MM-DD HH:MM', got {text!r}") from None
    if not utc:
        moment = moment.astimezone().astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M")


@command
def cron_create(client: Client, args: argparse.Namespace) -> int:
    if not args.pattern and not args.first_time:
        raise UsageError("give --pattern, --first-time or both")
    row = client.cron_triggers.create(
        args.name, args.workflow, input=merge_pairs(load_object(args.input), args.set),
        params=load_object(args.params, "params"), pattern=args.pattern,
        first_time=to_utc(args.first_time, args.utc), count=args.count,
        namespace=args.namespace)
    print_one(args, row, CRON_SHOW)
    return 0


def _crud(kind: str, attr: str, columns: tuple[str, ...], show: tuple[str, ...]) -> Any:
    @command
    def do_list(client: Client, args: argparse.Namespace) -> int:
        print_list(args, getattr(client, attr).list(**list_query(args)), columns)
        return 0

    @command
    def do_get(client: Client, args: argparse.Namespace) -> int:
        print_one(args, getattr(client, attr).get(args.name), show)
        return 0

    @command
    def do_delete(client: Client, args: argparse.Namespace) -> int:
        return confirm_deleted(kind, args.names, getattr(client, attr).delete)
    return do_list, do_get, do_delete


def _add_crud(verbs: Any, kind: str, attr: str, columns: tuple[str, ...],
              show: tuple[str, ...]) -> None:
    do_list, do_get, do_delete = _crud(kind, attr, columns, show)
    p = verb(verbs, "list", do_list, f"list {kind}s", aliases=["ls"])
    add_list_options(p)
    p = verb(verbs, "get", do_get, f"show a {kind}", aliases=["show"])
    p.add_argument("name", metavar="NAME", help="name or id")
    p = verb(verbs, "delete", do_delete, f"delete {kind}s", output=False, aliases=["rm"])
    p.add_argument("names", nargs="+", metavar="NAME", help="names or ids")


def _input_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", nargs="?", metavar="INPUT",
                   help="workflow input: a JSON object, or a JSON/YAML file")
    p.add_argument("-i", "--input", dest="set", action="append", metavar="KEY=VALUE",
                   help="one input value; repeatable")
    p.add_argument("--params", metavar="JSON", help="workflow params (JSON object or file)")


@command
def event_create(client: Client, args: argparse.Namespace) -> int:
    row = client.event_triggers.create(
        args.name, args.workflow_id, args.exchange, args.topic, args.event,
        input=merge_pairs(load_object(args.input), args.set),
        params=load_object(args.params, "params"), scope="public" if args.public else None)
    print_one(args, row, EVENT_SHOW)
    return 0


@command
def event_update(client: Client, args: argparse.Namespace) -> int:
    wf_input = merge_pairs(load_object(args.input), args.set) if args.input or args.set \
        else None
    row = client.event_triggers.update(args.id, name=args.new_name, input=wf_input,
                                       params=load_object(args.params, "params") or None)
    print_one(args, row, EVENT_SHOW)
    return 0


def add_parser(subparsers: Any) -> None:
    """Register ``wfaas cron-trigger`` and ``wfaas event-trigger``."""
    verbs = resource_parser(subparsers, "cron-trigger", "start workflows on a schedule",
                            aliases=["cron-triggers", "cron"])
    p = verb(verbs, "create", cron_create, "create a cron trigger")
    p.add_argument("name", metavar="NAME")
    p.add_argument("workflow", metavar="WORKFLOW", help="workflow name or id")
    _input_options(p)
    p.add_argument("--pattern", help='cron pattern, e.g. "*/5 * * * *"')
    p.add_argument("--first-time", metavar="'YYYY-MM-DD HH:MM'",
                   help="first run (local time unless --utc)")
    p.add_argument("--utc", action="store_true", help="--first-time is already UTC")
    p.add_argument("--count", type=int, help="number of runs, then the trigger is deleted")
    p.add_argument("--namespace", default="", help="workflow namespace")
    _add_crud(verbs, "cron trigger", "cron_triggers", CRON_COLUMNS, CRON_SHOW)

    verbs = resource_parser(subparsers, "event-trigger", "start workflows on notifications",
                            aliases=["event-triggers"])
    p = verb(verbs, "create", event_create, "create an event trigger")
    for name in ("name", "workflow_id", "exchange", "topic", "event"):
        p.add_argument(name, metavar=name.upper())
    _input_options(p)
    p.add_argument("--public", action="store_true", help="visible to every project")
    p = verb(verbs, "update", event_update, "change an event trigger's name, input or params")
    p.add_argument("id", metavar="ID")
    p.add_argument("--name", dest="new_name", help="new name")
    _input_options(p)
    _add_crud(verbs, "event trigger", "event_triggers", EVENT_COLUMNS, EVENT_SHOW)
