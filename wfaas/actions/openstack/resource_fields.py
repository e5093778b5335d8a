"""Which resource attributes a generated create_* / update_* action takes, and which
a create_* action requires (``fields.yaml`` next to this module).

openstacksdk describes a resource's attributes (``resource.Body``, ``Header``,
``URI``: server name, type, alias, default) but not whether the server sets them
or needs them; ``fields.yaml`` says it for the resources workflows create most,
plus rules for every resource (``status``, timestamps, ``id`` ... are never
create input).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

FIELDS_FILE = Path(__file__).with_name("fields.yaml")


@dataclass(frozen=True)
class ResourceFields:
    """The rules for one resource class."""

    read_only: frozenset[str] = frozenset()
    required: tuple[str, ...] = ()
    writable: frozenset[str] = frozenset()
    create_only: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FieldRules:
    """All of ``fields.yaml``."""

    all_read_only: frozenset[str]
    create_read_only: frozenset[str]
    resources: dict[str, ResourceFields]


def _names(raw: Any, where: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise ValueError(f"{FIELDS_FILE}: {where} must be a list of attribute names")
    return list(raw)


@functools.cache
def rules() -> FieldRules:
    """The parsed ``fields.yaml`` (read once)."""
    raw = yaml.safe_load(FIELDS_FILE.read_text(encoding="utf-8")) or {}
    resources: dict[str, ResourceFields] = {}
    for key, entry in (raw.get("resources") or {}).items():
        entry = entry or {}
        resources[key] = ResourceFields(
            frozenset(_names(entry.get("read_only"), f"{key}.read_only")),
            tuple(_names(entry.get("required"), f"{key}.required")),
            frozenset(_names(entry.get("writable"), f"{key}.writable")),
            frozenset(_names(entry.get("create_only"), f"{key}.create_only")))
    return FieldRules(frozenset(_names(raw.get("all_read_only"), "all_read_only")),
                      frozenset(_names(raw.get("create_read_only"), "create_read_only")),
                      resources)


def resource_key(service: str, resource_class: type) -> str:
    """``compute.Server``: the key of a resource class in ``fields.yaml``."""
    return f"{service}.{resource_class.__name__}"


def input_fields(service: str, method: str, resource_class: type,
                 names: list[str]) -> tuple[list[str], tuple[str, ...]]:
    """(the attribute ``names`` the method takes as input, the required ones).

    Both drop the resource's read-only attributes; create_* actions also drop the
    ones the server sets at creation and have required inputs, update_* actions
    also drop the ones only a create takes."""
    table = rules()
    entry = table.resources.get(resource_key(service, resource_class), ResourceFields())
    creating = method.startswith("create_")
    dropped = table.all_read_only | entry.read_only
    if creating:
        dropped |= table.create_read_only
    elif method.startswith("update_"):
        dropped |= entry.create_only
    dropped -= entry.writable
    kept = [n for n in names if n not in dropped]
    required = tuple(n for n in entry.required if n in kept) if creating else ()
    return kept, required
