"""Resource managers of the wfaas client, one class per REST v2 collection.

Every method returns plain dicts shaped like the server's resources, with the
fields that travel as JSON-encoded strings (execution ``input``/``output``/
``params``, task ``result``/``published``, environment ``variables``...)
decoded into Python values, so ``-f json`` prints real objects.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from wfaas.client.http import HTTPClient

Resource = dict[str, Any]
Rows = list[Resource]


def decode_json_fields(row: Resource, fields: tuple[str, ...]) -> Resource:
    """``row`` with each of ``fields`` that holds a JSON string replaced by its value."""
    out = dict(row)
    for name in fields:
        value = out.get(name)
        if isinstance(value, str) and value:
            try:
                out[name] = json.loads(value)
            except ValueError:
                pass
    return out


def _q(identifier: str) -> str:
    return quote(str(identifier), safe="")


def list_params(*, limit: int | None = None, marker: str | None = None,
                sort_keys: str | None = None, sort_dirs: str | None = None,
                fields: list[str] | None = None, **filters: Any) -> dict[str, Any]:
    """The query of a list call: pagination, sorting, field selection and filters."""
    params: dict[str, Any] = {"limit": limit, "marker": marker, "sort_keys": sort_keys,
                              "sort_dirs": sort_dirs}
    if fields:
        params["fields"] = ",".join(fields)
    for key, value in filters.items():
        if value is None:
            continue
        params[key] = ",".join(map(str, value)) if isinstance(value, list | tuple) else value
    return params


class Manager:
    """Common list/get/delete over one collection (``path``, list ``key``)."""

    path = ""
    key = ""
    json_fields: tuple[str, ...] = ()

    def __init__(self, http: HTTPClient) -> None:
        self.http = http

    def _decode(self, row: Any) -> Resource:
        return decode_json_fields(row or {}, self.json_fields)

    def _rows(self, path: str, key: str, **query: Any) -> Rows:
        return [self._decode(r) for r in self.http.list(path, key, list_params(**query))]

    def list(self, **query: Any) -> Rows:
        """Every row (or one page with ``limit``); keyword filters like ``state="eq:ERROR"``."""
        return self._rows(self.path, self.key, **query)

    def get(self, identifier: str, **params: Any) -> Resource:
        """One row by id (or name, where the server accepts it)."""
        return self._decode(self.http.get(f"{self.path}/{_q(identifier)}", **params))

    def delete(self, identifier: str, **params: Any) -> None:
        """Delete one row."""
        self.http.delete(f"{self.path}/{_q(identifier)}", **params)


class DefinitionManager(Manager):
    """Collections created from YAML text: workbooks, workflows, actions."""

    def _upload(self, method: str, definition: str, namespace: str, scope: str | None,
                path: str | None = None) -> Any:
        params = {"namespace": namespace or None, "scope": scope}
        return self.http.request(method, path or self.path, params=params, text=definition)

    def validate(self, definition: str) -> Resource:
        """``{"valid": bool, "error": str | None}`` (the server never raises for bad DSL)."""
        return dict(self.http.post(f"{self.path}/validate", text=definition) or {})

    def get(self, identifier: str, namespace: str = "", **params: Any) -> Resource:
        """One definition by name or id (``namespace`` for same-named ones)."""
        return super().get(identifier, namespace=namespace or None, **params)

    def delete(self, identifier: str, namespace: str = "", **params: Any) -> None:
        """Delete a definition by name or id."""
        super().delete(identifier, namespace=namespace or None, **params)


class WorkbookManager(DefinitionManager):
    """``/v2/workbooks``."""

    path, key = "workbooks", "workbooks"

    def create(self, definition: str, namespace: str = "", scope: str | None = None) -> Resource:
        """Create a workbook (and its workflows/actions) from YAML."""
        return self._decode(self._upload("POST", definition, namespace, scope))

    def update(self, definition: str, namespace: str = "", scope: str | None = None) -> Resource:
        """Replace a workbook by the name in its YAML."""
        return self._decode(self._upload("PUT", definition, namespace, scope))


class WorkflowManager(DefinitionManager):
    """``/v2/workflows``."""

    path, key = "workflows", "workflows"
    json_fields = ("interface",)

    def create(self, definition: str, namespace: str = "",
               scope: str | None = None) -> Rows:
        """Create every workflow of a YAML document."""
        body = self._upload("POST", definition, namespace, scope) or {}
        return [self._decode(r) for r in body.get("workflows", [])]

    def update(self, definition: str, namespace: str = "", scope: str | None = None,
               id: str | None = None) -> Rows:
        """Update workflows by name (or the single one with UUID ``id``)."""
        path = f"{self.path}/{_q(id)}" if id else None
        body = self._upload("PUT", definition, namespace, scope, path) or {}
        rows = body.get("workflows", [body] if "name" in body else [])
        return [self._decode(r) for r in rows]


class ActionManager(DefinitionManager):
    """``/v2/actions`` (system and ad-hoc actions)."""

    path, key = "actions", "actions"
    json_fields = ("params_schema",)

    def create(self, definition: str, namespace: str = "",
               scope: str | None = None) -> Rows:
        """Create the ad-hoc actions of a YAML document."""
        body = self._upload("POST", definition, namespace, scope) or {}
        return [self._decode(r) for r in body.get("actions", [])]

    def update(self, definition: str, namespace: str = "",
               scope: str | None = None) -> Rows:
        """Update ad-hoc actions by name."""
        body = self._upload("PUT", definition, namespace, scope) or {}
        return [self._decode(r) for r in body.get("actions", [])]


class ExecutionManager(Manager):
    """``/v2/executions``."""

    path, key = "executions", "executions"
    json_fields = ("input", "output", "params", "published_global")

    def create(self, workflow: str, *, namespace: str = "", input: dict[str, Any] | None = None,
               params: dict[str, Any] | None = None, description: str = "",
               source_execution_id: str | None = None, id: str | None = None) -> Resource:
        """Start ``workflow`` (a name or an id) with ``input``."""
        body: dict[str, Any] = {"description": description}
        if workflow:
            is_id = len(workflow) == 36 and workflow.count("-") == 4
            body["workflow_id" if is_id else "workflow_name"] = workflow
        if namespace:
            body["workflow_namespace"] = namespace
        if input is not None:
            body["input"] = json.dumps(input)
        if params:
            body["params"] = json.dumps(params)
        if source_execution_id:
            body["source_execution_id"] = source_execution_id
        if id:
            body["id"] = id
        return self._decode(self.http.post(self.path, body))

    def update(self, id: str, *, state: str | None = None, state_info: str | None = None,
               description: str | None = None, env: dict[str, Any] | None = None) -> Resource:
        """Change state (pause/resume/stop), description or env of an execution."""
        body: dict[str, Any] = {}
        if state:
            body["state"] = state
        if state_info is not None:
            body["state_info"] = state_info
        if description is not None:
            body["description"] = description
        if env:
            body["params"] = json.dumps({"env": env})
        return self._decode(self.http.put(f"{self.path}/{_q(id)}", body))

    def pause(self, id: str) -> Resource:
        """Pause a running execution."""
        return self.update(id, state="PAUSED")

    def resume(self, id: str, env: dict[str, Any] | None = None) -> Resource:
        """Resume a paused execution (``env`` is merged into its environment)."""
        return self.update(id, state="RUNNING", env=env)

    def cancel(self, id: str, message: str | None = None) -> Resource:
        """Cancel an execution (and its sub-workflows)."""
        return self.update(id, state="CANCELLED", state_info=message)

    def delete(self, identifier: str, force: bool = False, **params: Any) -> None:
        """Delete an execution (``force`` also deletes a running one)."""
        super().delete(identifier, force="true" if force else None, **params)

    def tasks(self, id: str, **query: Any) -> Rows:
        """The task executions of one execution."""
        return TaskManager(self.http)._rows(f"{self.path}/{_q(id)}/tasks", "tasks", **query)

    def report(self, id: str, *, errors_only: bool = True, max_depth: int = -1,
               statistics_only: bool = False) -> Resource:
        """The execution report: statistics and the tree of tasks and sub-workflows."""
        return dict(self.http.get(
            f"{self.path}/{_q(id)}/report", errors_only=str(errors_only).lower(),
            max_depth=max_depth, statistics_only=str(statistics_only).lower()) or {})

    def sub_executions(self, id: str, *, errors_only: bool = False,
                       max_depth: int = -1) -> Rows:
        """Every nested sub-workflow execution of ``id``."""
        body = self.http.get(f"{self.path}/{_q(id)}/executions",
                             errors_only=str(errors_only).lower(), max_depth=max_depth) or {}
        return [self._decode(r) for r in body.get("executions", [])]


class TaskManager(Manager):
    """``/v2/tasks``."""

    path, key = "tasks", "tasks"
    json_fields = ("runtime_context", "result", "published", "published_global", "env")

    def list(self, workflow_execution_id: str | None = None, **query: Any) -> Rows:
        """Tasks, of one execution when ``workflow_execution_id`` is given."""
        if workflow_execution_id:
            return self._rows(f"executions/{_q(workflow_execution_id)}/tasks", "tasks", **query)
        return super().list(**query)

    def rerun(self, id: str, reset: bool = True, env: dict[str, Any] | None = None) -> Resource:
        """Rerun a failed task (``reset=False``: only failed with-items iterations)."""
        body: dict[str, Any] = {"state": "RUNNING", "reset": reset}
        if env:
            body["env"] = json.dumps(env)
        return self._decode(self.http.put(f"{self.path}/{_q(id)}", body))

    def skip(self, id: str) -> Resource:
        """Skip a failed task: the workflow goes on as if it had succeeded."""
        return self._decode(self.http.put(f"{self.path}/{_q(id)}", {"state": "SKIPPED"}))

    def action_executions(self, id: str) -> Rows:
        """The action executions of one task (one per with-items iteration)."""
        body = self.http.get(f"{self.path}/{_q(id)}/action_executions") or {}
        return [ActionExecutionManager(self.http)._decode(r)
                for r in body.get("action_executions", [])]

    def workflow_executions(self, id: str) -> Rows:
        """The sub-workflow executions started by one task."""
        body = self.http.get(f"{self.path}/{_q(id)}/workflow_executions") or {}
        return [ExecutionManager(self.http)._decode(r) for r in body.get("executions", [])]


class ActionExecutionManager(Manager):
    """``/v2/action_executions``."""

    path, key = "action_executions", "action_executions"
    json_fields = ("input", "output", "params")

    def list(self, task_execution_id: str | None = None, **query: Any) -> Rows:
        """Action executions, of one task when ``task_execution_id`` is given."""
        if task_execution_id:
            return self._rows(f"tasks/{_q(task_execution_id)}/action_executions",
                              "action_executions", **query)
        return super().list(**query)

    def run(self, name: str, input: dict[str, Any] | None = None, *, namespace: str = "",
            save_result: bool = False, run_sync: bool = False, target: str | None = None,
            description: str = "", timeout: float | None = None) -> Resource:
        """Run an action outside of any workflow."""
        params: dict[str, Any] = {}
        if save_result:
            params["save_result"] = True
        if run_sync:
            params["run_sync"] = True
        if target:
            params["target"] = target
        if timeout:
            params["timeout"] = timeout
        body: dict[str, Any] = {"name": name, "input": input or {}}
        if namespace:
            body["workflow_namespace"] = namespace
        if description:
            body["description"] = description
        if params:
            body["params"] = params
        return self._decode(self.http.post(self.path, body))

    def update(self, id: str, state: str | None = None, output: Any = None) -> Resource:
        """Deliver the result of an asynchronous action."""
        body: dict[str, Any] = {}
        if state:
            body["state"] = state
        if output is not None:
            body["output"] = json.dumps(output)
        return self._decode(self.http.put(f"{self.path}/{_q(id)}", body))


class CronTriggerManager(Manager):
    """``/v2/cron_triggers``."""

    path, key = "cron_triggers", "cron_triggers"
    json_fields = ("workflow_input", "workflow_params")

    def create(self, name: str, workflow: str, *, input: dict[str, Any] | None = None,
               params: dict[str, Any] | None = None, pattern: str | None = None,
               first_time: str | None = None, count: int | None = None,
               namespace: str = "") -> Resource:
        """Create a cron trigger (``first_time`` is ``YYYY-MM-DD HH:MM`` UTC)."""
        body: dict[str, Any] = {"name": name, "workflow_input": json.dumps(input or {}),
                                "workflow_params": json.dumps(params or {})}
        is_id = len(workflow) == 36 and workflow.count("-") == 4
        body["workflow_id" if is_id else "workflow_name"] = workflow
        for key, value in (("pattern", pattern), ("first_execution_time", first_time),
                           ("remaining_executions", count),
                           ("workflow_namespace", namespace or None)):
            if value is not None:
                body[key] = value
        return self._decode(self.http.post(self.path, body))


class EventTriggerManager(Manager):
    """``/v2/event_triggers``."""

    path, key = "event_triggers", "event_triggers"
    json_fields = ("workflow_input", "workflow_params")

    def create(self, name: str, workflow_id: str, exchange: str, topic: str, event: str, *,
               input: dict[str, Any] | None = None, params: dict[str, Any] | None = None,
               scope: str | None = None) -> Resource:
        """Create an event trigger starting ``workflow_id`` on a notification."""
        body: dict[str, Any] = {"name": name, "workflow_id": workflow_id, "exchange": exchange,
                                "topic": topic, "event": event,
                                "workflow_input": json.dumps(input or {}),
                                "workflow_params": json.dumps(params or {})}
        if scope:
            body["scope"] = scope
        return self._decode(self.http.post(self.path, body))

    def update(self, id: str, *, name: str | None = None, input: dict[str, Any] | None = None,
               params: dict[str, Any] | None = None) -> Resource:
        """Change the name, input or params of an event trigger."""
        body: dict[str, Any] = {}
        if name:
            body["name"] = name
        if input is not None:
            body["workflow_input"] = json.dumps(input)
        if params is not None:
            body["workflow_params"] = json.dumps(params)
        return self._decode(self.http.put(f"{self.path}/{_q(id)}", body))


class EnvironmentManager(Manager):
    """``/v2/environments``."""

    path, key = "environments", "environments"
    json_fields = ("variables",)

    def _body(self, name: str, variables: dict[str, Any] | None, description: str | None,
              scope: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name}
        if variables is not None:
            body["variables"] = json.dumps(variables)
        if description is not None:
            body["description"] = description
        if scope:
            body["scope"] = scope
        return body

    def create(self, name: str, variables: dict[str, Any] | None = None,
               description: str | None = None, scope: str | None = None) -> Resource:
        """Create a named environment."""
        return self._decode(self.http.post(self.path,
                                           self._body(name, variables or {}, description, scope)))

    def update(self, name: str, variables: dict[str, Any] | None = None,
               description: str | None = None, scope: str | None = None) -> Resource:
        """Update an environment by name."""
        return self._decode(self.http.put(self.path,
                                          self._body(name, variables, description, scope)))
