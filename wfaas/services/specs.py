"""Finding workflow definitions and their specs for executions.

An execution stores the definition text it started with (``spec`` column):
the workflow's own document, or the whole workbook for a workbook member, so
that later changes of the definition do not affect it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from wfaas.db import api
from wfaas.db import models as m
from wfaas.exceptions import NotFound
from wfaas.lang.execution_spec import spec_from_text, with_workbook_names
from wfaas.lang.specs import WorkflowSpec

__all__ = ["SpecResolver", "spec_from_text", "with_workbook_names"]


class SpecResolver:
    """Resolves workflow names to definitions and parses execution specs."""

    def definition(self, session: Session, identifier: str, *, namespace: str = "",
                   project_id: str | None = None) -> m.WorkflowDefinition:
        """A workflow definition by id or name (namespace falls back to '')."""
        return api.get_workflow_definition(session, identifier, namespace=namespace,
                                           project_id=project_id)

    def execution_text(self, session: Session, wf: m.WorkflowDefinition) -> str:
        """The document an execution of ``wf`` keeps (the workbook for members)."""
        return api.execution_text(session, wf)

    def spec_of_execution(self, row: m.WorkflowExecution) -> WorkflowSpec:
        """The spec an execution started with."""
        return spec_from_text(row.spec, row.workflow_name)

    def subworkflow(self, session: Session, name: str, *, namespace: str,
                    parent_workflow: str, project_id: str | None = None) -> Any:
        """Resolve a sub-workflow name: the parent's workbook first, then as is. By name,
        the brief columns (``id``, ``name``, ``namespace``, ``definition``,
        ``workbook_name``, ``project_id``) read with prebuilt statements; by id, the
        definition. NotFound when ``project_id`` sees no such workflow."""
        if "." in parent_workflow and "." not in name:
            prefix = parent_workflow.rsplit(".", 1)[0]
            found = api.find_workflow_brief(session, f"{prefix}.{name}",
                                            namespace=namespace, project_id=project_id)
            if found is not None:
                return found
        if not api.looks_like_id(name):
            found = api.find_workflow_brief(session, name, namespace=namespace,
                                            project_id=project_id)
            if found is None:
                where = f", namespace={namespace}" if namespace else ""
                raise NotFound(f"Workflow definition not found [name={name}{where}]")
            return found
        return self.definition(session, name, namespace=namespace, project_id=project_id)
