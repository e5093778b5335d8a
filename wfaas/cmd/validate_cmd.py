"""``wfaas validate FILE...``: check workflow, workbook and action files offline.

Every problem is printed as ``file:line:column: path: message`` (or, with
``-f json``, as a JSON list of ``{file, line, column, path, message}``).
The exit code is 1 when any file has a problem, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from wfaas.lang import KINDS, detect_kind, validate_text


def add_parser(subparsers: Any) -> None:
    """Register the ``validate`` subcommand."""
    parser = subparsers.add_parser(
        "validate", help="check workflow, workbook and ad-hoc action files",
        description="Check DSL v2 documents and print every problem with its line and column.")
    parser.add_argument("files", nargs="+", metavar="FILE", help="YAML files ('-' for stdin)")
    parser.add_argument("-f", "--format", choices=("table", "json"), default="table",
                        help="output format (default: table)")
    parser.add_argument("-k", "--kind", choices=KINDS, default=None,
                        help="document kind (default: detected from each file)")
    parser.set_defaults(func=run)


def _read(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    with open(name, encoding="utf-8") as handle:
        return handle.read()


def collect(files: list[str], kind: str | None = None) -> list[dict[str, Any]]:
    """Every problem of ``files`` as dicts (file, line, column, path, message)."""
    rows: list[dict[str, Any]] = []
    for name in files:
        try:
            text = _read(name)
        except (OSError, UnicodeDecodeError) as exc:
            rows.append({"file": name, "line": None, "column": None, "path": "",
                         "message": f"cannot read the file: {exc}"})
            continue
        file_kind = kind or detect_kind(text)
        for problem in validate_text(text, file_kind):
            rows.append({"file": name, **problem.to_dict()})
    return rows


def _table(rows: list[dict[str, Any]], files: list[str]) -> str:
    lines = []
    for row in rows:
        where = f"{row['file']}:{row['line'] or 0}:{row['column'] or 0}"
        path = f" {row['path']}:" if row["path"] else ""
        lines.append(f"{where}:{path} {row['message']}")
    bad = len({r["file"] for r in rows})
    if rows:
        lines.append(f"{len(rows)} problem(s) in {bad} of {len(files)} file(s)")
    else:
        lines.append(f"{len(files)} file(s) valid")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Validate the files named on the command line; 1 when any problem was found."""
    rows = collect(list(args.files), args.kind)
    if args.format == "json":
        out = json.dumps([{k: r[k] for k in ("file", "line", "column", "path", "message")}
                          for r in rows], indent=2)
    else:
        out = _table(rows, list(args.files))
    print(out)
    return 1 if rows else 0
