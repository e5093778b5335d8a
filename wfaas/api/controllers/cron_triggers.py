"""``/v2/cron_triggers``: store triggers and their next execution time (croniter).

Validation and creation are :func:`wfaas.triggers.cron.create_cron_trigger`;
firing them is the scheduler's job. Without a pattern (only a first execution
time) the wire shows Mistral's never-matching pattern ``0 0 30 2 0``.
"""

from __future__ import annotations

from typing import Any

from wfaas.api.context import ApiRequest, json_field, str_field
from wfaas.api.controllers.common import (
    fields_arg,
    find_one,
    list_answer,
    owned,
    row_dict,
)
from wfaas.api.errors import BadRequest
from wfaas.api.resources import CRON_TRIGGER
from wfaas.api.routing import Param, route
from wfaas.db import api as db
from wfaas.db import models as m
from wfaas.db.types import utcnow
from wfaas.exceptions import NotAllowed

NEVER_PATTERN = "0 0 30 2 0"
FILTERS = ("name", "workflow_name", "workflow_id", "workflow_input", "workflow_params",
           "scope", "pattern", "remaining_executions", "first_execution_time",
           "next_execution_time", "project_id", "created_at", "updated_at")


def _not_found(identifier: str) -> str:
    return f"CronTrigger not found [name={identifier}]"


def _wire(row: dict[str, Any], view: str = "get", fields: list[str] | None = None
          ) -> dict[str, Any]:
    # Without a pattern Mistral shows its never-matching placeholder.
    return CRON_TRIGGER.to_wire({**row, "pattern": row.get("pattern") or NEVER_PATTERN}, view,
                                fields)


@route("POST", "/v2/cron_triggers", summary="Create a cron trigger", status=201, body="json",
       body_schema="CronTriggerIn", response="CronTrigger")
def create_cron_trigger(req: ApiRequest) -> dict[str, Any]:
    """Validate pattern, times and workflow input, then store the trigger."""
    from wfaas.triggers import cron

    body = req.json_body()
    identifier = str_field(body, "workflow_id") or str_field(body, "workflow_name")
    if not identifier:
        raise BadRequest("Field 'workflow_name' or 'workflow_id' is required")
    with req.runtime.session() as session:
        row = cron.create_cron_trigger(
            session, name=str_field(body, "name", required=True) or "",
            pattern=str_field(body, "pattern"),
            first_execution_time=str_field(body, "first_execution_time"),
            remaining_executions=body.get("remaining_executions"),
            workflow_identifier=identifier,
            namespace=str_field(body, "workflow_namespace", default="") or "",
            workflow_input=json_field(body, "workflow_input", default={}),
            workflow_params=json_field(body, "workflow_params", default={}),
            project_id=req.caller.project_id, now=utcnow(),
            scope=str_field(body, "scope", default="private") or "private",
            timezone=str_field(body, "timezone"))
        data = row_dict(row)
    _wake_scheduler(req)
    return _wire(data, "create")


def _wake_scheduler(req: ApiRequest) -> None:
    hook = getattr(req.runtime, "cron_triggers_changed", None)
    if callable(hook):
        hook()


@route("GET", "/v2/cron_triggers", summary="List cron triggers", response="CronTriggers",
       query=("marker", Param("limit", "integer"), "sort_keys", "sort_dirs", "fields",
              Param("all_projects", "boolean"), *FILTERS))
def list_cron_triggers(req: ApiRequest) -> dict[str, Any]:
    """Paginated, filtered cron triggers."""
    return list_answer(req, CRON_TRIGGER, m.CronTrigger, filterable=FILTERS,
                       extra_args=("all_projects",),
                       overrides=lambda r: {"pattern": r.get("pattern") or NEVER_PATTERN})


@route("GET", "/v2/cron_triggers/{identifier}", summary="Get a cron trigger by name or id",
       response="CronTrigger", query=("fields",))
def get_cron_trigger(req: ApiRequest, identifier: str) -> dict[str, Any]:
    """One cron trigger."""
    fields = fields_arg(req, CRON_TRIGGER)
    with req.runtime.session() as session:
        row = row_dict(find_one(session, req, m.CronTrigger, identifier,
                                not_found=lambda: _not_found(identifier)))
    return _wire(row, "get", fields)


@route("DELETE", "/v2/cron_triggers/{identifier}", summary="Delete a cron trigger", status=204)
def delete_cron_trigger(req: ApiRequest, identifier: str) -> None:
    """Delete a cron trigger."""
    with req.runtime.session() as session:
        row = find_one(session, req, m.CronTrigger, identifier,
                       not_found=lambda: _not_found(identifier))
        if not owned(req, row):
            raise NotAllowed(f"Can not delete a cron trigger of another project "
                             f"[name={row.name}]")
        db.delete_row(session, row)
        from wfaas.triggers.changes import notify_changed

        notify_changed(session)
    _wake_scheduler(req)
