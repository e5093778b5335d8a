"""Two schedulers against one PostgreSQL database fire every due run exactly once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, event, func, select

from tests.unit.db.dbutil import drop_pg_schema, pg_engine_in_schema
from tests.unit.triggers.helpers import (
    NOINPUT_TEXT,
    RecordingStarter,
    add_workflow,
    epoch,
    sessions_of,
    utc,
)
from wfaas.db import migration
from wfaas.db import models as m
from wfaas.db.session import make_engine
from wfaas.triggers import cron
from wfaas.triggers.changes import ChangeListener
from wfaas.triggers.service import TriggerService

pytestmark = pytest.mark.postgres

TRIGGERS = 20
ROUNDS = 5


def _second_engine(schema: str) -> Engine:
    """An independent engine (own pool and connections) on the same schema."""
    from tests.unit.db.dbutil import PG_URL

    eng = make_engine(PG_URL, pool_size=2)

    @event.listens_for(eng, "connect")
    def _set_path(dbapi_conn, _rec):  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        cur.execute(f'SET search_path TO "{schema}"')
        cur.close()
        dbapi_conn.commit()

    return eng


@pytest.fixture
def engines() -> Iterator[tuple[Engine, Engine]]:
    first, schema = pg_engine_in_schema()
    second = _second_engine(schema)
    try:
        migration.upgrade(first)
        yield first, second
    finally:
        second.dispose()
        drop_pg_schema(first, schema)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_two_schedulers_fire_each_run_once(engines: tuple[Engine, Engine]) -> None:
    one, two = engines
    session = sessions_of(one)
    with session() as s:
        add_workflow(s, NOINPUT_TEXT, name="plain")
        for i in range(TRIGGERS):
            cron.create_cron_trigger(s, name=f"t{i}", pattern="* * * * *",
                                     remaining_executions=ROUNDS, workflow_identifier="plain",
                                     now=utc("2026-03-10 11:59:30"))
    clock = Clock(0)
    services = [TriggerService(sessions_of(eng), RecordingStarter(sessions_of(eng)), clock=clock)
                for eng in (one, two)]
    for r in range(ROUNDS):
        clock.now = epoch(f"2026-03-10 12:0{r}:00") + 0.5
        barrier = threading.Barrier(2)

        def run(svc: TriggerService, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            svc.fire_due()

        threads = [threading.Thread(target=run, args=(svc,)) for svc in services]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    with session() as s:
        per_trigger = dict(s.execute(select(m.WorkflowExecution.description,
                                            func.count()).group_by(
            m.WorkflowExecution.description)).all())
        total = s.scalar(select(func.count()).select_from(m.WorkflowExecution))
        left = s.scalar(select(func.count()).select_from(m.CronTrigger))
    assert total == TRIGGERS * ROUNDS
    assert len(per_trigger) == TRIGGERS and set(per_trigger.values()) == {ROUNDS}
    assert left == 0  # every trigger counted down to zero and was removed
    calls = [len(svc.start_workflow.calls) for svc in services]  # type: ignore[attr-defined]
    assert sum(calls) == TRIGGERS * ROUNDS


def test_trigger_created_in_another_process_fires_on_time(
        engines: tuple[Engine, Engine]) -> None:
    api_side, scheduler_side = engines  # two connection pools, as two processes have
    with sessions_of(api_side)() as s:
        add_workflow(s, NOINPUT_TEXT, name="plain")
    starter = RecordingStarter(sessions_of(scheduler_side))
    service = TriggerService(sessions_of(scheduler_side), starter, max_sleep=300.0)
    service.changes = ChangeListener.for_engine(scheduler_side, service.wake)
    assert service.changes is not None
    service.start()
    try:
        assert service.changes.wait_ready(10)
        due = int(time.time()) + 2
        with sessions_of(api_side)() as s:  # NOTIFY goes out with this commit
            cron.create_cron_trigger(s, name="remote", first_execution_time=cron.from_epoch(due),
                                     workflow_identifier="plain",
                                     now=cron.from_epoch(time.time()))
        calls = starter.wait_calls(1, timeout=10)
    finally:
        service.stop()
    assert len(calls) == 1
    assert due <= calls[0]["at"] < due + 1.0, calls[0]["at"] - due
