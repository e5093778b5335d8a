"""Cron triggers: validation, creation and the firing plan of one due trigger.

Times are naive UTC ``datetime`` values (the database convention). A trigger's
``pattern`` is a five-field cron expression evaluated in its ``timezone``
(IANA name, None = UTC); ``first_execution_time`` is always UTC, as on
Mistral's wire. The functions here take ``now`` instead of reading a clock.

Firing (see :class:`wfaas.triggers.service.TriggerService`) is exactly once per
scheduled time: the execution id is derived from (trigger id, scheduled time)
so a second start of the same run is refused by the database, and the trigger
is advanced with a compare-and-set UPDATE on ``next_execution_time`` so only one
scheduler counts the run down (and deletes the trigger at zero).
"""

from __future__ import annotations

import datetime as _dt
import json
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from wfaas.db import api as db
from wfaas.db import models as m
from wfaas.exceptions import ClientError, Conflict, InputError
from wfaas.triggers.changes import notify_changed
from wfaas.utils import inputcheck

DEFAULT_PROJECT = "<default-project>"
UTC = _dt.UTC
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M")
# Mistral's placeholder pattern of a trigger with only a first execution time.
NEVER_PATTERN = "0 0 30 2 0"
RUN_NAMESPACE = uuid.UUID("6f1c1c52-3d54-4b8e-9a55-2b8f4f3c7a10")


# ---------------------------------------------------------------- times and patterns


def validate_pattern(pattern: str) -> str:
    """The pattern stripped; not five cron fields or not valid -> ClientError (400)."""
    text = " ".join(str(pattern).split())
    fields = text.split(" ") if text else []
    if len(fields) != 5:
        raise ClientError(f"Invalid cron pattern '{pattern}': expected five fields "
                          f"(minute hour day-of-month month day-of-week), got {len(fields)}")
    if not croniter.is_valid(text):
        raise ClientError(f"Invalid cron pattern '{pattern}'")
    return text


def validate_timezone(name: str | None) -> str | None:
    """An IANA time zone name (None/'' = UTC); unknown -> ClientError naming it."""
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ClientError(f"Invalid time zone '{name}' [field=timezone]; use an IANA name "
                          f"such as 'Europe/Paris' or 'UTC'") from None
    return name


def parse_utc(value: str | _dt.datetime, field: str = "first_execution_time") -> _dt.datetime:
    """A naive UTC datetime from ``YYYY-MM-DD HH:MM[:SS]`` (or a datetime); bad -> 400."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value
    text = str(value).strip()
    for fmt in TIME_FORMATS:
        try:
            return _dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ClientError(f"Invalid value for '{field}': {value!r}; expected 'YYYY-MM-DD HH:MM' "
                      f"(UTC)")


def next_execution_time(pattern: str, after: _dt.datetime,
                        timezone: str | None = None) -> _dt.datetime:
    """The first time strictly after ``after`` (naive UTC) matching ``pattern`` in
    ``timezone``, as naive UTC (daylight-saving changes follow the zone)."""
    zone = ZoneInfo(timezone) if timezone else UTC
    base = after.replace(tzinfo=UTC).astimezone(zone)
    nxt: _dt.datetime = croniter(pattern, base).get_next(_dt.datetime)
    return nxt.astimezone(UTC).replace(tzinfo=None)


def to_epoch(value: _dt.datetime) -> float:
    """A naive UTC datetime as epoch seconds."""
    return value.replace(tzinfo=UTC).timestamp()


def from_epoch(value: float) -> _dt.datetime:
    """Epoch seconds as a naive UTC datetime."""
    return _dt.datetime.fromtimestamp(value, UTC).replace(tzinfo=None)


# ---------------------------------------------------------------- creation


def _check_count(count: Any, pattern: str | None) -> int | None:
    if count is None:
        return None
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ClientError(f"Invalid value for 'remaining_executions': {count!r}; it must be a "
                          f"positive integer")
    if count > 1 and not pattern:
        raise ClientError("Pattern must be provided if count is superior to 1 "
                          "[field=remaining_executions]")
    return count


def plan_timing(*, pattern: str | None, first_execution_time: str | _dt.datetime | None,
                remaining_executions: int | None, timezone: str | None,
                now: _dt.datetime, min_first_delay: float = 0.0) -> dict[str, Any]:
    """Validate the timing fields and compute the stored values (pure).

    Needs a pattern or a first time; the first time must be later than
    ``now + min_first_delay``; a count above one needs a pattern. Without a
    pattern the trigger runs once (``remaining_executions`` 1).
    """
    pattern = validate_pattern(pattern) if pattern else None
    timezone = validate_timezone(timezone)
    if not pattern and not first_execution_time:
        raise ClientError("A cron trigger needs a 'pattern' or a 'first_execution_time'")
    first = parse_utc(first_execution_time) if first_execution_time else None
    if first is not None and first <= now + _dt.timedelta(seconds=min_first_delay):
        raise ClientError(f"first_execution_time must be in the future (UTC) "
                          f"[first_execution_time={first:%Y-%m-%d %H:%M:%S}, "
                          f"now={now:%Y-%m-%d %H:%M:%S}]")
    count = _check_count(remaining_executions, pattern)
    if not pattern:
        count = 1
    nxt = first if first is not None else next_execution_time(pattern or "", now, timezone)
    return {"pattern": pattern, "first_execution_time": first, "next_execution_time": nxt,
            "remaining_executions": count, "timezone": timezone}


def check_workflow_input(session: Session, wf: m.WorkflowDefinition,
                         workflow_input: dict[str, Any]) -> None:
    """Missing or unexpected inputs of ``wf`` -> InputError (400), Mistral's message."""
    from wfaas.engine import validate_workflow_input
    from wfaas.lang.execution_spec import spec_from_text

    text = db.execution_text(session, wf)
    validate_workflow_input(spec_from_text(text, wf.name), workflow_input)


def create_cron_trigger(session: Session, *, name: str, pattern: str | None = None,
                        first_execution_time: str | _dt.datetime | None = None,
                        remaining_executions: int | None = None, workflow_identifier: str,
                        namespace: str = "", workflow_input: dict[str, Any] | None = None,
                        workflow_params: dict[str, Any] | None = None,
                        project_id: str = DEFAULT_PROJECT, now: _dt.datetime,
                        scope: str = "private", timezone: str | None = None,
                        catch_up: bool = False, trust_id: str | None = None,
                        min_first_delay: float = 0.0) -> m.CronTrigger:
    """Validate and store a cron trigger; returns the new row.

    Raises ClientError (400) for bad fields, NotFound (404) for an unknown
    workflow, InputError (400) for input not matching the workflow, Conflict
    (409) when the name is taken in the project.
    """
    if not name or not str(name).strip():
        raise ClientError("Field 'name' is required")
    inputcheck.check_name(name, what="cron trigger")
    if scope not in ("private", "public"):
        raise ClientError(f"Invalid scope '{scope}'; use 'private' or 'public'")
    for label, value in (("workflow_input", workflow_input),
                         ("workflow_params", workflow_params)):
        if value is not None and not isinstance(value, dict):
            raise InputError(f"Field '{label}' must be a JSON object")
    timing = plan_timing(pattern=pattern, first_execution_time=first_execution_time,
                         remaining_executions=remaining_executions, timezone=timezone, now=now,
                         min_first_delay=min_first_delay)
    wf = db.get_workflow_definition(session, workflow_identifier, namespace=namespace,
                                    project_id=project_id)
    check_workflow_input(session, wf, dict(workflow_input or {}))
    taken = session.scalars(select(m.CronTrigger.id).where(
        m.CronTrigger.name == name, m.CronTrigger.project_id == project_id)).first()
    if taken:
        raise Conflict(f"Duplicate entry for cron trigger ['name', 'project_id']: {name}, "
                       f"{project_id}")
    row = db.create(session, m.CronTrigger, name=name, workflow_name=wf.name,
                    workflow_namespace=wf.namespace, workflow_id=wf.id,
                    workflow_input=dict(workflow_input or {}),
                    workflow_params=dict(workflow_params or {}), scope=scope,
                    project_id=project_id, trust_id=trust_id, catch_up=bool(catch_up),
                    **timing)
    notify_changed(session)
    return row


# ---------------------------------------------------------------- firing


@dataclass(frozen=True)
class FirePlan:
    """What to do with one due trigger: start a run for ``scheduled`` or not,
    then move it to ``next_time`` with ``remaining`` runs, or delete it."""

    trigger_id: str
    scheduled: _dt.datetime
    fire: bool
    missed: bool
    next_time: _dt.datetime | None
    remaining: int | None
    delete: bool


def plan_fire(trigger: m.CronTrigger | dict[str, Any], now: _dt.datetime,
              grace_seconds: float) -> FirePlan:
    """The plan for a trigger whose ``next_execution_time`` <= ``now`` (pure).

    A run later than ``grace_seconds`` was missed (service down): it is skipped
    unless the trigger has ``catch_up`` (then it fires once). The next time is
    computed from max(now, scheduled), so missed runs are never back-filled.
    """
    t = trigger if isinstance(trigger, dict) else trigger.to_dict()
    scheduled: _dt.datetime = t["next_execution_time"]
    missed = (now - scheduled).total_seconds() > grace_seconds
    fire = (not missed) or bool(t.get("catch_up"))
    remaining = t.get("remaining_executions")
    if fire and remaining is not None:
        remaining -= 1
    pattern = t.get("pattern")
    if pattern == NEVER_PATTERN:
        pattern = None
    if (remaining is not None and remaining <= 0) or not pattern:
        return FirePlan(t["id"], scheduled, fire, missed, None, remaining, True)
    nxt = next_execution_time(pattern, max(now, scheduled), t.get("timezone"))
    return FirePlan(t["id"], scheduled, fire, missed, nxt, remaining, False)


def run_execution_id(trigger_id: str, scheduled: _dt.datetime) -> str:
    """The execution id of the run of ``trigger_id`` scheduled at ``scheduled``:
    the same for every scheduler, so the run is created at most once."""
    return str(uuid.uuid5(RUN_NAMESPACE, f"{trigger_id}@{scheduled.isoformat()}"))


def run_description(trigger: m.CronTrigger | dict[str, Any]) -> str:
    """Mistral's execution description JSON of a cron-triggered run."""
    t = trigger if isinstance(trigger, dict) else trigger.to_dict()
    return json.dumps({
        "description": f"Workflow execution created by cron trigger '({t['id']})'.",
        "triggered_by": {"type": "cron_trigger", "id": t["id"], "name": t["name"]},
    })


def due_triggers(session: Session, now: _dt.datetime, limit: int = 100) -> list[m.CronTrigger]:
    """Triggers whose next execution time has come, earliest first."""
    stmt = (select(m.CronTrigger).where(m.CronTrigger.next_execution_time <= now)
            .order_by(m.CronTrigger.next_execution_time).limit(limit))
    return list(session.scalars(stmt))


def earliest_time(session: Session) -> _dt.datetime | None:
    """The earliest next execution time of all triggers (None: no trigger)."""
    stmt = select(m.CronTrigger.next_execution_time).where(
        m.CronTrigger.next_execution_time.is_not(None)).order_by(
        m.CronTrigger.next_execution_time).limit(1)
    return session.scalars(stmt).first()


def apply_plan(session: Session, plan: FirePlan, now: _dt.datetime) -> bool:
    """Compare-and-set: advance (or delete) the trigger only if its next execution
    time is still ``plan.scheduled``. True when this caller won."""
    cond = (m.CronTrigger.id == plan.trigger_id,
            m.CronTrigger.next_execution_time == plan.scheduled)
    if plan.delete:
        result = session.execute(delete(m.CronTrigger).where(*cond))
    else:
        result = session.execute(update(m.CronTrigger).where(*cond).values(
            next_execution_time=plan.next_time, remaining_executions=plan.remaining,
            updated_at=now))
    return int(result.rowcount) == 1  # type: ignore[attr-defined]
