"""Which rows a project may see: the one scoping rule, as SQL conditions.

Every lookup and list the API makes goes through :func:`visible` (the typed
service layer, ``wfaas.services.api``, decides *which* project to pass; this
module decides *what* that project sees):

- definitions and other rows with a ``scope`` column (workflows, workbooks, ad-hoc
  actions, environments, cron and event triggers): the project's own rows plus
  ``public`` ones; workflows also when shared with the project and accepted
  (:class:`~wfaas.db.models.ResourceMember`);
- executions: the project's own rows; tasks and action executions belong to the
  project through their workflow execution (ad-hoc action runs by their own column);
- ``project_id`` None: every row (authentication off, or an admin asking for all
  projects).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select

from wfaas.db import models as m

#: resource_type of a shared workflow in ``resource_members`` (Mistral's word)
WORKFLOW = "workflow"
ACCEPTED = "accepted"


def shared_ids(project_id: str, resource_type: str = WORKFLOW) -> Any:
    """SELECT of the ids of resources shared with ``project_id`` and accepted by it."""
    members = m.ResourceMember
    return select(members.resource_id).where(members.member_id == project_id,
                                             members.resource_type == resource_type,
                                             members.status == ACCEPTED)


def visible(model: Any, project_id: str | None) -> list[Any]:
    """Conditions limiting ``model`` rows to those ``project_id`` may see (None: all)."""
    if project_id is None:
        return []
    if model is m.TaskExecution or model is m.ActionExecution:
        theirs = model.workflow_execution_id.in_(
            select(m.WorkflowExecution.id).where(m.WorkflowExecution.project_id == project_id))
        if model is m.TaskExecution:
            return [theirs]
        return [or_(and_(model.workflow_execution_id.is_(None), model.project_id == project_id),
                    theirs)]
    if model is m.ResourceMember:  # a share is seen by its owner and by its member
        return [or_(model.project_id == project_id, model.member_id == project_id)]
    own = model.project_id == project_id
    if not hasattr(model, "scope"):
        return [own]
    if model is m.WorkflowDefinition:
        return [or_(own, model.scope == "public", model.id.in_(shared_ids(project_id)))]
    return [or_(own, model.scope == "public")]

