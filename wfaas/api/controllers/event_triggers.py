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
from wfaas.api.controllers.common import fields_arg, list_answer, list_args
from wfaas.api.errors import BadRequest
from wfaas.api.openapi import REQUEST_BODIES
from wfaas.api.resources import RESOURCES, Resource, _f
from wfaas.api.routing import Param, route

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


@route("POST", "/v2/event_triggers", summary="Create an event trigger", status=201,
       body="json", body_schema="EventTriggerIn", response="EventTrigger")
def create_event_trigger(req: ApiRequest) -> dict[str, Any]:
    """Validate the workflow and its input, create the owner's trust, store the trigger."""
    body = req.json_body()
    scope = str_field(body, "scope", default="private") or "private"
    return EVENT_TRIGGER.to_wire(req.services.event_triggers.create(req.ctx, body, scope),
                                 "create")


@route("GET", "/v2/event_triggers", summary="List event triggers", response="EventTriggers",
       query=("marker", Param("limit", "integer"), "sort_keys", "sort_dirs", "fields",
              Param("all_projects", "boolean"), *FILTERS))
def list_event_triggers(req: ApiRequest) -> dict[str, Any]:
    """Paginated, filtered event triggers."""
    fields = fields_arg(req, EVENT_TRIGGER)
    page = req.services.event_triggers.list_page(req.ctx, list_args(req, ("all_projects",)),
                                            FILTERS)
    return list_answer(req, EVENT_TRIGGER, page, extra_args=("all_projects",), fields=fields)


@route("GET", "/v2/event_triggers/{identifier}", summary="Get an event trigger by id",
       response="EventTrigger", query=("fields",))
def get_event_trigger(req: ApiRequest, identifier: str) -> dict[str, Any]:
    """One event trigger."""
    fields = fields_arg(req, EVENT_TRIGGER)
    return EVENT_TRIGGER.to_wire(req.services.event_triggers.get(req.ctx, identifier), "get",
                                 fields)


@route("PUT", "/v2/event_triggers/{identifier}", summary="Update an event trigger",
       body="json", body_schema="EventTriggerUpdate", response="EventTrigger")
def update_event_trigger(req: ApiRequest, identifier: str) -> dict[str, Any]:
    """Change name, workflow, input, params or scope (not exchange/topic/event)."""
    values = {k: v for k, v in req.json_body().items() if v is not None}
    return EVENT_TRIGGER.to_wire(req.services.event_triggers.update(req.ctx, identifier,
                                                                    values))


@route("DELETE", "/v2/event_triggers/{identifier}", summary="Delete an event trigger",
       status=204)
def delete_event_trigger(req: ApiRequest, identifier: str) -> None:
    """Delete an event trigger (and its trust)."""
    req.services.event_triggers.delete(req.ctx, identifier)


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
    started = req.services.event_triggers.post_event(
        req.ctx, exchange, topic, event, body.get("payload"), context=context,
        publisher=str_field(body, "publisher"), message_id=str_field(body, "message_id"))
    return {"executions": [{"id": e["id"], "workflow_id": e.get("workflow_id"),
                            "workflow_name": e.get("workflow_name"), "state": e.get("state"),
                            "trigger_id": e["trigger_id"]} for e in started]}
