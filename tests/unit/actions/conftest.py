"""Helpers for action tests: fake installed distributions on sys.path."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


def make_dist(root: Path, name: str, entry_points: dict[str, str],
              modules: dict[str, str] | None = None) -> None:
    """Write an installed distribution (dist-info + modules) under ``root``."""
    info = root / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = ["[wfaas.actions]"] + [f"{k} = {v}" for k, v in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for mod, text in (modules or {}).items():
        (root / f"{mod}.py").write_text(text)


@pytest.fixture
def fake_dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
               ) -> Iterator[Callable[..., None]]:
    """Install fake distributions into a fresh sys.path entry for one test."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    created: list[str] = []

    def add(name: str, entry_points: dict[str, str],
            modules: dict[str, str] | None = None) -> None:
        make_dist(tmp_path, name, entry_points, modules)
        created.extend(modules or {})

    yield add
    for mod in created:
        sys.modules.pop(mod, None)
