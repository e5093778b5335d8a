"""``wfaas action ...`` (definitions, ad-hoc actions, run) and
``wfaas action-execution ...``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from wfaas.client import Client
from wfaas.client.errors import BadRequestError
from wfaas.cmd.client_common import (
    add_list_options,
    command,
    confirm_deleted,
    list_query,
    load_object,
    merge_pairs,
    parse_value,
    print_data,
    print_list,
    print_one,
    resource_parser,
    verb,
)
from wfaas.cmd.client_definitions import DefinitionVerbs

COLUMNS = ("name", "namespace", "is_system", "input", "description", "tags")
SHOW_COLUMNS = ("id", "name", "namespace", "is_system", "input", "description", "tags",
                "scope", "project_id", "created_at", "updated_at", "params_schema")
#: what ``action get`` asks the server for (the input schema is sent only when asked)
GET_FIELDS = ",".join(SHOW_COLUMNS)
AE_COLUMNS = ("id", "name", "workflow_name", "task_name", "task_execution_id", "state",
              "state_info", "accepted", "created_at", "updated_at")
AE_SHOW = ("id", "name", "description", "workflow_name", "workflow_namespace", "task_name",
           "task_execution_id", "state", "state_info", "accepted", "created_at", "updated_at")


def describe_schema(schema: Any) -> str:
    """An action's input JSON Schema for people: one line a parameter (required first),
    with its type and default; ``**kwargs`` actions say that more keys are taken."""
    if not isinstance(schema, dict):
        return ""
    props = schema.get("properties") or {}
    required = [n for n in schema.get("required") or [] if n in props]
    lines = [f"{name}  (required)" for name in required]
    for name, prop in props.items():
        if name in required:
            continue
        types = prop.get("type") if isinstance(prop, dict) else None
        kinds = [t for t in (types if isinstance(types, list) else [types]) if t and t != "null"]
        words = ", ".join(kinds)
        if isinstance(prop, dict) and "default" in prop:
            words += ("; " if words else "") + f"default {json.dumps(prop['default'])}"
        lines.append(f"{name}  ({words})" if words else name)
    if schema.get("additionalProperties"):
        lines.append("(other keys accepted)")
    return "\n".join(lines) or "(no input)"


class ActionVerbs(DefinitionVerbs):
    """The definition verbs of actions; ``get`` also shows the input JSON Schema."""

    def get(self, client: Client, args: argparse.Namespace) -> int:
        """Show one action with its input schema (readable; JSON with ``-f json``); a
        Mistral server, which has no schema, shows the action without it."""
        try:
            row = dict(client.actions.get(args.name, namespace=args.namespace,
                                          fields=GET_FIELDS))
        except BadRequestError as exc:
            if "params_schema" not in str(exc):
                raise
            row = dict(client.actions.get(args.name, namespace=args.namespace))
        if args.format == "table":
            row["params_schema"] = describe_schema(row.get("params_schema"))
        print_one(args, row, self.show_columns)
        return 0


@command
def do_run(client: Client, args: argparse.Namespace) -> int:
    action_input = merge_pairs(load_object(args.input), args.set)
    ae = client.action_executions.run(
        args.name, action_input, namespace=args.namespace, save_result=args.save_result,
        run_sync=args.run_sync, target=args.target, description=args.description)
    output = ae.get("output")
    result = output.get("result") if isinstance(output, dict) and set(output) == {"result"} \
        else output
    if ae.get("state") == "ERROR" and args.format == "table":
        print(f"error: action {args.name} failed: {result}", file=sys.stderr)
    elif args.save_result or args.format != "table":
        print_one(args, ae, AE_SHOW + ("input", "output"))
    else:
        print_data(argparse.Namespace(format="json"), result)
    return 1 if ae.get("state") == "ERROR" else 0


def add_action_parser(subparsers: Any) -> None:
    """Register ``wfaas action``."""
    verbs = resource_parser(subparsers, "action", "action definitions and ad-hoc actions",
                            aliases=["actions"])
    ActionVerbs("action", "actions", COLUMNS, SHOW_COLUMNS, "actions").register(verbs)
    p = verb(verbs, "run", do_run, "run an action outside any workflow")
    p.add_argument("name", metavar="ACTION", help="action name")
    p.add_argument("input", nargs="?", metavar="INPUT",
                   help="action input: a JSON object, or a JSON/YAML file")
    p.add_argument("-i", "--input", dest="set", action="append", metavar="KEY=VALUE",
                   help="one input value (JSON-parsed when possible); repeatable")
    p.add_argument("-s", "--save-result", action="store_true",
                   help="store the action execution (runs asynchronously)")
    p.add_argument("--run-sync", action="store_true", help="wait for the result")
    p.add_argument("-t", "--target", help="executor target")
    p.add_argument("--namespace", default="", help="action namespace")
    p.add_argument("-d", "--description", default="")


@command
def ae_list(client: Client, args: argparse.Namespace) -> int:
    query = list_query(args, name=args.name, state=args.state)
    print_list(args, client.action_executions.list(args.task, **query), AE_COLUMNS)
    return 0


@command
def ae_get(client: Client, args: argparse.Namespace) -> int:
    print_one(args, client.action_executions.get(args.id), AE_SHOW)
    return 0


def _ae_field(field: str) -> Any:
    @command
    def run(client: Client, args: argparse.Namespace) -> int:
        print_data(args, client.action_executions.get(args.id).get(field))
        return 0
    return run


@command
def ae_update(client: Client, args: argparse.Namespace) -> int:
    output = parse_value(args.output) if args.output is not None else None
    print_one(args, client.action_executions.update(args.id, args.state, output), AE_SHOW)
    return 0


@command
def ae_delete(client: Client, args: argparse.Namespace) -> int:
    return confirm_deleted("action execution", args.ids, client.action_executions.delete)


def add_action_execution_parser(subparsers: Any) -> None:
    """Register ``wfaas action-execution``."""
    verbs = resource_parser(subparsers, "action-execution", "action executions",
                            aliases=["action-executions", "ae"])
    p = verb(verbs, "list", ae_list, "list action executions", aliases=["ls"])
    p.add_argument("task", nargs="?", metavar="TASK_ID", help="only those of this task")
    add_list_options(p, default_limit=100)
    p.add_argument("--name", help="only this action name")
    p.add_argument("--state", help="only this state")
    p = verb(verbs, "get", ae_get, "show an action execution", aliases=["show"])
    p.add_argument("id", metavar="ID")
    for field in ("input", "output"):
        p = verb(verbs, field, _ae_field(field), f"print the {field} of an action execution")
        p.set_defaults(format="json")
        p.add_argument("id", metavar="ID")
    p = verb(verbs, "update", ae_update, "deliver the result of an asynchronous action")
    p.add_argument("id", metavar="ID")
    p.add_argument("--state", required=True,
                   choices=("SUCCESS", "ERROR", "CANCELLED", "PAUSED", "RUNNING"))
    p.add_argument("--output", help="result (JSON, or a plain string)")
    p = verb(verbs, "delete", ae_delete, "delete action executions", output=False,
             aliases=["rm"])
    p.add_argument("ids", nargs="+", metavar="ID")


def add_parser(subparsers: Any) -> None:
    """Register ``wfaas action`` and ``wfaas action-execution``."""
    add_action_parser(subparsers)
    add_action_execution_parser(subparsers)
