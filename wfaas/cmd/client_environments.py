"""``wfaas environment ...``: named variable sets used as ``env()`` by executions."""

from __future__ import annotations

import argparse
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
    print_data,
    print_list,
    print_one,
    resource_parser,
    verb,
)

COLUMNS = ("name", "description", "scope", "created_at", "updated_at")
SHOW_COLUMNS = ("id", "name", "description", "variables", "scope", "project_id", "created_at",
                "updated_at")


def _document(args: argparse.Namespace) -> dict[str, Any]:
    """``{name, description, variables, scope}`` from a file and/or options."""
    doc = load_object(args.file, "environment file") if args.file else {}
    if doc and "variables" not in doc and "name" not in doc:
        doc = {"variables": doc}
    variables = doc.get("variables") or {}
    if isinstance(variables, str):
        variables = load_object(variables, "variables")
    name = args.name or doc.get("name")
    if not name:
        raise UsageError("the environment needs a name (in the file or --name)")
    return {"name": name, "description": args.description or doc.get("description"),
            "variables": merge_pairs(variables, args.set, "-v"),
            "scope": "public" if args.public else doc.get("scope")}


@command
def do_create(client: Client, args: argparse.Namespace) -> int:
    print_one(args, client.environments.create(**_document(args)), SHOW_COLUMNS)
    return 0


@command
def do_update(client: Client, args: argparse.Namespace) -> int:
    print_one(args, client.environments.update(**_document(args)), SHOW_COLUMNS)
    return 0


@command
def do_list(client: Client, args: argparse.Namespace) -> int:
    print_list(args, client.environments.list(**list_query(args)), COLUMNS)
    return 0


@command
def do_get(client: Client, args: argparse.Namespace) -> int:
    row = client.environments.get(args.name)
    if args.export:
        print_data(argparse.Namespace(format=args.format if args.format != "table" else "json"),
                   {k: row.get(k) for k in ("name", "description", "variables", "scope")})
        return 0
    print_one(args, row, SHOW_COLUMNS)
    return 0


@command
def do_delete(client: Client, args: argparse.Namespace) -> int:
    return confirm_deleted("environment", args.names, client.environments.delete)


def add_parser(subparsers: Any) -> None:
    """Register ``wfaas environment``."""
    verbs = resource_parser(subparsers, "environment", "manage environments",
                            aliases=["environments", "env"])
    for name, func in (("create", do_create), ("update", do_update)):
        p = verb(verbs, name, func, f"{name} an environment from a JSON/YAML file or options")
        p.add_argument("file", nargs="?", metavar="FILE",
                       help="{name, description, variables} (JSON or YAML)")
        p.add_argument("--name", help="environment name (overrides the file)")
        p.add_argument("--description")
        p.add_argument("-v", "--variable", dest="set", action="append", metavar="KEY=VALUE",
                       help="one variable (JSON-parsed when possible); repeatable")
        p.add_argument("--public", action="store_true", help="visible to every project")
    p = verb(verbs, "list", do_list, "list environments", aliases=["ls"])
    add_list_options(p)
    p = verb(verbs, "get", do_get, "show an environment", aliases=["show"])
    p.add_argument("name", metavar="NAME")
    p.add_argument("--export", action="store_true",
                   help="print a file that 'environment create' accepts")
    p = verb(verbs, "delete", do_delete, "delete environments", output=False, aliases=["rm"])
    p.add_argument("names", nargs="+", metavar="NAME")
