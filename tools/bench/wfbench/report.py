"""Summaries, growth factors, the human tables (plain or Markdown) and --compare."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from typing import Any


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Fold the reps of one workload: statistics over the reps that succeeded only."""
    ok = [r for r in runs if r.get("ok")]
    status = "ok" if ok and len(ok) == len(runs) else ("partial" if ok else "failed")
    out: dict[str, Any] = {"status": status, "reps": len(runs), "ok_reps": len(ok),
                           "unit": next((r["unit"] for r in ok), "")}
    if ok:
        vals = [r["value"] for r in ok]
        out.update(median=statistics.median(vals), min=min(vals), max=max(vals))
        keys = sorted({k for r in ok for k in r.get("derived", {})})
        out["derived"] = {k: statistics.median([r["derived"][k] for r in ok
                                                if k in r.get("derived", {})]) for k in keys}
    peaks = [r["peak_rss_mb"] for r in runs if r.get("peak_rss_mb") is not None]
    starts = [r["rss_start_mb"] for r in runs if r.get("rss_start_mb") is not None]
    if peaks:
        out["peak_rss_mb"] = max(peaks)
    if starts:
        out["rss_start_mb"] = min(starts)
    errors = [r["error"] for r in runs if r.get("error")]
    if errors:
        out["errors"] = errors
    return out


def growth(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Growth factors between consecutive sizes of each scaling family that ran.

    ``time_factor / size_factor`` near 1 means linear; ``rss_delta_factor`` compares
    the memory each size added over the RSS at its start.
    """
    families: dict[str, list[tuple[int, str, dict[str, Any]]]] = {}
    for name, res in results.items():
        if res.get("family") and res.get("size") and res.get("median") is not None:
            families.setdefault(res["family"], []).append((res["size"], name, res))
    rows = []
    for fam, members in families.items():
        members.sort(key=lambda m: m[0])
        for (s1, n1, r1), (s2, n2, r2) in zip(members, members[1:], strict=False):
            if s1 == s2:
                continue
            row: dict[str, Any] = {
                "family": fam, "from": n1, "to": n2, "size_factor": s2 / s1,
                "time_factor": _ratio(r2["median"], r1["median"]),
                "s_per_unit_from": r1["median"] / s1, "s_per_unit_to": r2["median"] / s2,
            }
            if r1.get("peak_rss_mb") and r2.get("peak_rss_mb"):
                row["peak_rss_factor"] = r2["peak_rss_mb"] / r1["peak_rss_mb"]
                d1 = r1["peak_rss_mb"] - r1.get("rss_start_mb", 0)
                d2 = r2["peak_rss_mb"] - r2.get("rss_start_mb", 0)
                row["rss_delta_mb_from"], row["rss_delta_mb_to"] = round(d1, 1), round(d2, 1)
                row["rss_delta_factor"] = _ratio(d2, d1)
            rows.append(row)
    return rows


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or not b or b <= 0:
        return None
    return a / b


def _f(v: Any, digits: int = 3) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _table(headers: Sequence[str], rows: list[list[str]], markdown: bool,
           right: Sequence[bool] | None = None) -> str:
    right = right or [False] * len(headers)
    if markdown:
        lines = ["| " + " | ".join(headers) + " |",
                 "| " + " | ".join("---:" if r else "---" for r in right) + " |"]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if r else c.ljust(w)
                         for c, w, r in zip(cells, widths, right, strict=True)).rstrip()

    return "\n".join([fmt(headers), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows])


_DERIVED_SHOWN = ("wf_per_s", "tasks_per_s", "items_per_s", "post_all_s")


def results_table(doc: dict[str, Any], markdown: bool = False) -> str:
    """The main table: one row per workload."""
    rows = []
    for name, res in doc["results"].items():
        derived = res.get("derived", {})
        extras = ", ".join(f"{k}={derived[k]:.2f}" for k in _DERIVED_SHOWN if k in derived)
        if res.get("status") != "ok" and res.get("errors"):
            extras = (extras + "; " if extras else "") + "error: " + res["errors"][-1][:120]
        rows.append([name, res.get("status", "ok" if "median" in res else "failed"),
                     f"{res.get('ok_reps', '?')}/{res.get('reps', '?')}",
                     _f(res.get("median")), _f(res.get("min")), _f(res.get("max")),
                     res.get("unit", ""), _f(res.get("peak_rss_mb"), 1), extras])
    headers = ["workload", "status", "ok", "median", "min", "max", "unit", "peak RSS MB",
               "derived (median)"]
    right = [False, False, True, True, True, True, False, True, False]
    out = [_table(headers, rows, markdown, right)]
    if doc.get("growth"):
        out += ["", "Growth between sizes (time_factor / size_factor near 1 = linear):", "",
                growth_table(doc["growth"], markdown)]
    out.append("")
    out.append(info_line(doc.get("info", {})))
    return "\n".join(out)


def growth_table(rows_in: list[dict[str, Any]], markdown: bool = False) -> str:
    """Growth factors as a table."""
    def times(v: float | None) -> str:
        return "-" if v is None else f"x{v:.2f}"

    rows = [[g["family"], f"{g['from']} -> {g['to']}", f"x{g['size_factor']:g}",
             times(g.get("time_factor")), _f(g["s_per_unit_from"] * 1000, 3),
             _f(g["s_per_unit_to"] * 1000, 3), times(g.get("peak_rss_factor")),
             "-" if g.get("rss_delta_mb_from") is None else
             f"{_f(g['rss_delta_mb_from'], 1)} -> {_f(g['rss_delta_mb_to'], 1)}"]
            for g in rows_in]
    headers = ["family", "sizes", "size", "time", "ms/unit before", "ms/unit after",
               "peak RSS", "RSS added MB"]
    return _table(headers, rows, markdown, [False, False, True, True, True, True, True, True])


def info_line(info: dict[str, Any]) -> str:
    """One line about the run: server, wait strategy, memory high-water mark, DB size."""
    parts = [f"url {info.get('url')}"]
    if info.get("wait"):
        parts.append(f"wait {info['wait']} (poll {info.get('poll')} s)")
    if info.get("server_VmHWM_mb") is not None:
        parts.append(f"server VmHWM {info['server_VmHWM_mb']} MB")
    if info.get("db_bytes") is not None:
        parts.append(f"DB {info['db_bytes'] / 1e6:.1f} MB")
    parts.append(f"nproc {info.get('nproc')}; python {info.get('python')}")
    if info.get("smoke"):
        parts.append("SMOKE sizes (not comparable)")
    return "; ".join(parts)


def load(path: str) -> dict[str, Any]:
    """Read a --json file (this harness's, or the reference bench.py's)."""
    with open(path) as f:
        doc: dict[str, Any] = json.load(f)
    if "results" not in doc:
        raise ValueError(f"{path}: not a benchmark result (no 'results' key)")
    return doc


def _median_cell(res: dict[str, Any]) -> str:
    if not res:
        return "absent"
    return "FAILED" if res.get("median") is None else _f(res["median"])


def compare(a: dict[str, Any], b: dict[str, Any], label_a: str = "A", label_b: str = "B",
            markdown: bool = False) -> str:
    """Side by side: medians, ``speed-up = B time / A time`` and ``RSS A / RSS B``."""
    names = list(a["results"]) + [n for n in b["results"] if n not in a["results"]]
    smoke_mismatch = bool(a.get("info", {}).get("smoke")) != bool(b.get("info", {}).get("smoke"))
    rows = []
    for n in names:
        ra, rb = a["results"].get(n, {}), b["results"].get(n, {})
        ma, mb = ra.get("median"), rb.get("median")
        pa, pb = ra.get("peak_rss_mb"), rb.get("peak_rss_mb")
        speed = _ratio(mb, ma)
        if smoke_mismatch or (ra.get("params") and rb.get("params")
                              and ra["params"] != rb["params"]):
            speed_txt = "sizes differ"
        else:
            speed_txt = "-" if speed is None else f"x{speed:.2f}"
        rows.append([n, _median_cell(ra), _median_cell(rb),
                     ra.get("unit") or rb.get("unit", ""), speed_txt, _f(pa, 1), _f(pb, 1),
                     "-" if not (pa and pb) else f"{pa / pb:.2f}"])
    headers = ["workload", f"{label_a} median", f"{label_b} median", "unit", "speed-up",
               f"{label_a} RSS MB", f"{label_b} RSS MB", "RSS ratio"]
    out = [_table(headers, rows, markdown, [False, True, True, False, True, True, True, True]),
           "", f"speed-up = {label_b} median / {label_a} median (above 1: {label_a} is faster); "
               f"RSS ratio = {label_a} peak RSS / {label_b} peak RSS (below 1: {label_a} "
               "uses less)."]
    for label, doc in ((label_a, a), (label_b, b)):
        out.append(f"{label}: {info_line(doc.get('info', {}))}")
    return "\n".join(out)
