"""Finding workflow definitions and their specs for executions.

An execution stores the definition text it started with (``spec`` column):
the workflow's own document, or the whole workbook for a workbook member, so
that later changes of the definition do not affect it.
"""

from __future__ import annotations

import functools

from sqlalchemy.orm import Session

from wfaas.db import api
from wfaas.db import models as m
from wfaas.exceptions import DSLError, NotFound
from wfaas.lang import parse_workbook, parse_workflows_cached
from wfaas.lang.specs import WorkflowSpec


@functools.lru_cache(maxsize=256)
def _workbook_workflows(text: str) -> dict[str, WorkflowSpec]:
    return dict(parse_workbook(text).workflows)


def spec_from_text(text: str, workflow_name: str) -> WorkflowSpec:
    """The spec of ``workflow_name`` in a workflow document or a workbook."""
    try:
        specs = parse_workflows_cached(text)
    except DSLError:
        specs = []
    for spec in specs:
        if spec.name == workflow_name:
            return spec
    if len(specs) == 1 and "." not in workflow_name:
        return specs[0]
    try:
        members = _workbook_workflows(text)
    except DSLError as exc:
        raise NotFound(f"Workflow {workflow_name} not found in its definition: {exc}") from exc
    if workflow_name in members:
        return members[workflow_name]
    raise NotFound(f"Workflow {workflow_name} not found in its definition")


class SpecResolver:
    """Resolves workflow names to definitions and parses execution specs."""

    def definition(self, session: Session, identifier: str, *, namespace: str = "",
                   project_id: str | None = None) -> m.WorkflowDefinition:
        """A workflow definition by id or name (namespace falls back to '')."""
        return api.get_workflow_definition(session, identifier, namespace=namespace,
                                           project_id=project_id)

    def execution_text(self, session: Session, wf: m.WorkflowDefinition) -> str:
        """The document an execution of ``wf`` keeps (the workbook for members)."""
        if wf.workbook_name:
            wb = api.find_by_name(session, m.Workbook, wf.workbook_name,
                                  namespace=wf.namespace)
            if wb is not None:
                return wb.definition
        return wf.definition

    def spec_of_execution(self, row: m.WorkflowExecution) -> WorkflowSpec:
        """The spec an execution started with."""
        return spec_from_text(row.spec, row.workflow_name)

    def subworkflow(self, session: Session, name: str, *, namespace: str,
                    parent_workflow: str, project_id: str | None = None
                    ) -> m.WorkflowDefinition:
        """Resolve a sub-workflow name: the parent's workbook first, then as is."""
        if "." in parent_workflow and "." not in name:
            prefix = parent_workflow.rsplit(".", 1)[0]
            found = api.find_by_name(session, m.WorkflowDefinition, f"{prefix}.{name}",
                                     namespace=namespace, project_id=project_id)
            if found is not None:
                return found
        return self.definition(session, name, namespace=namespace, project_id=project_id)
