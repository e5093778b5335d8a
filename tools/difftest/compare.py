"""Normalising observations (ids, timestamps, namespaces) and comparing them with golden ones."""

from __future__ import annotations

import re
from typing import Any

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
NS = re.compile(r"dt[0-9a-f]{10}-?")
# state_info texts are compared on their first words unless the case gives a regex, or
# whole (with Python object addresses masked) when it says ``exact_info: true``.
INFO_PREFIX = 24
ADDRESS = re.compile(r"0x[0-9a-f]{6,}")


def normalise(value: Any) -> Any:
    """Ids, timestamps and the per-run namespace replaced by placeholders, recursively."""
    if isinstance(value, str):
        value = UUID.sub("<uuid>", value)
        value = STAMP.sub("<ts>", value)
        return NS.sub("", value)
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, dict):
        return {normalise(k): normalise(v) for k, v in value.items()}
    return value


def _info_key(text: Any, exact: bool = False) -> Any:
    if not text:
        return None
    return ADDRESS.sub("<addr>", str(text)) if exact else str(text)[:INFO_PREFIX]


def diff(golden: Any, actual: Any, path: str = "",
         exact: bool = False) -> list[tuple[str, Any, Any]]:
    """(path, golden, actual) for every difference; state_info and error texts by prefix
    (or whole when *exact*, as are all strings then, with object addresses masked)."""
    last = path.rsplit(".", 1)[-1]
    if last in ("state_info", "error") or (path.endswith("output.result")
                                           and isinstance(golden, str)) or \
            (exact and isinstance(golden, str) and isinstance(actual, str)):
        g, a = _info_key(golden, exact), _info_key(actual, exact)
        return [] if g == a else [(path, golden, actual)]
    if isinstance(golden, dict) and isinstance(actual, dict):
        out: list[tuple[str, Any, Any]] = []
        for key in sorted(set(golden) | set(actual), key=str):
            g_item, a_item = golden.get(key), actual.get(key)
            if key in ("tasks", "subworkflows") and isinstance(g_item, list) and \
                    isinstance(a_item, list):
                out.extend(_diff_lists(g_item, a_item, f"{path}.{key}", exact))
                continue
            out.extend(diff(golden.get(key), actual.get(key), f"{path}.{key}", exact))
        return out
    if isinstance(golden, list) and isinstance(actual, list) and len(golden) == len(actual):
        out = []
        for i, (g, a) in enumerate(zip(golden, actual, strict=False)):
            out.extend(diff(g, a, f"{path}[{i}]", exact))
        return out
    return [] if golden == actual else [(path, golden, actual)]


def _label(item: Any, i: int) -> str:
    if isinstance(item, dict) and "name" in item:
        return str(item["name"])
    return str(i)


def _diff_lists(golden: list[Any], actual: list[Any], path: str,
                exact: bool) -> list[tuple[str, Any, Any]]:
    """Task lists: matched by name (in order within a name), extra/missing reported."""
    groups: dict[str, tuple[list[Any], list[Any]]] = {}
    for i, g in enumerate(golden):
        groups.setdefault(_label(g, i), ([], []))[0].append(g)
    for i, a in enumerate(actual):
        groups.setdefault(_label(a, i), ([], []))[1].append(a)
    out: list[tuple[str, Any, Any]] = []
    for name, (gs, acts) in groups.items():
        if len(gs) != len(acts):
            out.append((f"{path}[{name}].count", len(gs), len(acts)))
            continue
        gs = sorted(gs, key=_state_key)
        acts = sorted(acts, key=_state_key)
        for k, (g, a) in enumerate(zip(gs, acts, strict=False)):
            out.extend(diff(g, a, f"{path}[{name}#{k}]" if len(gs) > 1 else f"{path}[{name}]",
                            exact))
    return out


def _state_key(item: Any) -> str:
    return str(item.get("state")) if isinstance(item, dict) else str(item)


def check_patterns(expect: dict[str, Any] | None,
                   obs: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """Regexes of a case's ``expect`` section applied to the final observation."""
    if not expect:
        return []
    out: list[tuple[str, Any, Any]] = []
    final: dict[str, Any] = next(
        (s for s in reversed(obs.get("steps", [])) if "observe" in s), {})
    texts: dict[str, Any] = {"state_info": final.get("state_info")}
    errors = [u.get("error") for u in obs.get("uploads", [])] + \
        [s.get("error") for s in obs.get("steps", [])]
    texts["error"] = " | ".join(e for e in errors if e)
    for key in ("state_info", "error"):
        if key in expect and not re.search(expect[key], str(texts[key] or ""), re.S):
            out.append((f"expect.{key}", expect[key], texts[key]))
    for name, pat in (expect.get("tasks") or {}).items():
        infos = [t.get("state_info") for t in final.get("tasks", []) if t.get("name") == name]
        if not any(re.search(pat, str(i or ""), re.S) for i in infos):
            out.append((f"expect.tasks.{name}", pat, infos))
    return out
