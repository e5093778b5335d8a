"""The engine is a pure core: walk the AST of every module and check its imports."""

from __future__ import annotations

import ast
import pathlib

import wfaas.engine

ENGINE_DIR = pathlib.Path(wfaas.engine.__file__).parent
ALLOWED_WFAAS = ("wfaas.lang", "wfaas.expressions", "wfaas.utils", "wfaas.exceptions",
                 "wfaas.engine")
ALLOWED_STDLIB = {"__future__", "collections", "dataclasses", "typing", "hashlib", "datetime",
                  "json", "copy", "functools", "itertools", "math", "enum", "re"}
FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter", "uuid4",
                   "sleep", "random", "urandom"}


def _modules() -> list[pathlib.Path]:
    files = sorted(ENGINE_DIR.rglob("*.py"))
    assert len(files) >= 5, files
    return files


def _imports(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative imports are not used in wfaas.engine"
            if node.module == "wfaas":
                names.extend(f"wfaas.{a.name}" for a in node.names)
            else:
                names.append(node.module or "")
    return names


def _allowed(name: str) -> bool:
    if name.split(".")[0] == "wfaas":
        return any(name == p or name.startswith(p + ".") for p in ALLOWED_WFAAS)
    return name.split(".")[0] in ALLOWED_STDLIB


def test_engine_imports_only_pure_modules() -> None:
    bad = []
    for path in _modules():
        for name in _imports(ast.parse(path.read_text(), str(path))):
            if not _allowed(name):
                bad.append(f"{path.name}: {name}")
    assert bad == []


def test_engine_calls_no_clock_or_randomness() -> None:
    bad = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in FORBIDDEN_CALLS:
                bad.append(f"{path.name}:{node.lineno}: .{node.func.attr}()")
    assert bad == []


def test_checker_rejects_forbidden_imports() -> None:
    # The checker itself must be able to fail.
    for src in ("import sqlalchemy", "from oslo_config import cfg", "import threading",
                "import time", "from wfaas.db import api", "import kombu", "import pecan",
                "from wfaas.services import runtime", "import uuid", "from wfaas import db"):
        assert not all(_allowed(n) for n in _imports(ast.parse(src))), src
    assert all(_allowed(n) for n in _imports(ast.parse("from wfaas.lang.specs import X")))
