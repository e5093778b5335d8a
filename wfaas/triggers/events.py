"""Event triggers: validation and storage, and turning a notification into runs.

An event trigger names an ``exchange``, a ``topic`` and an ``event`` type; a
notification published on that exchange/topic (the oslo.messaging way, see
:mod:`wfaas.triggers.listener`) whose ``event_type`` equals ``event`` starts
the trigger's workflow. The workflow receives ``params.event_params`` (Mistral's
default properties ``service, project_id, user_id, timestamp`` plus
``event_type`` and ``payload``), and expressions in the trigger's
``workflow_input`` are evaluated against the event (``<% $.payload.x %>``).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wfaas.db import api as db
from wfaas.db import models as m
from wfaas.db.types import utcnow
from wfaas.exceptions import ClientError, Conflict, InputError, NotFound
from wfaas.triggers.changes import notify_changed
from wfaas.triggers.cron import check_workflow_input
from wfaas.utils import inputcheck

DEFAULT_PROJECT = "<default-project>"
IMMUTABLE = ("exchange", "topic", "event")
UPDATABLE = ("name", "workflow_id", "workflow_input", "workflow_params", "scope")
READ_ONLY = ("id", "project_id", "created_at", "updated_at")  # sent back by clients: ignored


@dataclass(frozen=True)
class Event:
    """One notification as the event engine sees it (oslo.messaging's fields)."""

    exchange: str
    topic: str
    event_type: str
    payload: Any = None
    publisher: str | None = None
    timestamp: str | None = None
    priority: str = "info"
    message_id: str | None = None
    context: dict[str, Any] = field(default_factory=dict)

    def data(self) -> dict[str, Any]:
        """The event as the data of expressions (``$`` in YAQL, ``_`` in Jinja)."""
        return {"event_type": self.event_type, "payload": self.payload,
                "publisher": self.publisher, "timestamp": self.timestamp,
                "priority": self.priority, "message_id": self.message_id,
                "context": dict(self.context), "exchange": self.exchange, "topic": self.topic}

    def params(self) -> dict[str, Any]:
        """``params.event_params`` of a started workflow."""
        return {"service": self.publisher, "project_id": self.context.get("project_id"),
                "user_id": self.context.get("user_id"), "timestamp": self.timestamp,
                "event_type": self.event_type, "payload": self.payload}


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ClientError(f"Field '{name}' is required and must be a non-empty string")
    if len(value) > 255:
        raise ClientError(f"Field '{name}' is longer than 255 characters")
    return value.strip()


def _object(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = inputcheck.loads(value, field=name, max_depth=-1) if value.strip() else {}
        except inputcheck.InputProblem as exc:
            raise ClientError(f"Invalid JSON in field '{name}': {exc.problem}") from None
    if not isinstance(value, dict):
        raise InputError(f"Field '{name}' must be a JSON object")
    return value


def _workflow(session: Session, identifier: str, project_id: str) -> m.WorkflowDefinition:
    try:
        return db.get_workflow_definition(session, identifier, project_id=project_id)
    except NotFound:
        raise NotFound(f"Workflow not found [workflow_id={identifier}]") from None


def _check_duplicate(session: Session, *, exchange: str, topic: str, event: str,
                     workflow_id: str, project_id: str, exclude: str | None = None) -> None:
    stmt = select(m.EventTrigger.id).where(
        m.EventTrigger.exchange == exchange, m.EventTrigger.topic == topic,
        m.EventTrigger.event == event, m.EventTrigger.workflow_id == workflow_id,
        m.EventTrigger.project_id == project_id)
    if exclude:
        stmt = stmt.where(m.EventTrigger.id != exclude)
    if session.scalars(stmt).first():
        raise Conflict(f"Duplicate entry for event trigger ['exchange', 'topic', 'event', "
                       f"'workflow_id', 'project_id']: {exchange}, {topic}, {event}, "
                       f"{workflow_id}, {project_id}")


def create_event_trigger(session: Session, *, name: Any, workflow_id: Any, exchange: Any,
                         topic: Any, event: Any, workflow_input: Any = None,
                         workflow_params: Any = None, scope: str = "private",
                         project_id: str = DEFAULT_PROJECT,
                         trust_id: str | None = None) -> m.EventTrigger:
    """Validate and store an event trigger (workflow by id, or by name leniently).

    400 for a missing/bad field or input not matching the workflow, 404 for an
    unknown workflow, 409 when the same workflow already listens to this event.
    """
    name = inputcheck.check_name(_text(name, "name"), what="event trigger")
    exchange, topic, event = (_text(exchange, "exchange"), _text(topic, "topic"),
                              _text(event, "event"))
    if scope not in ("private", "public"):
        raise ClientError(f"Invalid scope '{scope}'; use 'private' or 'public'")
    wf_input = _object(workflow_input, "workflow_input")
    wf_params = _object(workflow_params, "workflow_params")
    wf = _workflow(session, _text(workflow_id, "workflow_id"), project_id)
    check_workflow_input(session, wf, wf_input)
    _check_duplicate(session, exchange=exchange, topic=topic, event=event, workflow_id=wf.id,
                     project_id=project_id)
    row = db.create(session, m.EventTrigger, name=name, workflow_id=wf.id,
                    workflow_input=wf_input, workflow_params=wf_params, exchange=exchange,
                    topic=topic, event=event, scope=scope, project_id=project_id,
                    trust_id=trust_id)
    notify_changed(session)
    return row


def update_event_trigger(session: Session, trigger: m.EventTrigger,
                         values: dict[str, Any]) -> m.EventTrigger:
    """Change name, workflow, input, params or scope; exchange/topic/event -> 400."""
    fixed = [k for k in IMMUTABLE if k in values and values[k] not in (None, getattr(
        trigger, k))]
    if fixed:
        raise ClientError(f"Can not update fields {list(IMMUTABLE)} of event trigger "
                          f"[given={fixed}]")
    unknown = [k for k in values if k not in (*UPDATABLE, *IMMUTABLE, *READ_ONLY)]
    if unknown:
        raise ClientError(f"Unknown field(s) {unknown} for an event trigger update")
    changes: dict[str, Any] = {}
    if values.get("name") is not None:
        changes["name"] = inputcheck.check_name(_text(values["name"], "name"),
                                                what="event trigger")
    if values.get("scope") is not None:
        if values["scope"] not in ("private", "public"):
            raise ClientError(f"Invalid scope '{values['scope']}'; use 'private' or 'public'")
        changes["scope"] = values["scope"]
    wf = _workflow(session, values.get("workflow_id") or trigger.workflow_id,
                   trigger.project_id)
    changes["workflow_id"] = wf.id
    if "workflow_params" in values:
        changes["workflow_params"] = _object(values["workflow_params"], "workflow_params")
    wf_input = (_object(values["workflow_input"], "workflow_input")
                if "workflow_input" in values else dict(trigger.workflow_input or {}))
    check_workflow_input(session, wf, wf_input)
    changes["workflow_input"] = wf_input
    if wf.id != trigger.workflow_id:
        _check_duplicate(session, exchange=trigger.exchange, topic=trigger.topic,
                         event=trigger.event, workflow_id=wf.id,
                         project_id=trigger.project_id, exclude=trigger.id)
    changes["updated_at"] = utcnow()
    db.update_row(session, trigger, **changes)
    session.flush()
    notify_changed(session)
    return trigger


def bindings(session: Session) -> set[tuple[str, str]]:
    """Every (exchange, topic) pair some event trigger listens to."""
    rows = session.execute(select(m.EventTrigger.exchange, m.EventTrigger.topic).distinct())
    return {(r[0], r[1]) for r in rows}


def matching_triggers(session: Session, event: Event, *,
                      auth_enabled: bool = False) -> list[m.EventTrigger]:
    """Triggers on the event's exchange, topic and type that may see it.

    With auth enabled, only triggers of the event's project (its context's
    ``project_id``) and public ones fire, as in Mistral.
    """
    stmt = select(m.EventTrigger).where(
        m.EventTrigger.exchange == event.exchange, m.EventTrigger.topic == event.topic,
        m.EventTrigger.event == event.event_type).order_by(m.EventTrigger.created_at)
    rows = list(session.scalars(stmt))
    if not auth_enabled:
        return rows
    project = event.context.get("project_id")
    return [t for t in rows if t.scope == "public" or t.project_id == project]


def run_description(trigger: m.EventTrigger | dict[str, Any]) -> str:
    """Mistral's execution description JSON of an event-triggered run."""
    t = trigger if isinstance(trigger, dict) else trigger.to_dict()
    return json.dumps({
        "description": f"Workflow execution created by event trigger '({t['id']})'.",
        "triggered_by": {"type": "event_trigger", "id": t["id"], "name": t["name"]},
    })


@dataclass(frozen=True)
class EventDefinition:
    """A conversion rule of Mistral's event definitions file: events whose type
    matches one of ``event_types`` (shell globs) get ``properties`` (expressions
    over the event) as their ``event_params`` instead of the default ones."""

    event_types: tuple[str, ...]
    properties: dict[str, Any]

    def matches(self, event_type: str) -> bool:
        """Whether this rule converts events of ``event_type``."""
        return any(fnmatch.fnmatchcase(event_type, p) for p in self.event_types)


def load_definitions(text: str, source: str = "event definitions") -> list[EventDefinition]:
    """Parse an event definitions YAML list (Mistral's ``event_definitions.yml``);
    a malformed file -> ClientError naming the entry. Later entries win."""
    import yaml

    try:
        data = yaml.safe_load(text) or []
    except yaml.YAMLError as exc:
        raise ClientError(f"Invalid YAML in {source}: {exc}") from None
    if not isinstance(data, list):
        raise ClientError(f"{source} must be a list of {{event_types, properties}} entries")
    rules: list[EventDefinition] = []
    for i, entry in enumerate(data):
        if not isinstance(entry, dict) or "event_types" not in entry \
                or not isinstance(entry.get("properties"), dict):
            raise ClientError(f"{source}: entry {i} needs 'event_types' and a 'properties' "
                              f"mapping")
        types = entry["event_types"]
        types = [types] if isinstance(types, str) else list(types)
        rules.append(EventDefinition(tuple(str(t) for t in types), dict(entry["properties"])))
    return list(reversed(rules))


def event_params(event: Event, definitions: Sequence[EventDefinition] = ()) -> dict[str, Any]:
    """``params.event_params``: the first matching definition's properties evaluated
    against the event, else the default ones (:meth:`Event.params`)."""
    from wfaas.expressions import evaluate_recursively

    for rule in definitions:
        if rule.matches(event.event_type):
            return dict(evaluate_recursively(rule.properties, event.data()))
    return event.params()


def run_input(trigger: m.EventTrigger | dict[str, Any], event: Event) -> dict[str, Any]:
    """The trigger's workflow input with its expressions evaluated against the event."""
    from wfaas.expressions import evaluate_recursively

    t = trigger if isinstance(trigger, dict) else trigger.to_dict()
    value = evaluate_recursively(dict(t.get("workflow_input") or {}), event.data())
    return dict(value)


def decode_notification(exchange: str, topic: str, body: Any,
                        routing_key: str | None = None) -> Event:
    """An oslo.messaging notification body (v2 envelope or v1 plain) as an Event.

    ``_context_<key>`` entries become ``context[key]``; the priority comes from
    the message or else from the routing key ``<topic>.<priority>``.
    """
    if isinstance(body, bytes | str):
        body = inputcheck.loads(body, field="notification")
    if isinstance(body, dict) and "oslo.message" in body:
        body = inputcheck.loads(body["oslo.message"], field="oslo.message")
    if not isinstance(body, dict):
        raise ClientError("A notification must be a JSON object")
    context = {k[len("_context_"):]: v for k, v in body.items() if k.startswith("_context_")}
    if isinstance(body.get("context"), dict) and not context:
        context = dict(body["context"])
    priority = body.get("priority")
    if not priority and routing_key and "." in routing_key:
        priority = routing_key.rsplit(".", 1)[1]
    return Event(exchange=exchange, topic=topic, event_type=str(body.get("event_type") or ""),
                 payload=body.get("payload"), publisher=body.get("publisher_id"),
                 timestamp=body.get("timestamp"), priority=str(priority or "info").lower(),
                 message_id=body.get("message_id"), context=context)
