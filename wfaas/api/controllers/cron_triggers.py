"""``/v2/cron_triggers``: store triggers and their next execution time (croniter).

Validation and creation are :func:`wfaas.triggers.cron.create_cron_trigger`;
firing them is the scheduler's job. Without a pattern (only a first execution
time) the wire shows Mistral's never-matching pattern ``0 0 30 2 0``.
"""

from __future__ import annotations

from typing import Any

from wfaas.api.context import ApiRequest, json_field, str_field
from wfaas.api.controllers.common import fields_arg, list_answer, list_args
from wfaas.api.errors import BadRequest
from wfaas.api.resources import CRON_TRIGGER
from wfaas.api.routing import Param, route

NEVER_PATTERN = "0 0 30 2 0"
FILTERS = ("name", "workflow_name", "workflow_id", "workflow_input", "workflow_params",
           "scope", "pattern", "remaining_executions", "first_execution_time",
           "next_execution_time", "project_id", "created_at", "updated_at")


def _wire(row: dict[str, Any], view: str = "get", fields: list[str] | None = None
          ) -> dict[str, Any]:
    # Without a pattern Mistral shows its never-matching placeholder.
    return CRON_TRIGGER.to_wire({**row, "pattern": row.get("pattern") or NEVER_PATTERN}, view,
                                fields)


@route("POST", "/v2/cron_triggers", summary="Create a cron trigger", status=201, body="json",
       body_schema="CronTriggerIn", response="CronTrigger")
def create_cron_trigger(req: ApiRequest) -> dict[str, Any]:
    """Validate pattern, times and workflow input, then store the trigger."""
    body = req.json_body()
    identifier = str_field(body, "workflow_id") or str_field(body, "workflow_name")
    if not identifier:
        raise BadRequest("Field 'workflow_name' or 'workflow_id' is required")
    row = req.services.cron_triggers.create(
        req.ctx, workflow=identifier,
        namespace=str_field(body, "workflow_namespace", default="") or "",
        name=str_field(body, "name", required=True) or "",
        pattern=str_field(body, "pattern"),
        first_execution_time=str_field(body, "first_execution_time"),
        remaining_executions=body.get("remaining_executions"),
        workflow_input=json_field(body, "workflow_input", default={}),
        workflow_params=json_field(body, "workflow_params", default={}),
        scope=str_field(body, "scope", default="private") or "private",
        timezone=str_field(body, "timezone"))
    return _wire(row, "create")


@route("GET", "/v2/cron_triggers", summary="List cron triggers", response="CronTriggers",
       query=("marker", Param("limit", "integer"), "sort_keys", "sort_dirs", "fields",
              Param("all_projects", "boolean"), *FILTERS))
def list_cron_triggers(req: ApiRequest) -> dict[str, Any]:
    """Paginated, filtered cron triggers."""
    fields = fields_arg(req, CRON_TRIGGER)
    page = req.services.cron_triggers.list_page(req.ctx, list_args(req, ("all_projects",)), FILTERS)
    return list_answer(req, CRON_TRIGGER, page, extra_args=("all_projects",), fields=fields,
                       overrides=lambda r: {"pattern": r.get("pattern") or NEVER_PATTERN})


@route("GET", "/v2/cron_triggers/{identifier}", summary="Get a cron trigger by name or id",
       response="CronTrigger", query=("fields",))
def get_cron_trigger(req: ApiRequest, identifier: str) -> dict[str, Any]:
    """One cron trigger."""
    fields = fields_arg(req, CRON_TRIGGER)
    return _wire(req.services.cron_triggers.get(req.ctx, identifier), "get", fields)


@route("DELETE", "/v2/cron_triggers/{identifier}", summary="Delete a cron trigger", status=204)
def delete_cron_trigger(req: ApiRequest, identifier: str) -> None:
    """Delete a cron trigger."""
    req.services.cron_triggers.delete(req.ctx, identifier)
