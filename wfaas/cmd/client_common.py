"""Shared plumbing of the ``wfaas`` REST subcommands: connection options, the
client, input parsing, output formatting (table / json / yaml, ``--fields``) and
the one-line error report."""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

import yaml

from wfaas.client import DEFAULT_URL, APIError, AuthOptions, Client, Resource

Handler = Callable[[argparse.Namespace], int | None]

STATE_COLOURS = {
    "SUCCESS": "32", "ERROR": "31", "CANCELLED": "35", "RUNNING": "33", "RUNNING_DELAYED": "33",
    "WAITING": "36", "IDLE": "36", "PAUSED": "34", "SKIPPED": "90",
}

# (option, env vars, AuthOptions field, help)
AUTH_OPTIONS: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    ("--os-auth-url", ("OS_AUTH_URL",), "auth_url", "Keystone URL (enables authentication)"),
    ("--os-username", ("OS_USERNAME",), "username", "user name"),
    ("--os-user-id", ("OS_USER_ID",), "user_id", "user id"),
    ("--os-password", ("OS_PASSWORD",), "password", "password"),
    ("--os-project-name", ("OS_PROJECT_NAME", "OS_TENANT_NAME"), "project_name", "project"),
    ("--os-project-id", ("OS_PROJECT_ID", "OS_TENANT_ID"), "project_id", "project id"),
    ("--os-user-domain-name", ("OS_USER_DOMAIN_NAME",), "user_domain_name", "user domain"),
    ("--os-user-domain-id", ("OS_USER_DOMAIN_ID",), "user_domain_id", "user domain id"),
    ("--os-project-domain-name", ("OS_PROJECT_DOMAIN_NAME",), "project_domain_name",
     "project domain"),
    ("--os-project-domain-id", ("OS_PROJECT_DOMAIN_ID",), "project_domain_id",
     "project domain id"),
    ("--os-token", ("OS_TOKEN", "OS_AUTH_TOKEN"), "token",
     "a token (sent as is without --os-auth-url, else re-scoped through Keystone)"),
    ("--os-region-name", ("OS_REGION_NAME",), "region_name", "region of the catalog endpoint"),
    ("--os-interface", ("OS_INTERFACE",), "interface", "catalog interface (default public)"),
    ("--os-cacert", ("OS_CACERT",), "cacert", "CA bundle for TLS"),
)


class UsageError(Exception):
    """A mistake on the command line or in an input file (exit code 2)."""


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def add_connection_options(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    """``--url``, the Keystone ``--os-*`` options, ``--insecure``, ``--timeout``, ``--no-color``.

    Defaults come from ``WFAAS_URL`` and the standard ``OS_*`` variables. With
    ``suppress`` (on each verb) the options are accepted but not listed in the
    help, and only override what the top-level parser set when given.
    """
    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    def text(value: str) -> str:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("connection") if not suppress else parser
    group.add_argument("--url", default=default(_env("WFAAS_URL", "OS_WORKFLOW_URL")),
                       help=text(f"API endpoint (env WFAAS_URL; default {DEFAULT_URL}, or the "
                                 "catalog's workflowv2 endpoint with --os-auth-url)"))
    for option, envs, dest, help_text in AUTH_OPTIONS:
        fallback = "public" if dest == "interface" else None
        group.add_argument(option, dest=f"os_{dest}", metavar="VALUE",
                           default=default(_env(*envs) or fallback),
                           help=text(f"{help_text} (env {envs[0]})"))
    group.add_argument("--insecure", action="store_true", default=default(False),
                       help=text("do not verify TLS certificates"))
    group.add_argument("--timeout", type=float, default=default(60.0),
                       help=text("seconds to wait for each HTTP answer (default 60)"))
    group.add_argument("--no-color", action="store_true", default=default(False),
                       help=text("never colour the output (also env NO_COLOR)"))


def auth_options(args: argparse.Namespace) -> AuthOptions:
    """The Keystone options of the parsed command line."""
    values = {dest: getattr(args, f"os_{dest}", None) or "" for _, _, dest, _ in AUTH_OPTIONS}
    values["interface"] = values["interface"] or "public"
    return AuthOptions(**values, insecure=bool(getattr(args, "insecure", False)))


def make_client(args: argparse.Namespace) -> Client:
    """The REST client for the parsed connection options."""
    # keystoneauth warns on stderr about version discovery; errors are reported by us.
    logging.getLogger("keystoneauth").setLevel(logging.ERROR)
    return Client.from_auth(getattr(args, "url", None), auth_options(args),
                            timeout=getattr(args, "timeout", 60.0))


def command(func: Callable[[Client, argparse.Namespace], int | None]) -> Handler:
    """Wrap a subcommand: build the client, report any failure as one ``error:`` line."""
    @functools.wraps(func)
    def run(args: argparse.Namespace) -> int:
        try:
            return int(func(make_client(args), args) or 0)
        except APIError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        except UsageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except BrokenPipeError:
            return 0
    return run


# -- input ---------------------------------------------------------------------------------

def read_text(path: str) -> str:
    """The content of ``path`` (``-`` = stdin); a missing file is a UsageError."""
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None


def parse_value(text: str) -> Any:
    """A ``-i key=value`` value: JSON when it parses (1, true, [..], {..}), else the string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def load_object(source: str | None, what: str = "input") -> dict[str, Any]:
    """A JSON object given inline, or a JSON/YAML file name (``@file`` or a plain path)."""
    if not source:
        return {}
    text = source.strip()
    if text.startswith("@"):
        text = read_text(text[1:])
    elif not text.startswith(("{", "[")) and os.path.exists(text):
        text = read_text(text)
    try:
        value = json.loads(text)
    except ValueError:
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise UsageError(f"{what} is neither JSON nor YAML: {exc}") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UsageError(f"{what} must be a JSON object, got {type(value).__name__}: {source}")
    return value


def merge_pairs(base: dict[str, Any], pairs: Sequence[str] | None,
                what: str = "-i") -> dict[str, Any]:
    """``base`` updated with ``key=value`` pairs (values parsed by :func:`parse_value`)."""
    out = dict(base)
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{what} expects key=value, got {pair!r}")
        out[key.strip()] = parse_value(value)
    return out


# -- output --------------------------------------------------------------------------------

def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``-f table|json|yaml``, ``--fields a,b`` (``-c a -c b``) and ``--max-width``."""
    parser.add_argument("-f", "--format", choices=("table", "json", "yaml", "value"),
                        default="table", help="output format (default: table)")
    parser.add_argument("--fields", "-c", dest="fields", action="append", metavar="FIELD[,..]",
                        help="columns to show (repeatable or comma separated)")
    parser.add_argument("--max-width", type=int, default=60, metavar="N",
                        help="cut list cells longer than N characters in tables (0: never)")


def use_colour(args: argparse.Namespace, stream: TextIO | None = None) -> bool:
    """Colour only on a terminal, unless ``--no-color`` or ``NO_COLOR``."""
    stream = stream or sys.stdout
    if getattr(args, "no_color", False) or os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def paint(text: str, code: str | None, colour: bool) -> str:
    """``text`` wrapped in an ANSI colour when ``colour``."""
    return f"\x1b[{code}m{text}\x1b[0m" if colour and code else text


def wanted_fields(args: argparse.Namespace, default: Sequence[str]) -> list[str]:
    """The columns asked with ``--fields`` (else ``default``)."""
    chosen: list[str] = []
    for item in getattr(args, "fields", None) or ():
        chosen.extend(f.strip() for f in item.split(",") if f.strip())
    return chosen or list(default)


def cell(value: Any) -> str:
    """One value as table text (objects as indented JSON, None as empty)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2, sort_keys=False, default=str) if value else \
            json.dumps(value)
    return str(value)


def compact(value: Any) -> str:
    """One value on one line (objects as compact JSON)."""
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return cell(value)


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]],
                 colourise: Callable[[int, str, str], str] | None = None) -> str:
    """An ASCII box table; cells may span several lines."""
    split = [[c.split("\n") for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in split:
        for i, lines in enumerate(row):
            widths[i] = max(widths[i], *(len(line) for line in lines))
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    head = " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [rule, f"| {head} |", rule]
    for row in split:
        height = max(len(lines) for lines in row)
        for n in range(height):
            parts = []
            for i, lines in enumerate(row):
                text = lines[n] if n < len(lines) else ""
                padded = text.ljust(widths[i])
                parts.append(colourise(i, text, padded) if colourise else padded)
            out.append("| " + " | ".join(parts) + " |")
    out.append(rule)
    return "\n".join(out)


def _state_colouriser(headers: Sequence[str], colour: bool) -> Callable[[int, str, str], str]:
    def colourise(index: int, text: str, padded: str) -> str:
        if colour and headers[index] in ("state", "Value") and text in STATE_COLOURS:
            return paint(text, STATE_COLOURS[text], True) + padded[len(text):]
        return padded
    return colourise


def _cut(text: str, width: int) -> str:
    text = text.replace("\n", " ") if width else text
    return text if not width or len(text) <= width else text[: width - 3] + "..."


def _select(row: Resource, fields: Sequence[str]) -> dict[str, Any]:
    return {f: row.get(f) for f in fields}


def dump(value: Any, fmt: str, out: TextIO | None = None) -> None:
    """Print ``value`` as JSON or YAML."""
    out = out or sys.stdout
    if fmt == "yaml":
        out.write(yaml.safe_dump(value, sort_keys=False, default_flow_style=False,
                                 allow_unicode=True))
    else:
        out.write(json.dumps(value, indent=2, default=str) + "\n")


def print_list(args: argparse.Namespace, rows: Sequence[Resource],
               columns: Sequence[str]) -> None:
    """Print rows as a table (``columns`` unless ``--fields``), JSON or YAML."""
    fields = wanted_fields(args, columns)
    selected = [_select(r, fields) for r in rows]
    fmt = getattr(args, "format", "table")
    if fmt in ("json", "yaml"):
        dump(selected, fmt)
        return
    if fmt == "value":
        for row in selected:
            print(" ".join(cell(row[f]).replace("\n", " ") for f in fields))
        return
    width = getattr(args, "max_width", 60)
    body = [[_cut(compact(row[f]) if width else cell(row[f]), width) for f in fields]
            for row in selected]
    print(render_table(fields, body, _state_colouriser(fields, use_colour(args))))


def print_one(args: argparse.Namespace, row: Resource,
              columns: Sequence[str] | None = None) -> None:
    """Print one resource as a Field/Value table, JSON or YAML."""
    fields = wanted_fields(args, columns or list(row))
    selected = _select(row, fields)
    fmt = getattr(args, "format", "table")
    if fmt in ("json", "yaml"):
        dump(selected, fmt)
        return
    if fmt == "value":
        for f in fields:
            print(cell(selected[f]))
        return
    body = [[f, cell(selected[f])] for f in fields]
    print(render_table(["Field", "Value"], body,
                       _state_colouriser(["Field", "Value"], use_colour(args))))


def print_data(args: argparse.Namespace, value: Any) -> None:
    """Print a free-form value (an output, a result): JSON unless ``-f yaml``."""
    fmt = getattr(args, "format", "json")
    if fmt == "yaml":
        dump(value, "yaml")
    elif fmt == "value" and isinstance(value, str):
        print(value)
    else:
        dump(value, "json")


def add_list_options(parser: argparse.ArgumentParser, default_limit: int | None = None) -> None:
    """Pagination, sorting and ``--filter key=[op:]value`` options of list commands."""
    parser.add_argument("--limit", type=int, default=default_limit,
                        help="at most N rows" + (f" (default {default_limit}; -1: all)"
                                                 if default_limit else " (default: all)"))
    parser.add_argument("--marker", help="id of the last row of the previous page")
    parser.add_argument("--sort-keys", help="comma list of columns to sort by")
    parser.add_argument("--sort-dirs", help="comma list of asc/desc")
    parser.add_argument("--filter", action="append", metavar="KEY=[OP:]VALUE",
                        help="filter rows, e.g. state=ERROR, created_at=gte:2026-01-01 "
                             "(ops: eq neq lt lte gt gte in nin has); repeatable")


def list_query(args: argparse.Namespace, **extra: Any) -> dict[str, Any]:
    """The keyword arguments of a manager ``list`` call from list options."""
    limit = getattr(args, "limit", None)
    query: dict[str, Any] = {
        "limit": None if limit is None or limit < 0 else limit,
        "marker": getattr(args, "marker", None),
        "sort_keys": getattr(args, "sort_keys", None),
        "sort_dirs": getattr(args, "sort_dirs", None),
    }
    for item in getattr(args, "filter", None) or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--filter expects key=[op:]value, got {item!r}")
        query[key.strip()] = value
    query.update({k: v for k, v in extra.items() if v is not None})
    return query


def confirm_deleted(kind: str, names: Sequence[str], delete: Callable[[str], None]) -> int:
    """Delete each name, reporting each failure; exit code 1 when any failed."""
    failed = 0
    for name in names:
        try:
            delete(name)
            print(f"{kind} {name} deleted")
        except APIError as exc:
            print(f"error: {kind} {name}: {exc}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


def resource_parser(subparsers: Any, name: str, help_text: str,
                    aliases: Sequence[str] = ()) -> Any:
    """Register ``wfaas <name>`` and return the subparsers of its verbs."""
    parser = subparsers.add_parser(name, aliases=list(aliases), help=help_text,
                                   description=help_text)
    parser.set_defaults(func=lambda _args: parser.print_help() or 2)
    return parser.add_subparsers(dest="verb", metavar="VERB")


def verb(verbs: Any, name: str, func: Handler, help_text: str, *, output: bool = True,
         aliases: Sequence[str] = ()) -> argparse.ArgumentParser:
    """Register one verb: its handler, the output options and the connection options."""
    parser: argparse.ArgumentParser = verbs.add_parser(
        name, aliases=list(aliases), help=help_text, description=help_text,
        epilog="The connection options of 'wfaas --help' (--url, --os-*...) work here too.")
    if output:
        add_output_options(parser)
    add_connection_options(parser, suppress=True)
    parser.set_defaults(func=func)
    return parser
