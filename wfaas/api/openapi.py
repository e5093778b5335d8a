"""The OpenAPI 3 document of the REST API, generated from the route table and resources.

Served at ``GET /v2/openapi.json``. Paths and operations come from
:data:`wfaas.api.routing.ROUTES`, response schemas from
:mod:`wfaas.api.resources`, request bodies from :data:`REQUEST_BODIES`; a test
checks that every served route is documented and every documented one served.
"""

from __future__ import annotations

from typing import Any

from wfaas.api.resources import RESOURCES, Field
from wfaas.api.routing import ROUTES, Route

_KIND_SCHEMAS: dict[str, dict[str, Any]] = {
    "string": {"type": "string", "nullable": True},
    "json": {"type": "string", "nullable": True, "description": "JSON-encoded value"},
    "time": {"type": "string", "nullable": True, "example": "2026-11-27 01:02:03"},
    "bool": {"type": "boolean", "nullable": True},
    "int": {"type": "integer", "nullable": True},
    "tags": {"type": "array", "items": {"type": "string"}},
    "object": {"type": "object", "nullable": True},
}

_JSON_OR_STRING = {"oneOf": [{"type": "object"}, {"type": "string"}],
                   "description": "A JSON object or its JSON-encoded string"}

REQUEST_BODIES: dict[str, dict[str, Any]] = {
    "EnvironmentIn": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"}, "description": {"type": "string"},
        "variables": _JSON_OR_STRING, "scope": {"type": "string", "enum": ["private", "public"]}}},
    "ExecutionIn": {"type": "object", "properties": {
        "workflow_id": {"type": "string"}, "workflow_name": {"type": "string"},
        "workflow_namespace": {"type": "string"}, "input": _JSON_OR_STRING,
        "params": _JSON_OR_STRING, "description": {"type": "string"},
        "id": {"type": "string", "description": "Client id (idempotent create)"},
        "source_execution_id": {"type": "string"}}},
    "ExecutionUpdate": {"type": "object", "properties": {
        "state": {"type": "string",
                  "enum": ["PAUSED", "RUNNING", "SUCCESS", "ERROR", "CANCELLED"]},
        "state_info": {"type": "string"}, "description": {"type": "string"},
        "params": _JSON_OR_STRING}},
    "TaskUpdate": {"type": "object", "required": ["state"], "properties": {
        "state": {"type": "string", "enum": ["RUNNING", "SKIPPED"]},
        "reset": {"type": "boolean"}, "env": _JSON_OR_STRING, "name": {"type": "string"},
        "workflow_name": {"type": "string"}}},
    "ActionExecutionIn": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"}, "input": _JSON_OR_STRING, "params": _JSON_OR_STRING,
        "description": {"type": "string"}, "workflow_namespace": {"type": "string"}}},
    "ActionExecutionUpdate": {"type": "object", "required": ["state"], "properties": {
        "state": {"type": "string",
                  "enum": ["SUCCESS", "ERROR", "CANCELLED", "PAUSED", "RUNNING"]},
        "output": {}}},
    "CronTriggerIn": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"}, "workflow_name": {"type": "string"},
        "workflow_id": {"type": "string"}, "workflow_namespace": {"type": "string"},
        "workflow_input": _JSON_OR_STRING, "workflow_params": _JSON_OR_STRING,
        "pattern": {"type": "string"}, "first_execution_time": {"type": "string"},
        "remaining_executions": {"type": "integer", "minimum": 1},
        "timezone": {"type": "string", "description": "IANA time zone of the pattern"},
        "scope": {"type": "string", "enum": ["private", "public"]}}},
}

_OTHER_SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {"type": "object", "required": ["faultstring"], "properties": {
        "faultcode": {"type": "string"}, "faultstring": {"type": "string"},
        "debuginfo": {"nullable": True},
        "problems": {"type": "array", "items": {"type": "object"}}}},
    "Versions": {"type": "object", "properties": {"versions": {"type": "array",
                                                               "items": {"type": "object"}}}},
    "V2Root": {"type": "object", "properties": {"uri": {"type": "string"}}},
    "Health": {"type": "object", "properties": {"status": {"type": "string"}}},
    "OpenAPI": {"type": "object"},
    "Validation": {"type": "object", "required": ["valid"], "properties": {
        "valid": {"type": "boolean"}, "error": {"type": "string", "nullable": True},
        "problems": {"type": "array", "items": {"type": "object"}}}},
    "ExecutionReport": {"type": "object", "properties": {
        "statistics": {"type": "object"}, "root_workflow_execution": {"type": "object"}}},
}


def _field_schema(f: Field) -> dict[str, Any]:
    schema = dict(_KIND_SCHEMAS.get(f.kind, {}))
    if f.description:
        schema["description"] = f.description
    return schema


def component_schemas() -> dict[str, Any]:
    """Every schema: resources, their lists, request bodies and the rest."""
    schemas: dict[str, Any] = {}
    for res in RESOURCES.values():
        schemas[res.name] = {"type": "object", "description": res.description,
                             "properties": {f.name: _field_schema(f) for f in res.fields}}
        list_name = res.name + "s"
        schemas[list_name] = {"type": "object", "properties": {
            res.collection: {"type": "array", "items": _ref(res.name)},
            "next": {"type": "string", "description": "URL of the next page"}}}
    schemas.update(REQUEST_BODIES)
    schemas.update(_OTHER_SCHEMAS)
    return schemas


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _operation(r: Route) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": seg[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
        for seg in r.segments if seg.startswith("{")]
    params += [{"name": p.name, "in": "query", "required": False,
                "schema": {"type": p.type}, **({"description": p.description}
                                               if p.description else {})} for p in r.query]
    ok: dict[str, Any] = {"description": r.summary}
    if r.status != 204 and r.response:
        ok["content"] = {"application/json": {"schema": _ref(r.response)}}
    error = {"description": "Error", "content": {"application/json": {"schema": _ref("Error")}}}
    op: dict[str, Any] = {
        "operationId": r.handler.__name__, "summary": r.summary,
        "tags": [r.segments[1] if len(r.segments) > 1 else "root"],
        "parameters": params,
        "responses": {str(r.status): ok, "400": error, "404": error, "default": error},
    }
    if r.handler.__doc__:
        op["description"] = " ".join(r.handler.__doc__.split())
    if r.body == "text":
        op["requestBody"] = {"required": True, "content": {
            "text/plain": {"schema": {"type": "string", "description": "YAML document"}}}}
    elif r.body == "json":
        schema = _ref(r.body_schema) if r.body_schema else {"type": "object"}
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    return op


def build_document(server_url: str = "") -> dict[str, Any]:
    """The OpenAPI 3.0 document of every route in :data:`ROUTES`."""
    paths: dict[str, dict[str, Any]] = {}
    for r in ROUTES:
        paths.setdefault(r.path, {})[r.method.lower()] = _operation(r)
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "wfaas REST API v2", "version": "2.0",
                 "description": "Workflow as a service, wire-compatible with OpenStack "
                                "Mistral's REST API v2."},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": component_schemas()},
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc


def documented_operations(doc: dict[str, Any]) -> set[tuple[str, str]]:
    """``(METHOD, path)`` of every operation in ``doc``."""
    return {(method.upper(), path) for path, ops in doc.get("paths", {}).items()
            for method in ops}
