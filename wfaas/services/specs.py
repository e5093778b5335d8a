"""Finding workflow definitions and their specs for executions.

An execution stores the definition text it started with (``spec`` column):
the workflow's own document, or the whole workbook for a workbook member, so
that later changes of the definition do not affect it.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Collection
from typing import Any

from sqlalchemy.orm import Session

from wfaas.db import api
from wfaas.db import models as m
from wfaas.exceptions import DSLError, NotFound
from wfaas.lang import parse_workbook, parse_workflows_cached
from wfaas.lang.specs import TaskSpec, WorkflowSpec


@functools.lru_cache(maxsize=256)
def _workbook_workflows(text: str) -> dict[str, WorkflowSpec]:
    wb = parse_workbook(text)
    return {name: with_workbook_names(spec, wb.name, wb.actions, wb.workflows)
            for name, spec in wb.workflows.items()}


def with_workbook_names(spec: WorkflowSpec, workbook: str, actions: Collection[str],
                        workflows: Collection[str]) -> WorkflowSpec:
    """Resolve the short member names a workbook workflow uses (Mistral's lookup order).

    Inside a workbook, ``action: shout`` or ``workflow: sub`` mean the workbook's own
    ``<workbook>.shout`` / ``<workbook>.sub`` when it has such a member, else the plain
    name: tasks naming a member by its short name are rewritten to the full name.
    A sub-workflow name computed by an expression is resolved when the task runs
    (:meth:`SpecResolver.subworkflow`); an action name computed by an expression is
    used as it evaluates.
    """
    tasks: dict[str, TaskSpec] = {}
    for name, task in spec.tasks.items():
        changes: dict[str, Any] = {}
        for attr, members in (("action", actions), ("workflow", workflows)):
            short = getattr(task, attr)
            if short and f"{workbook}.{short}" in members:
                changes[attr] = f"{workbook}.{short}"
        tasks[name] = dataclasses.replace(task, **changes) if changes else task
    if all(tasks[n] is t for n, t in spec.tasks.items()):
        return spec
    return dataclasses.replace(spec, tasks=tasks)


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
                                  namespace=wf.namespace, project_id=wf.project_id)
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
