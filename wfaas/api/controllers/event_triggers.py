"""``/v2/event_triggers``: start a workflow when a notification arrives.

CRUD as Mistral (PUT cannot change ``exchange``, ``topic``, ``event``), plus
``POST /v2/event_triggers/events`` to hand an event to the triggers directly
(the embedded mode without a broker, or webhooks): body ``{exchange, topic,
event, payload, context?, publisher?, message_id?}``, answer ``{"executions":
[...]}`` with one item per started workflow.
"""

from __future__ import annotations

from typing import Any

from wfaas.api.context import ApiRequest, str_field
from wfaas.api.controllers.common import fields_arg, find_one, list_answer, owned, row_dict
from wfaas.api.errors import BadRequest
from wfaas.api.openapi import REQUEST_BODIES
from wfaas.api.resources import RESOURCES, Resource, _f
from wfaas.api.routing import Param, route
from wfaas.db import api as db
from wfaas.db import models as m
from wfaas.exceptions import NotAllowed
from wfaas.triggers import events, trusts
from wfaas.triggers.changes import notify_changed
from wfaas.triggers.service import TriggerService

EVENT_TRIGGER = Resource("EventTrigger", "event_triggers", (
    _f("id"), _f("name"), _f("workflow_id"), _f("workflow_input", "json"),
    _f("workflow_params", "json"), _f("exchange"), _f("topic"), _f("event"), _f("scope"),
    _f("project_id"), _f("created_at", "time"), _f("updated_at", "time", omit_none=("create",)),
), "An event trigger starting a workflow when a notification arrives.")
RESOURCES.setdefault(EVENT_TRIGGER.name, EVENT_TRIGGER)

_JSON_OR_STRING = {"oneOf": [{"type": "object"}, {"type": "string"}],
                   "description": "A JSON object or its JSON-encoded string"}
REQUEST_BODIES.setdefault("EventTriggerIn", {
    "type": "object", "required": ["name", "workflow_id", "exchange", "topic", "event"],
    "properties": {"name": {"type": "string"}, "workflow_id": {"type": "string"},
                   "workflow_input": _JSON_OR_STRING, "workflow_params": _JSON_OR_STRING,
                   "exchange": {"type": "string"}, "topic": {"type": "string"},
                   "event": {"type": "string"},
                   "scope": {"type": "string", "enum": ["private", "public"]}}})
REQUEST_BODIES.setdefault("EventTriggerUpdate", {
    "type": "object", "properties": {
        "name": {"type": "string"}, "workflow_id": {"type": "string"},
        "workflow_input": _JSON_OR_STRING, "workflow_params": _JSON_OR_STRING,
        "scope": {"type": "string", "enum": ["private", "public"]}}})
REQUEST_BODIES.setdefault("EventIn", {
    "type": "object", "required": ["exchange", "topic", "event"], "properties": {
        "exchange": {"type": "string"}, "topic": {"type": "string"},
        "event": {"type": "string", "description": "The notification's event_type"},
        "payload": {}, "context": {"type": "object"}, "publisher": {"type": "string"},
        "message_id": {"type": "string", "description": "Same id twice starts runs once"}}})
REQUEST_BODIES.setdefault("StartedExecutions", {
    "type": "object", "properties": {"executions": {"type": "array",
                                                    "items": {"type": "object"}}}})

FILTERS = ("name", "workflow_id", "workflow_input", "workflow_params", "exchange", "topic",
           "event", "scope", "project_id", "created_at", "updated_at")


def _not_found(identifier: str) -> str:
    return f"Event trigger not found [id={identifier}]"


def _service(req: ApiRequest) -> TriggerService:
    service = getattr(req.runtime, "triggers", None)
    if isinstance(service, TriggerService):
        return service
    return TriggerService(req.runtime.session, req.runtime.start_workflow,
                          auth_enabled=req.caller.auth_enabled)


def _changed(req: ApiRequest) -> None:
    service = getattr(req.runtime, "triggers", None)
    if service is not None and hasattr(service, "wake"):
        service.wake()


@route("POST", "/v2/event_triggers", summary="Create an event trigger", status=201,
       body="json", body_schema="EventTriggerIn", response="EventTrigger")
def create_event_trigger(req: ApiRequest) -> dict[str, Any]:
    """Validate the workflow and its input, create the owner's trust, store the trigger."""
    body = req.json_body()
    caller = req.caller
    trust_id = trusts.create_trust(token=caller.auth_token, user_id=caller.user_id,
                                   project_id=caller.project_id,
                                   settings=trusts.TrustSettings.from_conf(req.conf),
                                   auth_enabled=caller.auth_enabled)
    try:
        with req.runtime.session() as session:
            row = events.create_event_trigger(
                session, name=body.get("name"), workflow_id=body.get("workflow_id"),
                exchange=body.get("exchange"), topic=body.get("topic"),
                event=body.get("event"), workflow_input=body.get("workflow_input"),
                workflow_params=body.get("workflow_params"),
                scope=str_field(body, "scope", default="private") or "private",
                project_id=caller.project_id, trust_id=trust_id)
            data = row_dict(row)
    except Exception:
        trusts.delete_trust(trust_id, trusts.TrustSettings.from_conf(req.conf))
        raise
    _changed(req)
    return EVENT_TRIGGER.to_wire(data, "create")


@route("GET", "/v2/event_triggers", summary="List event triggers", response="EventTriggers",
       query=("marker", Param("limit", "integer"), "sort_keys", "sort_dirs", "fields",
              Param("all_projects", "boolean"), *FILTERS))
def list_event_triggers(req: ApiRequest) -> dict[str, Any]:
    """Paginated, filtered event triggers."""
    return list_answer(req, EVENT_TRIGGER, m.EventTrigger, filterable=FILTERS,
                       extra_args=("all_projects",))


@route("GET", "/v2/event_triggers/{identifier}", summary="Get an event trigger by id",
       response="EventTrigger", query=("fields",))
def get_event_trigger(req: ApiRequest, identifier: str) -> dict[str, Any]:
    """One event trigger."""
    fields = fields_arg(req, EVENT_TRIGGER)
    with req.runtime.session() as session:
        row = row_dict(find_one(session, req, m.EventTrigger, identifier, by_name=False,
                                not_found=lambda: _not_found(identifier)))
    return EVENT_TRIGGER.to_wire(row, "get", fields)


@route("PUT", "/v2/event_triggers/{identifier}", summary="Update an event trigger",
       body="json", body_schema="EventTriggerUpdate", response="EventTrigger")
def update_event_trigger(req: ApiRequest, identifier: str) -> dict[str, Any]:
    """Change name, workflow, input, params or scope (not exchange/topic/event)."""
    body = req.json_body()
    with req.runtime.session() as session:
        row = find_one(session, req, m.EventTrigger, identifier, by_name=False,
                       not_found=lambda: _not_found(identifier))
        if not owned(req, row):
            raise NotAllowed(f"Can not update an event trigger of another project "
                             f"[id={identifier}]")
        values = {k: v for k, v in body.items() if v is not None}
        events.update_event_trigger(session, row, values)
        data = row_dict(row)
    _changed(req)
    return EVENT_TRIGGER.to_wire(data)


@route("DELETE", "/v2/event_triggers/{identifier}", summary="Delete an event trigger",
       status=204)
def delete_event_trigger(req: ApiRequest, identifier: str) -> None:
    """Delete an event trigger (and its trust)."""
    with req.runtime.session() as session:
        row = find_one(session, req, m.EventTrigger, identifier, by_name=False,
                       not_found=lambda: _not_found(identifier))
        if not owned(req, row):
            raise NotAllowed(f"Can not delete an event trigger of another project "
                             f"[id={identifier}]")
        trust_id = row.trust_id
        db.delete_row(session, row)
        notify_changed(session)
    trusts.delete_trust(trust_id, trusts.TrustSettings.from_conf(req.conf))
    _changed(req)


@route("POST", "/v2/event_triggers/events", summary="Deliver an event to the event triggers",
       body="json", body_schema="EventIn", response="StartedExecutions")
def post_event(req: ApiRequest) -> dict[str, Any]:
    """Start the workflows of the triggers matching (exchange, topic, event)."""
    body = req.json_body()
    names = ("exchange", "topic", "event")
    exchange, topic, event = (str_field(body, n, required=True) or "" for n in names)
    context = body.get("context") or {}
    if not isinstance(context, dict):
        raise BadRequest("Field 'context' must be a JSON object")
    caller = req.caller
    if caller.auth_enabled and not caller.is_admin:
        context = {**context, "project_id": caller.project_id, "user_id": caller.user_id}
    started = _service(req).post_event(
        exchange, topic, event, body.get("payload"), context=context,
        publisher=str_field(body, "publisher"), message_id=str_field(body, "message_id"))
    return {"executions": [{"id": e["id"], "workflow_id": e.get("workflow_id"),
                            "workflow_name": e.get("workflow_name"), "state": e.get("state"),
                            "trigger_id": e["trigger_id"]} for e in started]}
