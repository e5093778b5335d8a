"""``Runtime``: the running service (engine + executor + scheduler) and its operations.

The API and the ``wfaas run`` command talk to this class only. Every operation
returns a plain dict shaped like the database row it concerns.

    rt = Runtime.from_config(cfg.CONF)   # creates/migrates the embedded SQLite
    rt.start()
    ex = rt.start_workflow("my_wf", input={"x": 1})
    done = rt.wait_execution(ex["id"], timeout=30)
    rt.stop()
"""

from __future__ import annotations

import datetime as _dt
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from oslo_config import cfg
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from wfaas.db import api, migration
from wfaas.db import models as m
from wfaas.db.config import engine_from_config
from wfaas.db.session import session_factory, session_scope
from wfaas.engine import TimerFired
from wfaas.engine.states import WORKFLOW_TERMINAL as TERMINAL
from wfaas.executors.base import LocalExecutor
from wfaas.rpc.base import Transport, get_transport
from wfaas.scheduler.delayed import DelayedCallScheduler, Hook
from wfaas.services import operations, recovery, telemetry
from wfaas.services.adhoc import DbAdHocLoader
from wfaas.services.configuration import configure_process
from wfaas.services.engine_service import EngineService
from wfaas.services.integrity import IntegrityChecker
from wfaas.services.limits import ExecutionLimits
from wfaas.services.specs import SpecResolver
from wfaas.services.watchdog import GUARD_KIND, WatchdogSettings, watchdog_settings

LOG = logging.getLogger(__name__)
#: seconds a thread may hold the GIL while others wait (Python's default: 0.005)
ENGINE_SWITCH_INTERVAL = 0.0002  # 0.001 left a cancel during a bomb at p99 ~110 ms


class Runtime(operations.Operations):
    """The wfaas shell in one object: database, transport, engine, executor, scheduler.

    ``roles`` selects what this process runs (``engine``, ``executor``,
    ``scheduler``); the API role only needs the operations, which work with
    any roles since they go through the transport.
    """

    def __init__(self, engine: Engine, *, transport: Transport | None = None,
                 provider: Any = None, executor_workers: int = 16, executor_group: str = "",
                 engine_workers: int = 2, scheduler_max_sleep: float | None = None,
                 scheduler_batch: int = 100, embedded: bool = True,
                 field_size_limit_kb: int = 1024, integrity_check_delay: float = -1,
                 heartbeat: dict[str, float] | None = None,
                 pure_actions_per_step: int = 1000,
                 limits: ExecutionLimits | None = None,
                 watchdog: WatchdogSettings | None = None,
                 roles: tuple[str, ...] = ("engine", "executor", "scheduler"),
                 clock: Callable[[], float] = time.time) -> None:
        self.db = engine
        self.sessions = session_factory(engine)
        self.transport = transport or get_transport("local:/")
        self.clock = clock
        self.embedded = embedded
        self.roles = roles
        self.specs = SpecResolver()
        self._provider = provider
        hooks: list[Hook] = []
        self.integrity_check_delay = integrity_check_delay
        self._next_integrity_check: float | None = None  # first check: a delay after start
        if integrity_check_delay > 0:
            hooks.append(self._integrity_check)
        self.scheduler = DelayedCallScheduler(
            self.sessions, self._on_delayed_call, max_sleep=scheduler_max_sleep,
            batch_size=scheduler_batch, clock=clock, hooks=hooks)
        self.engine = EngineService(self.sessions, self.transport, self.specs,
                                    workers=engine_workers, clock=clock,
                                    pure_actions_per_step=pure_actions_per_step,
                                    size_limit_kb=field_size_limit_kb,
                                    limits=limits or ExecutionLimits(
                                        field_size_kb=field_size_limit_kb),
                                    watchdog=watchdog,
                                    wake_scheduler=self.scheduler.wake)
        self.field_size_limit_kb = field_size_limit_kb
        self.executor = LocalExecutor(self.transport, None, workers=executor_workers,
                                      group=executor_group,
                                      size_limit_kb=field_size_limit_kb,
                                      heartbeat_interval=(heartbeat or {}).get(
                                          "check_interval", 0.0),
                                      sessions=None if embedded else self.sessions)
        self.integrity = IntegrityChecker.from_settings(self, heartbeat or {})
        if self.integrity.ownership is not None:  # a sub-workflow chain: both owned here
            self.engine.owns = self.integrity.ownership.owns
        self._changed = threading.Condition()
        self._generation = 0
        #: notified whenever a message, action or engine step is done
        self.monitor = threading.Condition()
        self.transport.monitor = self.monitor
        self.engine.monitor = self.monitor
        self.executor.monitor = self.monitor
        self.engine.listeners.append(self._on_engine_change)
        telemetry.attach(self)
        #: the cron/event trigger service (wfaas.triggers.TriggerService) when attached
        self.triggers: Any = None
        #: the configuration this runtime was built from (None: built directly, e.g. by
        #: tests); handed to the action providers and, through the executor, to actions
        self.conf: Any = None
        self.retention: Any = None
        self.pack_options: dict[str, Any] = {}  # [actions] strict / rescan_interval
        self._started = False

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts, *,
                    roles: tuple[str, ...] = ("engine", "executor", "scheduler")) -> Runtime:
        """Build from oslo.config; creates/migrates the schema of the embedded default."""
        engine = engine_from_config(conf)
        embedded = engine.dialect.name == "sqlite"
        if embedded:
            migration.ensure_schema(engine)
        local = not conf.transport_url or conf.transport_url.startswith("local:")
        rt = cls(engine, transport=get_transport(conf.transport_url),
                 executor_workers=conf.executor.workers, executor_group=conf.executor.host,
                 scheduler_max_sleep=None if local and embedded else conf.scheduler.max_sleep,
                 scheduler_batch=conf.scheduler.batch_size, embedded=embedded and local,
                 field_size_limit_kb=conf.engine.execution_field_size_limit_kb,
                 integrity_check_delay=conf.engine.execution_integrity_check_delay,
                 heartbeat=None if local else IntegrityChecker.settings(conf),
                 pure_actions_per_step=conf.engine.pure_actions_per_step,
                 engine_workers=conf.engine.workers or (1 if embedded else 2),
                 limits=ExecutionLimits.from_conf(conf), watchdog=watchdog_settings(conf),
                 roles=roles)
        rt.attach_config(conf)
        rt.pack_options = {"strict": conf.actions.fail_on_broken_pack,
                           "rescan_interval": conf.actions.rescan_interval}
        if "scheduler" in roles:  # cron triggers (and the event listener) run with it
            from wfaas.triggers.service import TriggerService

            rt.triggers = TriggerService.from_runtime(rt, conf)
            from wfaas.services.retention import RetentionService

            rt.retention = RetentionService.from_runtime(rt, conf)  # None when disabled
        return rt

    def attach_config(self, conf: Any) -> None:
        """Use ``conf`` for what this runtime builds: action providers, the executor's
        actions (``configure(conf)``), triggers, the expression evaluators."""
        self.conf = self.executor.conf = conf
        configure_process(conf)

    @property
    def provider(self) -> Any:
        """The action provider (std + packs + ad-hoc from the DB + OpenStack)."""
        if self._provider is None:
            from wfaas.actions.registry import default_providers

            self._provider = default_providers(DbAdHocLoader(self.sessions), conf=self.conf,
                                               **self.pack_options)
        return self._provider

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start the roles of this process and recover interrupted work."""
        if self._started:
            return
        self._started = True
        if "engine" in self.roles:
            # a step evaluating a tenant's expression holds the GIL: let the threads
            # serving requests in every 0.2 ms instead of every 5 (docs/security.md)
            sys.setswitchinterval(min(sys.getswitchinterval(), ENGINE_SWITCH_INTERVAL))
        if "executor" in self.roles:
            self.executor.provider = self.provider
            self.executor.start()
        if "engine" in self.roles:
            self.engine.start()
        self.transport.start()
        if "scheduler" in self.roles:
            self.scheduler.release_claims(everyone=self.embedded)
            self.scheduler.start()
            if self.triggers is not None:
                self.triggers.start()
            if self.retention is not None:
                self.retention.start()
        if "engine" in self.roles:
            recovery.recover(self, redispatch_actions=self.embedded)
            self.integrity.start()

    def stop(self) -> None:
        """Stop every part (running actions are abandoned, state stays in the DB)."""
        if not self._started:
            return
        self._started = False
        self.integrity.stop()
        if self.triggers is not None:
            self.triggers.stop()
        if self.retention is not None:
            self.retention.stop()
        self.scheduler.stop()
        self.transport.stop()
        self.engine.stop()
        self.executor.stop()

    def close(self) -> None:
        """Stop and release the database connections."""
        self.stop()
        self.db.dispose()

    def __enter__(self) -> Runtime:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def session(self, *, readonly: bool = False) -> Iterator[Session]:
        """One transaction on the runtime's database (``readonly``: a snapshot read that
        neither takes nor waits for the SQLite write lock)."""
        with session_scope(self.sessions, readonly=readonly) as session:
            yield session

    # ------------------------------------------------------------------ plumbing
    def _on_delayed_call(self, call: dict[str, Any]) -> None:
        if call["kind"] == "engine_timer" and call.get("execution_id"):
            payload = call.get("payload") or {}
            self.engine.send(call["execution_id"], TimerFired(
                timer_id=payload.get("timer_id", call["key"]),
                timer_kind=payload.get("timer_kind", ""), task_id=payload.get("task_id", "")))
        elif call["kind"] == GUARD_KIND:
            pass  # not a timer: it stays until its step ends (services/watchdog.py)
        else:
            LOG.warning("Unknown delayed call kind %s; dropping it", call["kind"])
            with self.session() as s:
                api.delete_delayed_call(s, call["id"])

    def _integrity_check(self, now: float) -> float | None:
        """Scheduler hook: re-send what may have been lost for executions that have
        not changed for ``integrity_check_delay`` seconds; returns the next check time."""
        if self._next_integrity_check is None:
            self._next_integrity_check = now + self.integrity_check_delay
        elif now >= self._next_integrity_check:
            self._next_integrity_check = now + self.integrity_check_delay
            cutoff = _dt.datetime.fromtimestamp(now - self.integrity_check_delay, _dt.UTC
                                                ).replace(tzinfo=None)
            recovery.recover(self, redispatch_actions=False, older_than=cutoff)
        return self._next_integrity_check

    def cron_triggers_changed(self) -> None:
        """A cron trigger was added or changed (called by the API): wake the trigger
        service attached as ``runtime.triggers`` (wfaas.triggers), if any."""
        wake = getattr(self.triggers, "wake", None)
        if callable(wake):
            wake()

    def _on_engine_change(self, kind: str, data: dict[str, Any]) -> None:
        if kind in ("execution", "action", "step"):
            with self._changed:
                self._generation += 1
                self._changed.notify_all()

    def wait_for(self, predicate: Callable[[Session], Any], timeout: float) -> Any:
        """Wait (event-driven) until ``predicate(session)`` is truthy; return its value.

        Re-checks whenever the local engine finishes a step or an ad-hoc action
        ends (re-reads periodically when this process runs no engine); returns
        the last (falsy) value on timeout.
        """
        deadline = time.monotonic() + timeout
        # Without a local engine nobody notifies us: re-read with a growing interval.
        poll = None if "engine" in self.roles else 0.02
        while True:
            with self._changed:
                seen = self._generation
            with self.session(readonly=True) as s:  # outside the lock: steps go on
                value = predicate(s)
            if value:
                return value
            left = deadline - time.monotonic()
            if left <= 0:
                return value
            with self._changed:
                if self._generation == seen:  # nothing changed since the read
                    self._changed.wait(left if poll is None else min(left, poll))
            if poll is not None:
                poll = min(poll * 2, 0.5)

    def add_listener(self, listener: Callable[[str, dict[str, Any]], None]) -> None:
        """Call ``listener(kind, data)`` after each committed change: kind ``task``
        (a task dict), ``execution`` (id, state, old_state, state_info), ``step``
        (execution_id, state), ``notify`` (engine notifications) or ``action``
        (ad-hoc action row)."""
        self.engine.listeners.append(listener)

    def quiet(self) -> bool:
        """True when no message, engine step or action is in progress here
        (local transport only; used by tests to drive virtual time)."""
        in_flight = getattr(self.transport, "in_flight", None)
        return ((in_flight() if in_flight else 0) == 0 and self.engine.idle()
                and self.executor.in_flight() == 0)

    def terminal(self, row: m.WorkflowExecution | None) -> bool:
        """Whether an execution row is finished."""
        return row is not None and row.state in TERMINAL
