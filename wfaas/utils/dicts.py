"""Small helpers on plain dicts (standard library only)."""

from __future__ import annotations

from typing import Any


def deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``update`` merged into a copy of ``base``, nested dicts merged key by key
    (any other value of ``update`` replaces the one of ``base``)."""
    out = dict(base)
    for key, value in update.items():
        old = out.get(key)
        out[key] = deep_merge(old, value) if isinstance(old, dict) and isinstance(
            value, dict) else value
    return out
