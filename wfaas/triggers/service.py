"""``TriggerService``: fires cron triggers on time and event triggers on notifications.

The cron loop is event-driven: it sleeps until the earliest
``next_execution_time`` and is woken by :meth:`TriggerService.wake` when a
trigger is created or deleted in this process (``max_sleep`` bounds a sleep so
triggers created by other processes are seen too). Each due trigger is fired
exactly once across schedulers: the run's execution id is derived from (trigger
id, scheduled time) so a second start is refused by the database, and the
trigger is advanced by a compare-and-set UPDATE of ``next_execution_time``.

Event triggers fire from :meth:`TriggerService.handle_event`, called by the
RabbitMQ listener (:mod:`wfaas.triggers.listener`) or by the API
(``POST /v2/event_triggers/events``) when no broker is used.

    triggers = TriggerService.from_runtime(runtime)   # after runtime.start()
    triggers.start()
    ...
    triggers.stop()
"""

from __future__ import annotations

import datetime as _dt
import inspect
import logging
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from sqlalchemy.orm import Session

from wfaas.db import models as m
from wfaas.exceptions import Conflict, WfaasError
from wfaas.triggers import cron, events
from wfaas.triggers.changes import ChangeListener
from wfaas.triggers.listener import DEFAULT_PRIORITIES, NotificationListener
from wfaas.utils.dueloop import DueLoop

LOG = logging.getLogger(__name__)
SessionFactory = Callable[[], AbstractContextManager[Session]]
RETRY_PAUSE = 1.0


class StartWorkflow(Protocol):
    """``Runtime.start_workflow``'s signature (the part the triggers use)."""

    def __call__(self, identifier: str, *, namespace: str = "",
                 input: dict[str, Any] | None = None, params: dict[str, Any] | None = None,
                 description: str = "", execution_id: str | None = None
                 ) -> dict[str, Any]: ...


def _accepts(func: Callable[..., Any], name: str) -> bool:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


class TriggerService(DueLoop):
    """Fires cron triggers (a thread) and event triggers (listener or API)."""

    loop_name = "wfaas-cron-triggers"

    def __init__(self, session: SessionFactory, start_workflow: StartWorkflow, *,
                 clock: Callable[[], float] = time.time, max_sleep: float | None = 30.0,
                 misfire_grace: float = 60.0, batch_size: int = 100,
                 auth_enabled: bool = False, cron_enabled: bool = True,
                 listener: NotificationListener | None = None,
                 definitions: list[events.EventDefinition] | None = None,
                 changes: ChangeListener | None = None) -> None:
        self.session = session
        self.start_workflow = start_workflow
        self.clock = clock
        self.max_sleep = max_sleep
        self.misfire_grace = misfire_grace
        self.batch_size = batch_size
        self.auth_enabled = auth_enabled
        self.cron_enabled = cron_enabled
        self.listener = listener
        self.definitions = list(definitions or [])
        self.changes = changes
        self._pass_security = _accepts(start_workflow, "security")
        self._pass_project = _accepts(start_workflow, "project_id")
        self._failed = False
        self._init_loop()

    @classmethod
    def from_runtime(cls, runtime: Any, conf: Any = None) -> TriggerService:
        """A service over a :class:`wfaas.services.runtime.Runtime` configured from
        ``conf`` (default: the runtime's, else ``wfaas.config.CONF``): ``[cron_trigger]``
        and ``[event_engine]``."""
        if conf is None:
            conf = getattr(runtime, "conf", None)
        if conf is None:
            from wfaas.config import CONF as conf
        listener = None
        url = listener_url(conf)
        if url and conf.event_engine.enabled:
            listener = NotificationListener(url, lambda *a: None,
                                            pool=conf.event_engine.listener_pool_name,
                                            priorities=conf.event_engine.priorities
                                            or DEFAULT_PRIORITIES)
        service = cls(runtime.session, runtime.start_workflow,
                      clock=getattr(runtime, "clock", time.time),
                      max_sleep=conf.cron_trigger.max_sleep,
                      misfire_grace=float(conf.cron_trigger.misfire_grace_time),
                      auth_enabled=bool(conf.pecan.auth_enable),
                      cron_enabled=bool(conf.cron_trigger.enabled), listener=listener,
                      definitions=definitions_from_file(conf.event_engine.event_definitions_file))
        if listener is not None:
            listener.handler = service.on_notification
        engine = getattr(runtime, "db", None)
        if engine is not None:
            service.changes = ChangeListener.for_engine(engine, service.wake)
        return service

    # ------------------------------------------------------------------ control
    def start(self) -> None:
        """Start the cron thread and the notification listener."""
        if self.listener is not None:
            self.refresh_bindings()
            self.listener.start()
        if self.changes is not None:
            self.changes.start()
        if self.cron_enabled:
            self._start_loop()

    def stop(self) -> None:
        """Stop the thread and the listener."""
        self._stop_loop()
        if self.changes is not None:
            self.changes.stop()
        if self.listener is not None:
            self.listener.stop()

    def wake(self) -> None:
        """Triggers changed: recompute the next due time (and the listener's bindings)."""
        self._wake_loop()
        if self.listener is not None:
            try:
                self.refresh_bindings()
            except Exception:  # noqa: BLE001 - the loop refreshes again later
                LOG.exception("Refreshing the event listener bindings failed")

    # ------------------------------------------------------------------ cron
    def fire_due(self, now: float | None = None) -> float | None:
        """Fire every trigger due at ``now`` (default: the clock); return the next
        due time as epoch seconds (None: no trigger)."""
        now_dt = cron.from_epoch(self.clock() if now is None else now)
        with self.session() as s:
            due = [t.to_dict() for t in cron.due_triggers(s, now_dt, self.batch_size)]
        self._failed = False
        for trigger in due:
            try:
                self.fire_one(trigger, now_dt)
            except Exception:  # noqa: BLE001 - one bad trigger must not stop the others
                self._failed = True
                LOG.exception("Cron trigger %s (%s) failed", trigger["name"], trigger["id"])
        if len(due) >= self.batch_size:
            return cron.to_epoch(now_dt)
        with self.session() as s:
            earliest = cron.earliest_time(s)
        return None if earliest is None else cron.to_epoch(earliest)

    def fire_one(self, trigger: dict[str, Any], now: _dt.datetime) -> bool:
        """Run one due trigger (if not missed) and advance it; True if we advanced it."""
        plan = cron.plan_fire(trigger, now, self.misfire_grace)
        if plan.fire:
            self._start_cron_run(trigger, plan.scheduled)
        else:
            LOG.warning("Cron trigger %s missed its run of %s (late by more than %ss); "
                        "skipped", trigger["name"], plan.scheduled, self.misfire_grace)
        with self.session() as s:
            won = cron.apply_plan(s, plan, now)
        if won and plan.delete:
            LOG.info("Cron trigger %s ran its last execution and was deleted", trigger["name"])
        return won

    def _start_cron_run(self, trigger: dict[str, Any], scheduled: Any) -> None:
        ex_id = cron.run_execution_id(trigger["id"], scheduled)
        with self.session() as s:
            if s.get(m.WorkflowExecution, ex_id) is not None:
                return
        self._start(trigger["workflow_id"] or trigger["workflow_name"],
                    namespace=trigger.get("workflow_namespace") or "",
                    input=dict(trigger.get("workflow_input") or {}),
                    params=dict(trigger.get("workflow_params") or {}),
                    description=cron.run_description(trigger), execution_id=ex_id,
                    trust_id=trigger.get("trust_id"), project_id=trigger.get("project_id"))

    def _start(self, identifier: str, *, trust_id: str | None, project_id: str | None,
               **kwargs: Any) -> dict[str, Any] | None:
        if self._pass_security and trust_id:
            kwargs["security"] = {"trust_id": trust_id, "project_id": project_id,
                                  "is_trust_scoped": True}
        if self._pass_project and project_id:  # the run belongs to the trigger's project
            kwargs["project_id"] = project_id
        try:
            return self.start_workflow(identifier, **kwargs)
        except Conflict:
            LOG.debug("Execution %s exists already (started by another scheduler)",
                      kwargs.get("execution_id"))
        except WfaasError as exc:
            LOG.error("A trigger could not start workflow %s: %s", identifier, exc)
        return None

    def _iterate(self) -> float | None:
        next_due = self.fire_due()
        if self.listener is not None:
            self.refresh_bindings()
        return next_due

    def _pause_floor(self) -> float:
        return RETRY_PAUSE if self._failed else 0.0  # e.g. a DB error: no hot retry loop

    # ------------------------------------------------------------------ events
    def refresh_bindings(self) -> None:
        """Make the listener follow the (exchange, topic) pairs of the stored triggers."""
        if self.listener is None:
            return
        with self.session() as s:
            pairs = events.bindings(s)
        self.listener.set_bindings(pairs)

    def on_notification(self, exchange: str, topic: str, body: Any,
                        routing_key: str = "") -> None:
        """The listener's handler: decode an oslo.messaging notification and handle it."""
        self.handle_event(events.decode_notification(exchange, topic, body, routing_key))

    def post_event(self, exchange: str, topic: str, event_type: str, payload: Any = None, *,
                   context: dict[str, Any] | None = None, publisher: str | None = None,
                   message_id: str | None = None, timestamp: str | None = None
                   ) -> list[dict[str, Any]]:
        """Handle an event given directly (the API's ``/v2/event_triggers/events``)."""
        return self.handle_event(events.Event(
            exchange=exchange, topic=topic, event_type=event_type, payload=payload,
            publisher=publisher, message_id=message_id, timestamp=timestamp,
            context=dict(context or {})))

    def handle_event(self, event: events.Event) -> list[dict[str, Any]]:
        """Start the workflow of every matching trigger; returns the started executions.

        With a ``message_id`` the execution id is derived from (trigger, message),
        so a redelivered notification does not start a second run.
        """
        with self.session() as s:
            found = events.matching_triggers(s, event, auth_enabled=self.auth_enabled)
            triggers = [self._with_namespace(s, t) for t in found]
        started: list[dict[str, Any]] = []
        for t in triggers:
            try:
                wf_input = events.run_input(t, event)
            except WfaasError as exc:
                LOG.error("Event trigger %s: workflow input could not be evaluated: %s",
                          t["name"], exc)
                continue
            ex_id = (str(uuid.uuid5(cron.RUN_NAMESPACE, f"{t['id']}@event:{event.message_id}"))
                     if event.message_id else None)
            params = {**dict(t.get("workflow_params") or {}),
                      "event_params": events.event_params(event, self.definitions)}
            result = self._start(t["workflow_id"], namespace=t["workflow_namespace"],
                                 input=wf_input, params=params,
                                 description=events.run_description(t), execution_id=ex_id,
                                 trust_id=t.get("trust_id"), project_id=t.get("project_id"))
            if result is not None:
                started.append({**result, "trigger_id": t["id"]})
        return started

    @staticmethod
    def _with_namespace(session: Session, trigger: m.EventTrigger) -> dict[str, Any]:
        data = trigger.to_dict()
        wf = session.get(m.WorkflowDefinition, trigger.workflow_id)
        data["workflow_namespace"] = wf.namespace if wf is not None else ""
        return data


def definitions_from_file(path: str | None) -> list[events.EventDefinition]:
    """The event definitions of ``[event_engine] event_definitions_file`` ([] if unset)."""
    if not path:
        return []
    import os

    path = os.path.expanduser(path)
    if not os.path.exists(path):
        LOG.warning("Event definitions file %s does not exist; using the default "
                    "event_params", path)
        return []
    with open(path, encoding="utf-8") as f:
        return events.load_definitions(f.read(), path)


def listener_url(conf: Any) -> str | None:
    """The broker URL event triggers listen on (None: no listener)."""
    url = str(conf.event_engine.transport_url or "")
    if not url:
        url = str(conf.transport_url or "")
    if url.startswith(("rabbit://", "amqp://", "pyamqp://", "amqps://")):
        return "amqp://" + url.split("://", 1)[1] if url.startswith("rabbit://") else url
    return None
