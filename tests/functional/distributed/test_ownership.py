"""Durable acceptance, engine ownership and the hand-over sweep, in one process
(SQLite, the recording transport of test_integrity: dispatched actions stay
RUNNING and unaccepted, as if the engine had died before its executor saw them)."""

from __future__ import annotations

import datetime as _dt
import threading
import time

from sqlalchemy import update

from tests.functional.distributed.test_integrity import Recorder, checker, rt, started  # noqa: F401
from wfaas.db import models as m
from wfaas.db.types import utcnow_precise
from wfaas.engine import ActionCompleted
from wfaas.executors.acceptance import Acceptance, Verdict
from wfaas.executors.base import LocalExecutor
from wfaas.services.ownership import PARTITIONS, Ownership, owner_of, partition_of
from wfaas.services.runtime import Runtime


def _age(runtime: Runtime, action_id: str, seconds: float = 60) -> None:
    with runtime.session() as s:
        s.execute(update(m.ActionExecution).where(m.ActionExecution.id == action_id)
                  .values(created_at=utcnow_precise() - _dt.timedelta(seconds=seconds)))


def test_only_the_first_copy_of_a_request_is_accepted(rt: Runtime) -> None:  # noqa: F811
    ex, action_id = started(rt, "unsafe_wf")
    acceptance = Acceptance(rt.sessions)
    assert acceptance.accept(action_id) is Verdict.RUN
    assert acceptance.accept(action_id) is Verdict.TAKEN  # a redelivery: dropped
    assert acceptance.accept("no-such-action") is Verdict.UNKNOWN
    rt.engine.send(ex, ActionCompleted(action_id=action_id, state="SUCCESS", result=1))
    assert rt.wait_execution(ex, timeout=10)["state"] == "SUCCESS"
    assert acceptance.accept(action_id) is Verdict.FINISHED


def test_partitions_move_only_from_the_engine_that_left() -> None:
    engines = ["a", "b", "c"]
    before = {p: owner_of(p, engines) for p in range(PARTITIONS)}
    after = {p: owner_of(p, ["a", "c"]) for p in range(PARTITIONS)}
    assert set(before.values()) == {"a", "b", "c"}
    assert all(after[p] == before[p] for p in range(PARTITIONS) if before[p] != "b")
    assert partition_of("x") == partition_of("x")
    assert owner_of(0, []) is None


def test_a_dead_engines_unsent_action_is_sent_by_the_new_owner(rt: Runtime) -> None:  # noqa: F811
    ex, action_id = started(rt, "unsafe_wf")
    _age(rt, action_id)
    recorder = rt.transport
    assert isinstance(recorder, Recorder)
    with rt.session() as s:  # an engine that stopped beating 60 s ago
        old = utcnow_precise() - _dt.timedelta(seconds=60)
        s.add(m.EngineMember(id="dead", host="h", pid=1, started_at=old, last_seen=old))
    sent = len(recorder.requests)
    own = Ownership(rt, lease=10)
    assert own.beat() == ["dead"]
    assert own.live_engines() == [own.engine_id] and own.owns(ex)
    again = recorder.requests[sent:]
    assert [r["action_id"] for r in again] == [action_id]
    assert again[0]["execution_id"] == ex and again[0]["safe_rerun"] is False
    assert own.beat() == []  # handed over once
    assert Acceptance(rt.sessions).accept(action_id) is Verdict.RUN  # it never ran: runs


def test_accepted_actions_are_not_sent_again(rt: Runtime) -> None:  # noqa: F811
    ex, action_id = started(rt, "unsafe_wf")
    _age(rt, action_id)
    assert Acceptance(rt.sessions).accept(action_id) is Verdict.RUN
    recorder = rt.transport
    assert isinstance(recorder, Recorder)
    sent = len(recorder.requests)
    assert Ownership(rt, lease=10).sweep()["actions"] == 0
    assert len(recorder.requests) == sent


def test_two_engines_own_disjoint_halves(rt: Runtime) -> None:  # noqa: F811
    one, two = Ownership(rt, lease=10), Ownership(rt, lease=10)
    one.beat()
    two.beat()
    one.beat()
    assert one.live_engines() == two.live_engines() and len(one.live_engines()) == 2
    ids = [f"ex-{i}" for i in range(200)]
    mine = [i for i in ids if one.owns(i)]
    theirs = [i for i in ids if two.owns(i)]
    assert sorted(mine + theirs) == sorted(ids) and not set(mine) & set(theirs)
    assert 40 < len(mine) < 160
    two.stop()  # leaves: the other owns everything at its next beat
    assert one.beat() == [two.engine_id]
    assert all(one.owns(i) for i in ids)


def test_each_engine_consumes_the_partitions_it_owns(rt: Runtime) -> None:  # noqa: F811
    routed: list[list[int]] = []
    rt.transport.engine_partitions = routed.append  # type: ignore[attr-defined]
    one, two = Ownership(rt, lease=10), Ownership(rt, lease=10)
    one.beat()
    assert routed == [list(range(PARTITIONS))]  # alone: every partition
    two.beat()
    one.beat()
    mine, theirs = one.partitions(), two.partitions()
    assert routed[-1] == mine and routed[-2] == theirs
    assert sorted(mine + theirs) == list(range(PARTITIONS)) and not set(mine) & set(theirs)
    calls = len(routed)
    one.beat()
    assert len(routed) == calls  # unchanged membership: the transport is left alone
    two.stop()
    one.beat()
    assert routed[-1] == list(range(PARTITIONS))  # the partitions of the one that left


def _updated_at(runtime: Runtime, action_id: str) -> _dt.datetime:
    with runtime.session() as s:
        row = s.get(m.ActionExecution, action_id)
        assert row is not None and row.updated_at is not None
        return row.updated_at


def test_a_finished_action_keeps_its_beats_until_its_result_is_applied(
        rt: Runtime) -> None:  # noqa: F811
    """An action whose result waits in the broker longer than RECENT_BEATS intervals (an
    engine's consumer reconnecting, a backlog) keeps getting heartbeats while its row is
    RUNNING, so the integrity check does not fail it; once applied, the beats stop."""
    ex, action_id = started(rt, "unsafe_wf")
    executor = LocalExecutor(rt.transport, provider=None, heartbeat_interval=0.02,
                             sessions=rt.sessions)
    assert executor.acceptance is not None
    assert executor.acceptance.accept(action_id) is Verdict.RUN
    # finished here 10 s ago (50 x RECENT_BEATS intervals): its result not applied yet
    executor._recent[action_id] = time.monotonic() - 10
    with rt.session() as s:
        s.execute(update(m.ActionExecution).where(m.ActionExecution.id == action_id)
                  .values(updated_at=utcnow_precise() - _dt.timedelta(seconds=60)))
    aged = _updated_at(rt, action_id)
    beats = threading.Thread(target=executor._beat_directly, daemon=True)
    beats.start()
    try:
        deadline = time.monotonic() + 10
        while _updated_at(rt, action_id) == aged and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _updated_at(rt, action_id) > aged  # still beaten: not taken for lost
        assert checker(rt, heartbeat_timeout=30).run_once()["failed"] == 0
        rt.engine.send(ex, ActionCompleted(action_id=action_id, state="SUCCESS", result=1))
        assert rt.wait_execution(ex, timeout=10)["state"] == "SUCCESS"
        while action_id in executor._recent and time.monotonic() < deadline:
            time.sleep(0.02)
        assert action_id not in executor._recent  # applied: no more beats for it
    finally:
        executor._stop_beats.set()
        beats.join(5)
