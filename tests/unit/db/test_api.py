"""Repository functions on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine

from wfaas.db import api
from wfaas.db import models as m
from wfaas.db.session import session_scope
from wfaas.exceptions import Conflict, NotFound


def _wf(session, name: str, namespace: str = "", **kw):  # type: ignore[no-untyped-def]
    return api.create(session, m.WorkflowDefinition, name=name, namespace=namespace,
                      definition=f"{name}: ...", **kw)


def test_create_get_and_json_roundtrip(db_engine: Engine) -> None:
    with session_scope(db_engine) as s:
        ex = api.create(s, m.WorkflowExecution, workflow_name="wf", spec="text",
                        input={"a": [1, "é", None], "b": {"c": True}}, params={})
        ex_id = ex.id
    with session_scope(db_engine) as s:
        got = api.get(s, m.WorkflowExecution, ex_id)
        assert got.input == {"a": [1, "é", None], "b": {"c": True}}
        assert got.output is None
        assert got.state == "IDLE" and got.version == 0
        assert got.to_dict()["workflow_name"] == "wf"


def test_get_missing_raises_not_found(db_engine: Engine) -> None:
    with session_scope(db_engine) as s, pytest.raises(NotFound, match="nope"):
        api.get(s, m.WorkflowDefinition, "nope")


def test_duplicate_name_is_conflict_and_transaction_survives(db_engine: Engine) -> None:
    with session_scope(db_engine) as s:
        _wf(s, "dup")
    with session_scope(db_engine) as s:
        with pytest.raises(Conflict, match="dup"):
            _wf(s, "dup")
        _wf(s, "dup", namespace="other")
    with session_scope(db_engine) as s:
        assert api.count(s, m.WorkflowDefinition, {"name": "dup"}) == 2


def test_find_by_name_falls_back_to_default_namespace(db_engine: Engine) -> None:
    with session_scope(db_engine) as s:
        _wf(s, "a")
        _wf(s, "b", namespace="ns")
    with session_scope(db_engine) as s:
        assert api.get_workflow_definition(s, "a", namespace="ns").namespace == ""
        assert api.get_workflow_definition(s, "b", namespace="ns").namespace == "ns"
        with pytest.raises(NotFound, match="name=b"):
            api.get_workflow_definition(s, "b")


def test_list_filters_sort_and_marker_pagination(db_engine: Engine) -> None:
    with session_scope(db_engine) as s:
        for i in range(5):
            _wf(s, f"w{i}", tags=["x"] if i % 2 else [])
    with session_scope(db_engine) as s:
        page1 = api.list_rows(s, m.WorkflowDefinition, sort_keys=["name"], limit=2)
        assert [w.name for w in page1] == ["w0", "w1"]
        page2 = api.list_rows(s, m.WorkflowDefinition, sort_keys=["name"], limit=2,
                              marker=page1[-1].id)
        assert [w.name for w in page2] == ["w2", "w3"]
        desc = api.list_rows(s, m.WorkflowDefinition, sort_keys=["name"], sort_dirs=["desc"])
        assert [w.name for w in desc][:2] == ["w4", "w3"]
        some = api.list_rows(s, m.WorkflowDefinition, filters={"name": ("in", ["w1", "w3"])})
        assert sorted(w.name for w in some) == ["w1", "w3"]
        gt = api.list_rows(s, m.WorkflowDefinition, filters={"name": ("gte", "w3")})
        assert sorted(w.name for w in gt) == ["w3", "w4"]


def test_project_visibility(db_engine: Engine) -> None:
    with session_scope(db_engine) as s:
        _wf(s, "mine", project_id="p1")
        _wf(s, "theirs", project_id="p2")
        _wf(s, "shared", project_id="p2", scope="public")
    with session_scope(db_engine) as s:
        names = {w.name for w in api.list_rows(s, m.WorkflowDefinition, project_id="p1")}
        assert names == {"mine", "shared"}


def test_execution_compare_and_set(db_engine: Engine) -> None:
    with session_scope(db_engine) as s:
        ex_id = api.create(s, m.WorkflowExecution, workflow_name="wf", spec="x").id
    with session_scope(db_engine) as s:
        assert api.update_execution_cas(s, ex_id, 0, state="RUNNING")
        assert not api.update_execution_cas(s, ex_id, 0, state="ERROR")
    with session_scope(db_engine) as s:
        assert api.get_execution_version(s, ex_id) == 1
        assert api.get(s, m.WorkflowExecution, ex_id).state == "RUNNING"


def test_delayed_call_dedup_and_next_due(db_engine: Engine) -> None:
    with session_scope(db_engine) as s:
        assert api.add_delayed_call(s, key="k1", kind="wait", due_at=100.0, payload={"a": 1})
        assert not api.add_delayed_call(s, key="k1", kind="wait", due_at=50.0)
        assert api.add_delayed_call(s, key="k2", kind="wait", due_at=200.0, execution_id="e")
    with session_scope(db_engine) as s:
        assert api.next_due_time(s) == 100.0
        assert api.claim_due_calls(s, owner="a", now=99.0) == []
        calls = api.claim_due_calls(s, owner="a", now=150.0)
        assert [c.key for c in calls] == ["k1"] and calls[0].payload == {"a": 1}
    with session_scope(db_engine) as s:
        assert api.claim_due_calls(s, owner="b", now=160.0) == []
        assert api.next_due_time(s) == 200.0
        assert api.cancel_delayed_calls(s, execution_id="e") == 1


def test_stale_claim_is_taken_over(db_engine: Engine) -> None:
    with session_scope(db_engine) as s:
        api.add_delayed_call(s, key="k", kind="wait", due_at=1.0)
    with session_scope(db_engine) as s:
        assert len(api.claim_due_calls(s, owner="dead", now=2.0)) == 1
    with session_scope(db_engine) as s:
        assert api.claim_due_calls(s, owner="b", now=3.0, stale_after=300) == []
        assert len(api.claim_due_calls(s, owner="b", now=400.0, stale_after=300)) == 1


def test_two_claimers_never_share_a_call(db_engine: Engine) -> None:
    with session_scope(db_engine) as s:
        for i in range(40):
            api.add_delayed_call(s, key=f"k{i}", kind="wait", due_at=float(i))
    got: dict[str, list[str]] = {"a": [], "b": []}
    barrier = threading.Barrier(2)

    def claim(owner: str) -> None:
        barrier.wait(timeout=10)
        for _ in range(10):
            with session_scope(db_engine) as s:
                got[owner] += [c.key for c in api.claim_due_calls(s, owner=owner, now=100.0,
                                                                  limit=5)]

    threads = [threading.Thread(target=claim, args=(o,)) for o in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not set(got["a"]) & set(got["b"])
    assert len(got["a"]) + len(got["b"]) == 40


def test_delete_execution_tree(db_engine: Engine) -> None:
    with session_scope(db_engine) as s:
        ex = api.create(s, m.WorkflowExecution, workflow_name="wf", spec="x")
        t = api.create(s, m.TaskExecution, name="t", workflow_execution_id=ex.id,
                       workflow_name="wf")
        api.create(s, m.ActionExecution, name="std.noop", task_execution_id=t.id)
        api.add_delayed_call(s, key="x", kind="wait", due_at=1.0, execution_id=ex.id)
        ex_id = ex.id
    with session_scope(db_engine) as s:
        assert len(api.task_executions_of(s, ex_id)) == 1
        api.delete_execution_tree(s, ex_id)
    with session_scope(db_engine) as s:
        assert api.count(s, m.TaskExecution) == 0
        assert api.count(s, m.ActionExecution) == 0
        assert api.count(s, m.DelayedCall) == 0
        assert api.find(s, m.WorkflowExecution, ex_id) is None
