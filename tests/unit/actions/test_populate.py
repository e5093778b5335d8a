"""populate(): idempotent, updates, removals, user ad-hoc rows untouched, bulk speed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from wfaas.actions.base import (
    Action,
    ActionContext,
    ActionDescriptor,
    DictProvider,
    ParamSpec,
    PythonActionDescriptor,
)
from wfaas.actions.populate import populate
from wfaas.db.models import ActionDefinition, Base
from wfaas.db.session import make_engine, session_scope


class One(Action):
    """First version."""

    def __init__(self, a: int = 1) -> None:
        self.a = a

    def run(self, context: ActionContext) -> Any:
        return self.a


class Two(Action):
    """Second version."""

    def __init__(self, a: int, b: str = "x") -> None:
        self.a = a

    def run(self, context: ActionContext) -> Any:
        return self.a


class Plain(ActionDescriptor):
    """A descriptor with explicit params (no class), for bulk tests."""

    def instantiate(self, input: dict[str, Any], wf_ctx: dict[str, Any] | None = None) -> Action:
        return One()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'pop.db'}")
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


def rows(engine: Engine) -> dict[str, dict[str, Any]]:
    with session_scope(engine) as s:
        return {r.name: r.to_dict() for r in s.scalars(select(ActionDefinition))}


def test_populate_add_update_remove_idempotent(engine: Engine) -> None:
    v1 = DictProvider([PythonActionDescriptor("p.one", One, source="pack:p"),
                       PythonActionDescriptor("p.keep", One, source="pack:p")])
    with session_scope(engine) as s:
        assert populate(s, v1) == {"added": 2, "updated": 0, "removed": 0, "unchanged": 0,
                                   "skipped": 0, "total": 2}
    with session_scope(engine) as s:
        s.add(ActionDefinition(name="my.adhoc", input="x", source="adhoc", is_system=False,
                               scope="private", definition="..."))
    with session_scope(engine) as s:
        assert populate(s, v1)["unchanged"] == 2
    got = rows(engine)
    assert got["p.one"]["input"] == "a=1" and got["p.one"]["description"] == "First version."
    assert got["p.one"]["params_schema"]["properties"]["a"]["default"] == 1
    assert got["p.one"]["is_system"] is True and got["p.one"]["source"] == "pack:p"
    first_id = got["p.keep"]["id"]

    v2 = DictProvider([PythonActionDescriptor("p.keep", Two, source="pack:p")])
    with session_scope(engine) as s:
        counts = populate(s, v2)
    assert counts == {"added": 0, "updated": 1, "removed": 1, "unchanged": 0, "skipped": 0,
                      "total": 1}
    got = rows(engine)
    assert set(got) == {"p.keep", "my.adhoc"}          # the user row survives
    assert got["p.keep"]["id"] == first_id and got["p.keep"]["input"] == 'a, b="x"'
    assert got["p.keep"]["updated_at"] is not None


def test_user_row_with_same_name_is_not_overwritten(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.add(ActionDefinition(name="p.one", input="mine", source="adhoc", is_system=False))
    with session_scope(engine) as s:
        counts = populate(s, DictProvider([PythonActionDescriptor("p.one", One)]))
    assert counts["skipped"] == 1 and counts["added"] == 0
    assert rows(engine)["p.one"]["input"] == "mine"


def test_two_thousand_actions_in_a_few_bulk_statements(engine: Engine) -> None:
    """2,000 actions are added, updated and removed in bulk statements: the work is
    counted in SQL round trips (a per-row implementation makes thousands), not timed
    (a wall-clock bound failed on a loaded CI machine)."""
    def provider(version: int) -> DictProvider:
        return DictProvider([
            Plain(f"bulk.a{i}", params=(ParamSpec("x"), ParamSpec("y", True, version)),
                  description=f"action {i}", source="openstack", tags=("os",))
            for i in range(2000)])

    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(engine, "before_cursor_execute", count)
    try:
        for changed, expected in ((provider(1), "added"), (provider(2), "updated"),
                                  (DictProvider([]), "removed")):
            statements.clear()
            with session_scope(engine) as s:
                assert populate(s, changed)[expected] == 2000
            writes = [verb for verb in statements if verb != "SELECT"]
            assert writes and len(statements) <= 12, (expected, statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert rows(engine) == {}
