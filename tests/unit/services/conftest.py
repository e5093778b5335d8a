"""A started Runtime on SQLite and on PostgreSQL, with the test actions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.db.dbutil import DB_PARAMS, migrated_engine
from tests.unit.services import testactions
from wfaas.cmd.run_cmd import store_file
from wfaas.services.runtime import Runtime


@pytest.fixture(autouse=True)
def _reset_test_actions() -> Iterator[None]:
    yield
    for event in testactions.GATES.values():
        event.set()
    testactions.GATES.clear()
    testactions.FLAKY.clear()


@pytest.fixture(params=DB_PARAMS)
def db_kind(request: pytest.FixtureRequest) -> str:
    """'sqlite' or 'postgres'."""
    return str(request.param)


@pytest.fixture
def runtime(db_kind: str, tmp_path: Path) -> Iterator[Runtime]:
    """A started Runtime (engine + executor + scheduler) on a migrated database."""
    with migrated_engine(db_kind, tmp_path) as eng:
        rt = Runtime(eng, provider=testactions.provider(), executor_workers=8,
                     embedded=db_kind == "sqlite")
        rt.start()
        try:
            yield rt
        finally:
            rt.stop()


def define(rt: Runtime, text: str) -> list[str]:
    """Store the workflows of ``text``; return their names."""
    with rt.session() as s:
        return store_file(s, text)
