"""Verbs shared by the resources defined in YAML (workbooks, workflows, actions):
create / update from files, list, get, definition, delete, validate."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from wfaas.client import Client
from wfaas.cmd.client_common import (
    add_list_options,
    command,
    confirm_deleted,
    list_query,
    print_list,
    print_one,
    read_text,
    verb,
)


def _as_rows(result: Any) -> list[dict[str, Any]]:
    return result if isinstance(result, list) else [result]


def _namespace(p: argparse.ArgumentParser, default: str | None = "") -> None:
    p.add_argument("--namespace", default=default,
                   help="namespace (default: none)" if default == "" else "only this namespace")


class DefinitionVerbs:
    """The handlers of one YAML-defined resource (``attr`` = the client manager)."""

    def __init__(self, kind: str, attr: str, columns: Sequence[str],
                 show_columns: Sequence[str], plural: str) -> None:
        self.kind, self.attr, self.plural = kind, attr, plural
        self.columns, self.show_columns = columns, show_columns

    def manager(self, client: Client) -> Any:
        """The client manager of this resource."""
        return getattr(client, self.attr)

    def create(self, client: Client, args: argparse.Namespace) -> int:
        """Create from every file given."""
        rows: list[dict[str, Any]] = []
        for path in args.files:
            rows.extend(_as_rows(self.manager(client).create(
                read_text(path), namespace=args.namespace,
                scope="public" if args.public else None)))
        print_list(args, rows, self.columns)
        return 0

    def update(self, client: Client, args: argparse.Namespace) -> int:
        """Update from one file."""
        extra = {"id": args.id} if getattr(args, "id", None) else {}
        result = self.manager(client).update(read_text(args.file), namespace=args.namespace,
                                             scope="public" if args.public else None, **extra)
        print_list(args, _as_rows(result), self.columns)
        return 0

    def list(self, client: Client, args: argparse.Namespace) -> int:
        """List with filters."""
        query = list_query(args, namespace=args.namespace)
        print_list(args, self.manager(client).list(**query), self.columns)
        return 0

    def get(self, client: Client, args: argparse.Namespace) -> int:
        """Show one."""
        row = self.manager(client).get(args.name, namespace=args.namespace)
        print_one(args, row, self.show_columns)
        return 0

    def definition(self, client: Client, args: argparse.Namespace) -> int:
        """Print the stored YAML."""
        text = self.manager(client).get(args.name, namespace=args.namespace).get("definition")
        text = text or ""
        sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
        return 0

    def delete(self, client: Client, args: argparse.Namespace) -> int:
        """Delete every name given."""
        manager = self.manager(client)
        return confirm_deleted(self.kind, args.names,
                               lambda n: manager.delete(n, namespace=args.namespace))

    def validate(self, client: Client, args: argparse.Namespace) -> int:
        """Validate on the server; exit 1 when invalid."""
        result = self.manager(client).validate(read_text(args.file))
        row = {"valid": bool(result.get("valid")), "error": result.get("error")}
        print_one(args, row, ["valid", "error"])
        return 0 if row["valid"] else 1

    def register(self, verbs: Any) -> None:
        """Add the verbs to ``wfaas <kind>``."""
        kind, plural = self.kind, self.plural
        p = verb(verbs, "create", command(self.create), f"create {plural} from YAML files")
        p.add_argument("files", nargs="+", metavar="FILE", help="YAML definition ('-': stdin)")
        _namespace(p)
        p.add_argument("--public", action="store_true", help="visible to every project")
        p = verb(verbs, "update", command(self.update), f"update {plural} from a YAML file")
        p.add_argument("file", metavar="FILE", help="YAML definition ('-': stdin)")
        _namespace(p)
        p.add_argument("--public", action="store_true", help="visible to every project")
        if self.attr == "workflows":
            p.add_argument("--id", help="UUID of the single workflow to update")
        p = verb(verbs, "list", command(self.list), f"list {plural}", aliases=["ls"])
        add_list_options(p)
        _namespace(p, None)
        for name, func, text, aliases in (
                ("get", self.get, f"show one {kind}", ["show"]),
                ("definition", self.definition, f"print the YAML of a {kind}", []),
                ("delete", self.delete, f"delete {plural}", ["rm"])):
            p = verb(verbs, name, command(func), text, output=name == "get", aliases=aliases)
            if name == "delete":
                p.add_argument("names", nargs="+", metavar="NAME", help="names or ids")
            else:
                p.add_argument("name", metavar="NAME", help="name or id")
            _namespace(p)
        p = verb(verbs, "validate", command(self.validate),
                 f"validate a {kind} file on the server")
        p.add_argument("file", metavar="FILE", help="YAML definition ('-': stdin)")


def add_definition_verbs(verbs: Any, kind: str, attr: str, columns: Sequence[str],
                         show_columns: Sequence[str], *, plural: str) -> None:
    """Register create/update/list/get/definition/delete/validate for one resource."""
    DefinitionVerbs(kind, attr, columns, show_columns, plural).register(verbs)
