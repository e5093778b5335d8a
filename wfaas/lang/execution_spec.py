"""The spec of one workflow inside the document an execution keeps.

An execution stores the definition text it started with: the workflow's own
document, or the whole workbook for a workbook member. :func:`spec_from_text`
finds the workflow's spec in either, with the workbook's short member names
resolved (:func:`with_workbook_names`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Collection
from typing import Any

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
    (``wfaas.services.specs.SpecResolver.subworkflow``); an action name computed by an
    expression is used as it evaluates.
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
