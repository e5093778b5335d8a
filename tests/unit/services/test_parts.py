"""The transport, the local executor and the delayed-call scheduler on their own."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.unit.db.dbutil import migrated_engine
from tests.unit.services import testactions
from wfaas.db import api
from wfaas.db.session import session_factory, session_scope
from wfaas.executors.base import LocalExecutor
from wfaas.rpc import get_transport
from wfaas.rpc.local import LocalTransport
from wfaas.scheduler.delayed import DelayedCallScheduler


class Inbox:
    """Collects messages; ``wait(n)`` blocks until n arrived."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.cond = threading.Condition()

    def __call__(self, msg: Any) -> None:
        with self.cond:
            self.items.append(msg)
            self.cond.notify_all()

    def wait(self, n: int, timeout: float = 10.0) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: len(self.items) >= n, timeout)


def test_get_transport() -> None:
    assert isinstance(get_transport("local:/"), LocalTransport)
    with pytest.raises(ValueError, match="Unsupported transport_url"):
        get_transport("carrier-pigeon://x")


def test_local_transport_routes_by_target() -> None:
    t = LocalTransport()
    engine, default, special = Inbox(), Inbox(), Inbox()
    t.serve_engine(engine)
    t.serve_executor(default)
    t.serve_executor(special, "gpu")
    t.start()
    try:
        t.send_to_executor({"n": 1}, "gpu")
        t.send_to_executor({"n": 2}, None)
        t.send_to_executor({"n": 3}, "nobody-serves-this")
        t.send_to_engine({"e": 1})
        assert special.wait(1) and default.wait(2) and engine.wait(1)
        assert special.items == [{"n": 1}]
        assert default.items == [{"n": 2}, {"n": 3}]
    finally:
        t.stop()


def _executor() -> tuple[LocalTransport, LocalExecutor, Inbox]:
    t = LocalTransport()
    inbox = Inbox()
    t.serve_engine(inbox)
    ex = LocalExecutor(t, testactions.provider(), workers=4)
    ex.start()
    t.start()
    return t, ex, inbox


def _request(action: str, input: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"action_id": f"a-{action}", "execution_id": "ex", "action": action,
            "input": input, "context": {}, **kw}


def test_executor_reports_success_error_and_timeout() -> None:
    t, ex, inbox = _executor()
    try:
        t.send_to_executor(_request("std.echo", {"output": [1, 2]}))
        assert inbox.wait(1)
        assert inbox.items[0] == {"execution_id": "ex", "event": {
            "kind": "action_completed", "action_id": "a-std.echo", "state": "SUCCESS",
            "result": [1, 2], "state_info": None}}
        testactions.FLAKY["f"] = 1  # before sending: the pool may run the action at once
        t.send_to_executor(_request("test.flaky", {"key": "f"}))
        assert inbox.wait(2)
        assert inbox.items[1]["event"]["state"] == "ERROR"
        assert "flaky f failed" in inbox.items[1]["event"]["result"]
        t.send_to_executor(_request("test.gate", {"name": "never"}, timeout=0.05))
        assert inbox.wait(3)
        assert inbox.items[2]["event"]["state"] == "ERROR"
        assert "timed out" in inbox.items[2]["event"]["result"]
    finally:
        testactions.gate("never").set()
        ex.stop()
        t.stop()


def test_executor_async_action_reports_nothing() -> None:
    t, ex, inbox = _executor()
    try:
        t.send_to_executor(_request("std.async_noop", {}))
        t.send_to_executor(_request("std.noop", {}))
        assert inbox.wait(1)
        ex.stop()
        assert [m["event"]["action_id"] for m in inbox.items] == ["a-std.noop"]
    finally:
        t.stop()


def test_scheduler_fires_due_calls_and_wakes_early(tmp_path: Path) -> None:
    with migrated_engine("sqlite", tmp_path) as eng:
        sessions = session_factory(eng)
        fired = Inbox()

        def on_fire(call: dict[str, Any]) -> None:
            fired(call["key"])
            with session_scope(sessions) as s:
                api.delete_delayed_call(s, call["id"])

        sched = DelayedCallScheduler(sessions, on_fire)
        with session_scope(sessions) as s:
            api.add_delayed_call(s, key="far", kind="k", due_at=time.time() + 3600)
            api.add_delayed_call(s, key="due", kind="k", due_at=time.time() - 1)
        sched.start()
        try:
            assert fired.wait(1)
            # The scheduler now sleeps until "far"; a nearer call must wake it.
            with session_scope(sessions) as s:
                api.add_delayed_call(s, key="near", kind="k", due_at=time.time() - 0.5)
            sched.wake(time.time() - 0.5)
            assert fired.wait(2, timeout=5)
            assert fired.items == ["due", "near"]
        finally:
            sched.stop()
        with session_scope(sessions) as s:
            assert [c.key for c in api.list_rows(s, api.m.DelayedCall)] == ["far"]


def test_release_claims(tmp_path: Path) -> None:
    with migrated_engine("sqlite", tmp_path) as eng:
        sessions = session_factory(eng)
        with session_scope(sessions) as s:
            api.add_delayed_call(s, key="x", kind="k", due_at=1.0)
            api.claim_due_calls(s, owner="dead-process", now=2.0)
        sched = DelayedCallScheduler(sessions, lambda call: None)
        assert sched.release_claims() == 0
        assert sched.release_claims(everyone=True) == 1
        with session_scope(sessions) as s:
            assert api.next_due_time(s) == 1.0


def test_redelivered_request_runs_again_only_when_safe() -> None:
    t, ex, inbox = _executor()
    try:
        t.send_to_executor(_request("std.echo", {"output": 1}, _redelivered=True,
                                    safe_rerun=False))
        assert inbox.wait(1)
        t.send_to_executor(_request("std.noop", {}, _redelivered=True, safe_rerun=True))
        assert inbox.wait(2)
        first, second = (msg["event"] for msg in inbox.items)
        assert first["state"] == "ERROR" and "not safe to re-run" in first["result"]
        assert second["state"] == "SUCCESS"
    finally:
        ex.stop()
        t.stop()


@pytest.mark.parametrize(("action", "input", "kw", "inline"), [
    ("std.noop", {}, {}, True),
    ("std.echo", {"output": 1}, {}, True),
    ("std.echo", {"output": 1, "delay": 0.01}, {}, False),  # sleeps: never in the engine thread
    ("std.echo", {"output": 1}, {"timeout": 5}, False),      # a timeout needs the pool
    ("test.flaky", {"key": "inline-check"}, {}, False),       # not a cheap std action
])
def test_only_cheap_std_actions_run_in_the_senders_thread(
        action: str, input: dict[str, Any], kw: dict[str, Any], inline: bool) -> None:
    t = LocalTransport()
    threads: list[int] = []
    inbox = Inbox()

    def engine(msg: Any) -> None:
        threads.append(threading.get_ident())
        inbox(msg)

    t.serve_engine(engine)
    ex = LocalExecutor(t, testactions.provider(), workers=2)
    ex.start()
    t.start()
    try:
        t.send_to_executor(_request(action, input, **kw))
        assert inbox.wait(1)
        assert inbox.items[0]["event"]["kind"] == "action_completed"
        assert (threads[0] == threading.get_ident()) is inline
    finally:
        ex.stop()
        t.stop()


def test_scheduler_survives_a_call_beyond_the_longest_wait(tmp_path: Path) -> None:
    """A delayed call due further ahead than ``threading.TIMEOUT_MAX`` (a wait-before of
    centuries) must not kill the scheduler thread: a nearer call still fires."""
    with migrated_engine("sqlite", tmp_path) as eng:
        sessions = session_factory(eng)
        fired = Inbox()
        sched = DelayedCallScheduler(sessions, lambda call: fired(call["key"]))
        with session_scope(sessions) as s:
            api.add_delayed_call(s, key="far", kind="k",
                                 due_at=time.time() + threading.TIMEOUT_MAX * 4)
        sched.start()
        try:
            deadline = time.monotonic() + 10  # the loop read the far call and went to sleep
            while sched._wake_at is None and sched._thread is not None \
                    and sched._thread.is_alive() and time.monotonic() < deadline:
                time.sleep(0.01)
            with session_scope(sessions) as s:
                api.add_delayed_call(s, key="near", kind="k", due_at=time.time() - 1)
            sched.wake(time.time() - 1)
            assert fired.wait(1, timeout=10), "the scheduler thread died"
            assert fired.items == ["near"]
            assert sched._thread is not None and sched._thread.is_alive()
        finally:
            sched.stop()


def test_a_sequence_of_actions_stays_on_one_executor_thread() -> None:
    """In-process, the engine applies a result in the executor thread that reported it
    and dispatches the next action from there: that thread runs the next action itself
    once done (no other pool thread is woken); a fan-out still spreads over the pool."""
    t = LocalTransport()
    ran_in: dict[str, int] = {}
    sequence_done, fanout_done = threading.Event(), threading.Event()
    ex = LocalExecutor(t, testactions.provider(), workers=4)

    def engine(msg: dict[str, Any]) -> None:  # what the engine does with a result
        action_id = msg["event"]["action_id"]
        ran_in[action_id] = threading.get_ident()
        kind, n = action_id.split("-")
        if kind == "a" and int(n) < 5:  # a sequence: the next action
            t.send_to_executor({**_request("std.sleep", {"seconds": 0}),
                                "action_id": f"a-{int(n) + 1}"})
        elif kind == "a":  # then a fan-out of three actions that wait for each other
            sequence_done.set()
            for i in range(3):
                t.send_to_executor({**_request("test.gate", {"name": f"g{i}"}),
                                    "action_id": f"f-{i}"})
        if len([k for k in ran_in if k.startswith("f-")]) == 3:
            fanout_done.set()

    t.serve_engine(engine)
    ex.start()
    t.start()
    try:
        gates = [testactions.gate(f"g{i}") for i in range(3)]
        t.send_to_executor({**_request("std.sleep", {"seconds": 0}), "action_id": "a-0"})
        assert sequence_done.wait(10)
        deadline = time.monotonic() + 10  # the three wait for their gates at once
        while len(ex._running) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        for g in gates:
            g.set()
        assert fanout_done.wait(10)
        assert len({ran_in[f"a-{n}"] for n in range(6)}) == 1, "the sequence moved threads"
        assert len({ran_in[f"f-{i}"] for i in range(3)}) == 3, "the fan-out ran on one thread"
    finally:
        ex.stop()
        t.stop()
