"""The ``spec`` field of ``task()`` / ``execution()``: the definition as Mistral stores it.

Mistral keeps the parsed definition of a workflow (and of each task) as a dict: the YAML
mapping as written plus ``name`` and ``version`` (and the workflow ``type`` in a task).
The pure engine rebuilds it from the workflow's own definition text, once per text.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from wfaas.exceptions import WfaasError
from wfaas.lang.specs import WorkflowSpec
from wfaas.lang.yamlload import load


@functools.lru_cache(maxsize=64)
def _parsed(definition: str, name: str) -> dict[str, Any]:
    try:
        data = load(definition)[0].data
    except WfaasError:
        return {}
    raw = data.get(name) if isinstance(data, dict) else None
    if not isinstance(raw, dict):
        return {}
    return {**raw, "name": name, "version": "2.0"}


def workflow_spec_dict(spec: WorkflowSpec | None) -> dict[str, Any]:
    """The workflow's spec dict (a fresh copy; empty when the text is unknown)."""
    if spec is None or not spec.definition:
        return {}
    return copy.deepcopy(_parsed(spec.definition, spec.name.rsplit(".", 1)[-1]))


def task_spec_dict(spec: WorkflowSpec | None, task_name: str) -> dict[str, Any]:
    """A task's spec dict: its mapping plus ``name``, ``version`` and ``type``."""
    if spec is None or not spec.definition:
        return {}
    wf = _parsed(spec.definition, spec.name.rsplit(".", 1)[-1])
    raw = (wf.get("tasks") or {}).get(task_name)
    if not isinstance(raw, dict):
        raw = {}
    return {**copy.deepcopy(raw), "name": task_name, "version": "2.0",
            "type": wf.get("type", "direct")}
