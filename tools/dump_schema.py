#!/usr/bin/env python3
"""Write the JSON Schema of DSL v2 (from wfaas.lang.schema) to wfaas/lang/dsl-v2.schema.json.

Usage: python tools/dump_schema.py [--check] [OUTPUT]
With --check, exit 1 when the committed file differs from what would be written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DEFAULT = Path(__file__).resolve().parent.parent / "wfaas" / "lang" / "dsl-v2.schema.json"


def render() -> str:
    """The schema file's exact content."""
    from wfaas.lang.schema import json_schema

    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", default=str(DEFAULT))
    parser.add_argument("--check", action="store_true",
                        help="only compare; exit 1 when the file is out of date")
    args = parser.parse_args(argv)
    out = Path(args.output)
    text = render()
    if args.check:
        current = out.read_text(encoding="utf-8") if out.exists() else ""
        if current != text:
            print(f"{out} is out of date: run python tools/dump_schema.py", file=sys.stderr)
            return 1
        return 0
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
