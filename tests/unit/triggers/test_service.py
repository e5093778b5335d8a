"""TriggerService without threads: a fake clock drives ``fire_due`` directly."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import Engine, select

from tests.unit.triggers.helpers import (
    NOINPUT_TEXT,
    RecordingStarter,
    add_workflow,
    count_executions,
    epoch,
    sessions_of,
    utc,
)
from wfaas.db import models as m
from wfaas.triggers import cron
from wfaas.triggers.service import TriggerService


class Clock:
    """A settable clock (epoch seconds)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _setup(engine: Engine, **trigger: object) -> tuple[str, RecordingStarter]:
    session = sessions_of(engine)
    with session() as s:
        add_workflow(s, NOINPUT_TEXT, name="plain")
        args: dict[str, object] = {"name": "t", "pattern": "*/10 * * * *",
                                   "workflow_identifier": "plain",
                                   "now": utc("2026-03-10 11:59:00")}
        args.update(trigger)
        tid = cron.create_cron_trigger(s, **args).id  # type: ignore[arg-type]
    return tid, RecordingStarter(session)


def _service(engine: Engine, starter: RecordingStarter, clock: Clock,
             **kw: object) -> TriggerService:
    return TriggerService(sessions_of(engine), starter, clock=clock, **kw)  # type: ignore[arg-type]


def test_due_trigger_fires_once_with_description(engine: Engine) -> None:
    tid, starter = _setup(engine, workflow_params={"env": {"k": "v"}})
    clock = Clock(epoch("2026-03-10 11:59:59"))
    svc = _service(engine, starter, clock)
    assert svc.fire_due() == epoch("2026-03-10 12:00")  # not yet due: tells when
    assert starter.calls == []
    clock.now = epoch("2026-03-10 12:00:00")
    assert svc.fire_due() == epoch("2026-03-10 12:10")
    assert svc.fire_due() == epoch("2026-03-10 12:10")  # same instant again: nothing new
    assert len(starter.calls) == 1
    call = starter.calls[0]
    assert call["params"] == {"env": {"k": "v"}}
    desc = json.loads(call["description"])
    assert desc["triggered_by"] == {"type": "cron_trigger", "id": tid, "name": "t"}
    assert call["execution_id"] == cron.run_execution_id(tid, utc("2026-03-10 12:00"))


def test_countdown_and_removal(engine: Engine) -> None:
    tid, starter = _setup(engine, remaining_executions=3)
    clock = Clock(0)
    svc = _service(engine, starter, clock)
    session = sessions_of(engine)
    for i, at in enumerate(("12:00:00", "12:10:01", "12:20:02")):
        clock.now = epoch(f"2026-03-10 {at}")
        svc.fire_due()
        with session() as s:
            row = s.get(m.CronTrigger, tid)
            if i < 2:
                assert row is not None and row.remaining_executions == 2 - i
            else:
                assert row is None
    assert len(starter.calls) == 3
    clock.now = epoch("2026-03-10 12:30:00")
    assert svc.fire_due() is None
    assert len(starter.calls) == 3


def test_first_time_only_trigger_runs_once_then_disappears(engine: Engine) -> None:
    tid, starter = _setup(engine, pattern=None, first_execution_time="2026-03-10 12:00:30")
    svc = _service(engine, starter, Clock(epoch("2026-03-10 12:00:30")))
    assert svc.fire_due() is None
    assert len(starter.calls) == 1
    with sessions_of(engine)() as s:
        assert s.get(m.CronTrigger, tid) is None


def test_restart_after_crash_between_start_and_advance_does_not_fire_twice(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    tid, starter = _setup(engine)
    clock = Clock(epoch("2026-03-10 12:00:00"))
    first = _service(engine, starter, clock)

    def crash(*_a: object, **_k: object) -> bool:
        raise RuntimeError("process killed")

    monkeypatch.setattr(cron, "apply_plan", crash)
    first.fire_due()  # started the run, then "died" before advancing the trigger
    monkeypatch.undo()
    assert len(starter.calls) == 1
    clock.now = epoch("2026-03-10 12:00:07")  # the restarted process
    second = _service(engine, starter, clock)
    assert second.fire_due() == epoch("2026-03-10 12:10")
    assert len(starter.calls) == 1
    with sessions_of(engine)() as s:
        assert count_executions(s) == 1
        assert s.get(m.CronTrigger, tid).next_execution_time == utc("2026-03-10 12:10")


def test_short_restart_does_not_miss_a_run(engine: Engine) -> None:
    _, starter = _setup(engine)
    # Down from 11:59:50 to 12:00:40: the 12:00 run is 40 s late, within the grace.
    svc = _service(engine, starter, Clock(epoch("2026-03-10 12:00:40")), misfire_grace=60)
    svc.fire_due()
    assert len(starter.calls) == 1


def test_long_downtime_skips_missed_runs(engine: Engine) -> None:
    tid, starter = _setup(engine, remaining_executions=4)
    svc = _service(engine, starter, Clock(epoch("2026-03-10 15:05:00")), misfire_grace=60)
    assert svc.fire_due() == epoch("2026-03-10 15:10")
    assert starter.calls == []
    with sessions_of(engine)() as s:
        assert s.get(m.CronTrigger, tid).remaining_executions == 4


def test_long_downtime_with_catch_up_fires_once(engine: Engine) -> None:
    tid, starter = _setup(engine, remaining_executions=4, catch_up=True)
    svc = _service(engine, starter, Clock(epoch("2026-03-10 15:05:00")), misfire_grace=60)
    assert svc.fire_due() == epoch("2026-03-10 15:10")
    assert svc.fire_due() == epoch("2026-03-10 15:10")
    assert len(starter.calls) == 1
    with sessions_of(engine)() as s:
        assert s.get(m.CronTrigger, tid).remaining_executions == 3


def test_time_zone_trigger_fires_at_local_time(engine: Engine) -> None:
    tid, starter = _setup(engine, pattern="30 8 * * *", timezone="America/New_York")
    with sessions_of(engine)() as s:
        # 08:30 in New York on 10 March 2026 (EDT, UTC-4) is 12:30 UTC.
        assert s.get(m.CronTrigger, tid).next_execution_time == utc("2026-03-10 12:30")


def test_failing_start_still_advances(engine: Engine) -> None:
    tid, starter = _setup(engine)
    with sessions_of(engine)() as s:
        s.delete(s.scalars(select(m.WorkflowDefinition)).one())
    svc = _service(engine, starter, Clock(epoch("2026-03-10 12:00:00")))
    assert svc.fire_due() == epoch("2026-03-10 12:10")
    assert starter.calls == []


def test_two_schedulers_same_instant_fire_once(engine: Engine) -> None:
    session = sessions_of(engine)
    with session() as s:
        add_workflow(s, NOINPUT_TEXT, name="plain")
        for i in range(10):
            cron.create_cron_trigger(s, name=f"t{i}", pattern="* * * * *",
                                     workflow_identifier="plain",
                                     now=utc("2026-03-10 11:59:30"))
    starter = RecordingStarter(session)
    clock = Clock(epoch("2026-03-10 12:00:01"))
    services = [_service(engine, starter, clock) for _ in range(2)]
    barrier = threading.Barrier(2)

    def run(svc: TriggerService) -> None:
        barrier.wait()
        svc.fire_due()

    threads = [threading.Thread(target=run, args=(svc,)) for svc in services]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(starter.calls) == 10
    with session() as s:
        assert count_executions(s) == 10


def test_mistral_placeholder_pattern_runs_once(engine: Engine) -> None:
    tid, starter = _setup(engine)
    with sessions_of(engine)() as s:  # as stored by a first-time-only create elsewhere
        s.get(m.CronTrigger, tid).pattern = cron.NEVER_PATTERN
    svc = _service(engine, starter, Clock(epoch("2026-03-10 12:00:00")))
    assert svc.fire_due() is None
    assert len(starter.calls) == 1


def test_trust_is_passed_as_security_context(engine: Engine) -> None:
    tid, recorder = _setup(engine, trust_id="trust-9")
    seen: list[object] = []

    def start(identifier: str, *, security: dict[str, object] | None = None,
              **kw: object) -> dict[str, object]:
        seen.append(security)
        return recorder(identifier, **kw)  # type: ignore[arg-type]

    svc = TriggerService(sessions_of(engine), start,  # type: ignore[arg-type]
                         clock=Clock(epoch("2026-03-10 12:00:00")))
    svc.fire_due()
    assert seen == [{"trust_id": "trust-9", "project_id": "<default-project>",
                     "is_trust_scoped": True}]
