"""Database fixtures: a migrated SQLite file, and PostgreSQL in a private schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.unit.db.dbutil import DB_PARAMS, migrated_engine


@pytest.fixture(params=DB_PARAMS)
def db_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database, SQLite file or PostgreSQL private schema."""
    with migrated_engine(request.param, tmp_path) as eng:
        yield eng
