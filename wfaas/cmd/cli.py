"""The ``wfaas`` command: the REST client (``wfaas <resource> <verb> ...``) and the
offline tools (``validate``, ``run``).

Each subcommand lives in its own module exposing ``add_parser(subparsers)``,
which registers the subcommand and sets ``func`` (a callable taking the parsed
arguments and returning the exit code). Modules that are not there yet are
skipped, so the tool grows one module at a time.

Connection options (``--url``, ``--os-*``...) may stand before the resource or
after the verb; they default to ``WFAAS_URL`` and the standard ``OS_*``
variables.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from wfaas.cmd.client_common import add_connection_options

SUBCOMMAND_MODULES = (
    "wfaas.cmd.client_workbooks",
    "wfaas.cmd.client_workflows",
    "wfaas.cmd.client_executions",
    "wfaas.cmd.client_tasks",
    "wfaas.cmd.client_actions",
    "wfaas.cmd.client_triggers",
    "wfaas.cmd.client_environments",
    "wfaas.cmd.validate_cmd",
    "wfaas.cmd.run_cmd",
    "wfaas.cmd.client_completion",
)

EPILOG = """examples:
  wfaas workflow create wf.yaml
  wfaas execution create my_wf -i x=1 --wait
  wfaas execution graph <id> -o graph.svg
  wfaas validate wf.yaml          (offline)
  wfaas run wf.yaml -i x=1        (offline, no server)
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="wfaas", description="wfaas workflow service: REST client and offline tools",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_connection_options(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``wfaas`` console script."""
    words = list(sys.argv[1:] if argv is None else argv)
    if "--names" in words and "completion" in words:     # a shell's TAB: the short way
        from wfaas.cmd.client_completion import names_main

        return names_main(words)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
