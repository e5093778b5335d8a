#!/usr/bin/env python3
"""Comparison tables from saved family results (``families/run.py --json``).

    python3 tools/bench/report.py tools/bench/results/2026-12-03-s4-families-*.json --markdown

One table per family: one row per point, one column per result file (its ``--label``,
else the file name), then ratios. When a label contains "mistral", the ratios are
``Mistral median / other median`` (above 1: the other is faster); without one they are
``other / first file``. With ``--markdown`` the tables are also written between the
``<!-- bench:begin -->`` and ``<!-- bench:end -->`` markers of tools/bench/README.md
(``--readme`` picks another file, ``--no-write`` only prints). Stdlib only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from wfbench.report import _table  # noqa: E402

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "README.md")

#: Extra numbers worth showing per family: (key in a point's "extra", label, scale, unit).
NOTES: dict[str, list[tuple[str, str, float, str]]] = {
    "context": [("server_cpu_per_task_s", "CPU", 1000.0, " ms/task"),
                ("written_bytes_per_task", "written", 1 / 1024, " KB/task")],
    "retries": [("lateness_s", "late", 1000.0, " ms"),
                ("max_lateness_s", "at most", 1000.0, " ms")],
    "listing": [("rows", "rows", 1.0, ""), ("first_page_s", "first page", 1000.0, " ms"),
                ("last_page_s", "last page", 1000.0, " ms")],
    "nesting": [("executions", "executions", 1.0, "")],
}


def load(path: str) -> tuple[str, dict[str, Any]]:
    """A results file and its label (``info.label``, else the file name without .json)."""
    with open(path) as f:
        doc: dict[str, Any] = json.load(f)
    if "families" not in doc:
        raise ValueError(f"{path}: not a families result (no 'families' key)")
    label = doc.get("info", {}).get("label") or os.path.splitext(os.path.basename(path))[0]
    return str(label), doc


def fmt_value(v: float | None, unit: str) -> str:
    """A time in ms below 1 s, else in s (3 significant digits); '-' if absent."""
    if v is None:
        return "-"
    if unit.startswith("s") and abs(v) < 1:
        return f"{v * 1000:.3g} ms"
    return f"{v:.3g} s" if unit.startswith("s") else f"{v:.3g}"


def _ratio(ref: float | None, other: float | None) -> str:
    if ref is None or other is None or other <= 0 or ref <= 0:
        return "-"
    return f"x{ref / other:.3g}"


def _cell(point: dict[str, Any] | None) -> str:
    if point is None:
        return "absent"
    if point.get("median") is None:
        return "FAILED"
    cell = fmt_value(point["median"], point.get("unit", "s"))
    return cell + ("" if point.get("status") == "ok" else f" ({point.get('status')})")


def _num(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def _notes(family: str, labels: list[str], pts: list[dict[str, Any] | None]) -> str:
    parts = []
    for label, p in zip(labels, pts, strict=True):
        extra = (p or {}).get("extra", {})
        shown = [f"{name} {_num(extra[key] * scale)}{unit}"
                 for key, name, scale, unit in NOTES.get(family, []) if key in extra]
        cpu = extra.get("server_cpu_s")
        if cpu is not None:
            shown.append(f"CPU {cpu:.3g} s/rep")
        if shown:
            parts.append(f"{label}: " + ", ".join(shown))
    return "; ".join(parts)


def family_table(family: str, docs: list[tuple[str, dict[str, Any]]],
                 markdown: bool) -> str:
    """One family across the result files."""
    labels = [label for label, _ in docs]
    by_label = [{p["name"]: p for p in d["families"].get(family, {}).get("points", [])}
                for _, d in docs]
    names: list[str] = []
    for points in by_label:
        names += [n for n in points if n not in names]
    ref = next((i for i, lab in enumerate(labels) if "mistral" in lab.lower()), None)
    others = [i for i in range(len(labels)) if i != (0 if ref is None else ref)]
    if ref is None:
        ratio_heads = [f"{labels[i]} / {labels[0]}" for i in others]
    else:
        ratio_heads = [f"{labels[ref]} / {labels[i]}" for i in others]
    rows = []
    for name in names:
        pts = [points.get(name) for points in by_label]
        unit = next((p["unit"] for p in pts if p), "")
        meds = [p.get("median") if p else None for p in pts]
        if ref is None:
            ratios = [_ratio(meds[i], meds[0]) for i in others]
        else:
            ratios = [_ratio(meds[ref], meds[i]) for i in others]
        rows.append([name, unit, *[_cell(p) for p in pts], *ratios,
                     _notes(family, labels, pts)])
    headers = ["point", "value", *labels, *ratio_heads, "notes"]
    right = [False, False] + [True] * (len(labels) + len(ratio_heads)) + [False]
    return _table(headers, rows, markdown, right)


def render(docs: list[tuple[str, dict[str, Any]]], markdown: bool,
           sources: list[str] | None = None) -> str:
    """Every family found in any file, in order of first appearance."""
    families: list[str] = []
    for _, d in docs:
        families += [f for f in d["families"] if f not in families]
    out = []
    for label, d in docs:
        info = d.get("info", {})
        out.append(f"- {label}: {info.get('started', '?')} UTC, {info.get('reps')} rep(s)"
                   f"{', SMOKE sizes' if info.get('smoke') else ''}, load average "
                   f"{_load(info)}, nproc {info.get('nproc', '?')}"
                   + (f", server VmHWM {info['server_VmHWM_mb']} MB"
                      if info.get("server_VmHWM_mb") else ""))
    if sources:
        out.append("- files: " + ", ".join(f"`{s}`" for s in sources))
    for fam in families:
        if all("points" not in d["families"].get(fam, {}) for _, d in docs):
            out += ["", f"### {fam}" if markdown else fam, "",
                    "(standalone script: no points in this harness's format)"]
            continue
        desc = next((d["families"][fam].get("description") for _, d in docs
                     if d["families"].get(fam, {}).get("description")), "")
        out += ["", f"### {fam}" if markdown else f"== {fam}", ""]
        if desc:
            desc = re.sub(r"^Family ``[a-z_]+``: ", "", desc).replace("``", "`")
            out += [desc[:1].upper() + desc[1:], ""]
        out.append(family_table(fam, docs, markdown))
    return "\n".join(out)


def _load(info: dict[str, Any]) -> str:
    loads = [info.get(k) for k in ("loadavg_start", "loadavg_end")]
    return " -> ".join(f"{v:.1f}" for v in loads if isinstance(v, int | float)) or "?"


def rewrite_block(text: str, block: str) -> str:
    """``text`` with everything between the markers replaced by ``block``."""
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise ValueError(f"markers {BEGIN} ... {END} not found")
    return pattern.sub(lambda _m: f"{BEGIN}\n{block.strip()}\n{END}", text, count=1)


def main(argv: list[str] | None = None) -> int:
    """Print the tables; with --markdown also rewrite the README block. 2 on bad input."""
    p = argparse.ArgumentParser(prog="report.py", description=__doc__.splitlines()[0])
    p.add_argument("files", nargs="+", help="families/run.py --json files")
    p.add_argument("--markdown", action="store_true",
                   help="Markdown, and rewrite the marked block of --readme")
    p.add_argument("--readme", default=README, help="file with the bench markers")
    p.add_argument("--no-write", action="store_true", help="with --markdown: only print")
    args = p.parse_args(argv)
    try:
        docs = [load(f) for f in args.files]
    except (OSError, ValueError) as e:
        print(f"report.py: {e}", file=sys.stderr)
        return 2
    sources = [os.path.basename(f) for f in args.files]
    text = render(docs, args.markdown, sources)
    try:
        print(text)
    except BrokenPipeError:  # e.g. piped into head
        sys.stderr.close()
    if args.markdown and not args.no_write:
        try:
            with open(args.readme) as f:
                new = rewrite_block(f.read(), text)
        except (OSError, ValueError) as e:
            print(f"report.py: {args.readme}: {e}", file=sys.stderr)
            return 2
        with open(args.readme, "w") as f:
            f.write(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
