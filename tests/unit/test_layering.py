"""The module map of the design card (../shared/design.md), enforced on every module.

Walks the imports (``import`` and ``from ... import`` anywhere: module level, inside
functions, under ``TYPE_CHECKING``) of every module of ``wfaas/`` with ``ast`` and fails
on any edge between subpackages that the map does not allow, and on the third-party
imports a layer must not make. The engine's own stricter rules (no clock, no
randomness, stdlib allow-list) are tests/unit/engine/test_purity.py.
"""

from __future__ import annotations

import ast
import pathlib

import wfaas

ROOT = pathlib.Path(wfaas.__file__).parent
BELOW_SERVICES = {"exceptions", "utils", "expressions", "lang", "engine", "actions", "db", "rpc",
                  "executors", "scheduler", "triggers", "config", "metrics"}
#: what each part of wfaas may import (besides itself); a part not listed may import anything
ALLOWED: dict[str, set[str]] = {
    "exceptions": set(),
    # Prometheus metrics: a leaf the shell records into (the pure layers never do)
    "metrics": set(),
    "utils": {"exceptions"},
    "expressions": {"exceptions", "utils"},
    "lang": {"exceptions", "utils", "expressions"},
    "engine": {"exceptions", "utils", "expressions", "lang"},
    "actions": {"exceptions", "utils", "expressions", "lang", "config"},
    "db": {"exceptions", "utils", "config"},
    "rpc": {"exceptions", "utils", "config"},
    # executors accept a request with a compare-and-set on its action row (so a broker
    # redelivery never runs an action twice): they reach the database for that; they
    # report with the engine's (pure) event classes
    "executors": {"exceptions", "utils", "expressions", "lang", "engine", "actions", "rpc",
                  "config", "db", "metrics"},
    "scheduler": {"exceptions", "utils", "db", "config", "metrics"},
    "triggers": {"exceptions", "utils", "expressions", "lang", "engine", "actions", "db", "rpc",
                 "config"},
    "services": BELOW_SERVICES,
    # the API reaches storage, engine and actions only through the typed service layer
    "api": {"exceptions", "utils", "lang", "services", "config", "metrics"},
    # import-mistral and purge: storage work like the services, driven by wfaas-db-manage
    "migration": BELOW_SERVICES | {"services"},
    "client": {"exceptions", "utils", "lang"},
    "config": {"exceptions", "utils"},
}
#: third-party packages a part must not import
FORBIDDEN_THIRD_PARTY: dict[str, set[str]] = {
    "api": {"sqlalchemy", "alembic", "kombu"},
    "lang": {"sqlalchemy", "oslo_config", "kombu", "pecan", "webob"},
    "expressions": {"sqlalchemy", "oslo_config", "kombu", "pecan", "webob"},
    "engine": {"sqlalchemy", "oslo_config", "kombu", "pecan", "webob", "threading"},
    "db": {"pecan", "webob", "kombu"},
    "client": {"sqlalchemy", "pecan", "kombu"},
}
#: known edges against the map, each with the reason it is still there; keep it short
ALLOWED_VIOLATIONS: dict[tuple[str, str], str] = {
    ("wfaas.actions.populate", "db"): "populate writes ActionDefinition rows; it belongs in "
                                      "services (its callers are wfaas-db-manage/wfaas-server)",
    ("wfaas.api.controllers.graphs", "client"): "the graph layout (pure, over lang specs) is "
                                                "client/graph.py, shared with the CLI; it "
                                                "belongs in lang",
}


def module_name(path: pathlib.Path) -> str:
    """``wfaas/api/app.py`` -> ``wfaas.api.app`` (packages by their ``__init__``)."""
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def part_of(module: str) -> str:
    """The part of the map a module belongs to: ``wfaas.db.api`` -> ``db``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def imported(source: str, module: str) -> list[str]:
    """Every module name ``source`` (the text of ``module``) imports, absolute."""
    names: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing package
                package = module.split(".")[: len(module.split(".")) - node.level]
                base = ".".join([*package, *([base] if base else [])])
            if base == "wfaas":
                names.extend(f"wfaas.{a.name}" for a in node.names)
            else:
                names.append(base)
    return names


def violations(module: str, names: list[str]) -> list[str]:
    """The edges of ``module`` importing ``names`` that the map forbids."""
    part = part_of(module)
    bad = []
    for name in names:
        top = name.split(".")[0]
        if top == "wfaas":
            target = part_of(name)
            allowed = ALLOWED.get(part)
            if not target or target == part or allowed is None or target in allowed:
                continue
            if (module, target) in ALLOWED_VIOLATIONS:
                continue
            bad.append(f"{module} -> wfaas.{target} ({name})")
        elif top in FORBIDDEN_THIRD_PARTY.get(part, set()):
            bad.append(f"{module} -> {name} (third-party package forbidden in wfaas.{part})")
    return bad


def _modules() -> list[pathlib.Path]:
    files = sorted(ROOT.rglob("*.py"))
    assert len(files) > 100, files
    return files


def test_every_import_follows_the_module_map() -> None:
    bad: list[str] = []
    for path in _modules():
        module = module_name(path)
        bad.extend(violations(module, imported(path.read_text(), module)))
    assert bad == []


def test_every_part_of_the_package_is_on_the_map() -> None:
    parts = {part_of(module_name(p)) for p in _modules()} - {""}
    assert parts - set(ALLOWED) == {"cmd"}  # commands wire everything together


def test_allowed_violations_are_still_real() -> None:
    """An entry of the allow-list whose edge is gone must be removed."""
    seen = set()
    for path in _modules():
        module = module_name(path)
        for name in imported(path.read_text(), module):
            if name.startswith("wfaas."):
                seen.add((module, part_of(name)))
    assert set(ALLOWED_VIOLATIONS) <= seen


def test_checker_finds_forbidden_edges() -> None:
    # The checker itself must be able to fail, for each rule of the card.
    cases = {
        "wfaas.api.controllers.x": ["from wfaas.db import models", "import sqlalchemy",
                                    "from wfaas.engine import decide",
                                    "from wfaas.triggers import cron"],
        "wfaas.actions.std": ["from wfaas.services.runtime import Runtime",
                              "from wfaas.api import app"],
        "wfaas.db.api": ["from wfaas.services import runtime", "from wfaas.engine import x",
                         "import wfaas.api.app"],
        "wfaas.engine.core": ["from wfaas import db", "from wfaas.actions import base"],
        "wfaas.lang.specs": ["from wfaas.engine import model", "import oslo_config"],
        "wfaas.expressions.core": ["from wfaas.lang import x", "from wfaas.services import y"],
    }
    for module, sources in cases.items():
        for source in sources:
            assert violations(module, imported(source, module)), (module, source)
    assert not violations("wfaas.api.app", imported("from wfaas.services.api import X",
                                                    "wfaas.api.app"))
    assert violations("wfaas.db.x", imported("from ..services import runtime", "wfaas.db.x"))
