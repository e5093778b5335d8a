"""Fixtures of the trigger unit tests: a migrated SQLite file per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from wfaas.db import migration
from wfaas.db.session import make_engine, sqlite_url


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(sqlite_url(str(tmp_path / "triggers.db")))
    migration.upgrade(eng)
    try:
        yield eng
    finally:
        eng.dispose()
