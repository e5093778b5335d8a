"""``wfaas completion bash|zsh|fish``: print a shell completion script.

The script is generated from the live argument parser, so every resource,
verb and option the tool knows is completed (file names where none match).
Where a command takes a workflow name, an execution id, an action name, an
environment, a cron trigger... the script asks the server for them through
``wfaas completion --names KIND --prefix TEXT`` (short timeout, silent on any
failure: no server, no credentials, an old server).

    source <(wfaas completion bash)                       # ~/.bashrc
    source <(wfaas completion zsh)                        # ~/.zshrc (after compinit)
    wfaas completion fish > ~/.config/fish/completions/wfaas.fish
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from wfaas.cmd.completion_scripts import SCRIPTS, Completion, Tree

#: rows asked of the server per completion
LIMIT = 200
#: seconds one name lookup may take (``WFAAS_COMPLETE_TIMEOUT`` overrides)
TIMEOUT = 1.5
STATES = ("IDLE", "RUNNING", "RUNNING_DELAYED", "PAUSED", "WAITING", "SUCCESS", "ERROR",
          "CANCELLED", "SKIPPED")
#: resource command (canonical name) -> the kind of its NAME / ID / ACTION positionals
RESOURCE_KINDS = {"workbook": "workbooks", "workflow": "workflows", "execution": "executions",
                  "task": "tasks", "action": "actions", "action-execution": "action-executions",
                  "cron-trigger": "cron-triggers", "event-trigger": "event-triggers",
                  "environment": "environments"}
#: metavar (positional or option value) -> kind, wherever it appears
METAVAR_KINDS = {"WORKFLOW": "workflows", "EXECUTION_ID": "executions", "TASK_ID": "tasks",
                 "ENV": "environments"}
#: option dest -> kind, for options without a telling metavar
OPTION_KINDS = {"workflow": "workflows"}


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> tuple[list[str], list[str]]:
    """(every option string, the options that take a value)."""
    names: list[str] = []
    valued: list[str] = []
    for action in parser._actions:
        names.extend(s for s in action.option_strings if s.startswith("--"))
        if action.option_strings and action.nargs != 0:
            valued.extend(action.option_strings)
    return sorted(set(names)), valued


def command_tree(parser: argparse.ArgumentParser) -> tuple[Tree, list[str]]:
    """``{command: {verb: [options]}}`` (verb "" = the command's own options)
    and every option that takes a value."""
    tree: Tree = {}
    top_opts, valued = _options(parser)
    tree[""] = {"": sorted(_subparsers(parser)) + top_opts}
    for name, sub in _subparsers(parser).items():
        verbs = _subparsers(sub)
        opts, more = _options(sub)
        valued.extend(more)
        tree[name] = {"": sorted(verbs) + opts}
        for verb_name, verb_parser in verbs.items():
            vopts, more = _options(verb_parser)
            valued.extend(more)
            tree[name][verb_name] = vopts
    return tree, sorted(set(valued))


def _positional_kind(resource: str, verb: str, action: argparse.Action) -> str:
    metavar = str(action.metavar or action.dest).upper()
    if metavar in METAVAR_KINDS:
        return METAVAR_KINDS[metavar]
    if metavar in ("ID", "NAME", "ACTION") and not (verb == "create" and metavar == "NAME"):
        return RESOURCE_KINDS.get(resource, "")
    return ""


def _option_value(action: argparse.Action) -> str:
    """``@kind`` (names from the server), the option's choices, or "" (files)."""
    if action.choices:
        return " ".join(map(str, action.choices))
    metavar = str(action.metavar or "").upper()
    kind = METAVAR_KINDS.get(metavar) or OPTION_KINDS.get(action.dest, "")
    if kind:
        return f"@{kind}"
    return " ".join(STATES) if action.dest == "state" else ""


def _verb_slots(resource: str, verb: str, parser: argparse.ArgumentParser) -> dict[str, str]:
    slots: dict[str, str] = {}
    index = 0
    for action in parser._actions:
        if action.option_strings:
            if action.nargs != 0 and (value := _option_value(action)):
                for option in action.option_strings:
                    slots[option] = value
        elif not isinstance(action, argparse._SubParsersAction):
            kind = _positional_kind(resource, verb, action)
            many = action.nargs in ("+", "*") and index == 0
            if kind:
                slots["p*" if many else f"p{index}"] = f"@{kind}"
            index += 1
    return slots


def completion_slots(parser: argparse.ArgumentParser) -> dict[str, str]:
    """``{"cmd/verb/slot": "@kind" | "static words"}``; slot ``p0``, ``p1``... is a
    positional (``p*``: all of them), ``--opt`` the value of an option."""
    out: dict[str, str] = {}
    for name, sub in _subparsers(parser).items():
        resource = sub.prog.split()[-1]
        for verb_name, verb_parser in _subparsers(sub).items():
            for slot, value in _verb_slots(resource, verb_name, verb_parser).items():
                out[f"{name}/{verb_name}/{slot}"] = value
    return out


def completion_data(parser: argparse.ArgumentParser) -> Completion:
    """Everything a completion script is generated from."""
    tree, valued = command_tree(parser)
    top = [s for a in parser._actions for s in a.option_strings if a.nargs != 0]
    return Completion(tree, valued, sorted(set(top)), completion_slots(parser))


# -- names from the server -----------------------------------------------------------------

Row = dict[str, Any]
Lookup = Callable[[Any, str], list[tuple[str, str]]]


def _describe(row: Row, fields: Sequence[str]) -> str:
    return " ".join(str(row.get(f)) for f in fields if row.get(f) not in (None, ""))


def _named(attr: str, *desc: str) -> Lookup:
    def lookup(client: Any, prefix: str) -> list[tuple[str, str]]:
        filters = {"name": f"has:{prefix}"} if prefix else {}
        rows = getattr(client, attr).list(limit=LIMIT, **filters)
        return [(str(r["name"]), _describe(r, desc)) for r in rows
                if str(r.get("name") or "").startswith(prefix)]
    return lookup


def _recent(attr: str, *desc: str) -> Lookup:
    def lookup(client: Any, prefix: str) -> list[tuple[str, str]]:
        rows = getattr(client, attr).list(limit=LIMIT, sort_keys="created_at",
                                          sort_dirs="desc")
        return [(str(r["id"]), _describe(r, desc)) for r in rows
                if str(r.get("id") or "").startswith(prefix)]
    return lookup


KINDS: dict[str, Lookup] = {
    "workflows": _named("workflows", "namespace", "scope"),
    "workbooks": _named("workbooks", "namespace", "scope"),
    "actions": _named("actions", "description"),
    "environments": _named("environments", "description"),
    "cron-triggers": _named("cron_triggers", "pattern", "workflow_name"),
    "executions": _recent("executions", "workflow_name", "state", "created_at"),
    "tasks": _recent("tasks", "name", "state", "workflow_name"),
    "action-executions": _recent("action_executions", "name", "state"),
    "event-triggers": _recent("event_triggers", "name", "workflow_id"),
}


def print_names(args: argparse.Namespace) -> int:
    """Print ``value<TAB>description`` lines of ``args.names``; nothing at all on failure."""
    import logging

    from wfaas.cmd.client_common import make_client

    logging.disable(logging.CRITICAL)
    try:
        args.timeout = float(os.environ.get("WFAAS_COMPLETE_TIMEOUT") or TIMEOUT)
        rows = KINDS[args.names](make_client(args), args.prefix or "")
    except Exception:  # noqa: BLE001 - completion stays silent: no server, no auth, ...
        return 0
    for value, description in rows[:LIMIT]:
        print(f"{value}\t{' '.join(description.split())[:60]}")
    return 0


def names_main(argv: Sequence[str]) -> int:
    """``wfaas [connection options] completion --names KIND [--prefix TEXT]`` without
    building the whole command parser (a TAB press should not wait for it)."""
    from wfaas.cmd.client_common import add_connection_options

    parser = argparse.ArgumentParser(prog="wfaas", add_help=False)
    add_connection_options(parser)
    parser.add_argument("command")
    parser.add_argument("--names", choices=sorted(KINDS), required=True)
    parser.add_argument("--prefix", default="")
    try:
        args, _ = parser.parse_known_args(list(argv))
    except SystemExit:
        return 0
    return print_names(args)


def run(args: argparse.Namespace) -> int:
    """Print the completion script for ``args.shell`` (or names with ``--names``)."""
    if args.names:
        return print_names(args)
    if not args.shell:
        print("error: which shell? wfaas completion bash|zsh|fish", file=sys.stderr)
        return 2
    from wfaas.cmd.cli import build_parser

    print(SCRIPTS[args.shell](completion_data(build_parser())), end="")
    return 0


def add_parser(subparsers: Any) -> None:
    """Register ``wfaas completion``."""
    p = subparsers.add_parser("completion", help="print a bash, zsh or fish completion script",
                              description="Print a shell completion script: "
                                          "source <(wfaas completion bash)")
    p.add_argument("shell", nargs="?", choices=sorted(SCRIPTS))
    p.add_argument("--names", choices=sorted(KINDS),
                   help="print the server's names or ids of this kind (used by the scripts)")
    p.add_argument("--prefix", default="", help="with --names: only those starting so")
    p.set_defaults(func=run)
