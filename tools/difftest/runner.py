"""Running one differential case against a Mistral-compatible v2 API and collecting observables.

Default script of a case: upload definitions, start the workflow, wait for a terminal state,
observe. A case may give ``steps`` instead, each one of::

    - start: {workflow: wf, input: {...}, params: {...}}   # default values from the case
    - wait: [PAUSED]            # states to wait for (default: SUCCESS, ERROR, CANCELLED)
    - observe: label            # snapshot of execution, tasks and action executions
    - call: {method: PUT, path: /executions/{ex}, body: {...}}
    - sleep: 1.5

In a call path ``{ex}`` is the started execution's id, ``{task:NAME}`` the id of its task NAME
and ``{sub:NAME}`` the id of the (first started) sub-workflow execution of its task NAME.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import requests

from tools.difftest.cases import Case

TERMINAL = ("SUCCESS", "ERROR", "CANCELLED")


class CaseError(Exception):
    """The case could not be run as written (a harness problem, not a difference)."""


def _loads(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _fault(resp: requests.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:2000]
    if isinstance(body, dict):
        return str(body.get("faultstring") or body.get("title") or body.get("description") or body)
    return str(body)


class CaseRun:
    """State of one case run: HTTP session, namespace, ids and the observations so far."""

    def __init__(self, case: Case, url: str) -> None:
        self.case = case
        self.url = url.rstrip("/")
        self.http = requests.Session()
        self.ns = "dt" + uuid.uuid4().hex[:10]
        self.env_names: dict[str, str] = {}
        self.ex_id: str | None = None
        self.obs: dict[str, Any] = {"uploads": [], "steps": []}

    # -- HTTP ---------------------------------------------------------------------------
    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        """One request relative to the API root."""
        kw.setdefault("timeout", 120)
        return self.http.request(method, self.url + path, **kw)

    def _upload(self, kind: str, text: str) -> bool:
        resp = self.request("POST", f"/{kind}", params={"namespace": self.ns}, data=text,
                            headers={"Content-Type": "text/plain"})
        rec: dict[str, Any] = {"kind": kind, "code": resp.status_code}
        if resp.status_code >= 400:
            rec["error"] = _fault(resp)
        self.obs["uploads"].append(rec)
        return resp.status_code < 400

    def setup(self) -> bool:
        """Create environments and upload definitions; False if an upload failed."""
        for name, variables in (self.case.get("environments") or {}).items():
            real = f"{self.ns}-{name}"
            self.env_names[name] = real
            resp = self.request("POST", "/environments",
                                json={"name": real, "variables": json.dumps(variables)})
            if resp.status_code >= 400:
                raise CaseError(f"environment {name}: {resp.status_code} {_fault(resp)}")
        ok = True
        if self.case.get("actions"):
            ok = self._upload("actions", self.case.get("actions")) and ok
        if self.case.get("workbook") and ok:
            ok = self._upload("workbooks", self.case.get("workbook")) and ok
        wfs = self.case.get("workflows")
        for text in ([wfs] if isinstance(wfs, str) else wfs or []):
            if ok:
                ok = self._upload("workflows", text) and ok
        return ok

    def cleanup(self) -> None:
        """Best-effort removal of the environments (definitions live in their namespace)."""
        for real in self.env_names.values():
            self.request("DELETE", f"/environments/{real}")

    # -- steps ----------------------------------------------------------------------------
    def _default_workflow(self) -> str:
        if self.case.get("workflow"):
            return str(self.case.get("workflow"))
        wfs = self.case.get("workflows")
        text = wfs if isinstance(wfs, str) else (wfs or [""])[0]
        doc = _safe_yaml(text)
        names = [k for k in doc if k != "version"] if isinstance(doc, dict) else []
        if not names:
            raise CaseError("no workflow to start")
        return str(names[0])

    def start(self, spec: dict[str, Any]) -> None:
        """Start an execution; records the HTTP code (and error text on failure)."""
        params = dict(spec.get("params", self.case.get("params")) or {})
        if isinstance(params.get("env"), str) and params["env"] in self.env_names:
            params["env"] = self.env_names[params["env"]]
        body: dict[str, Any] = {
            "workflow_name": spec.get("workflow") or self._default_workflow(),
            "workflow_namespace": self.ns,
            "input": json.dumps(spec.get("input", self.case.get("input")) or {}),
            "params": json.dumps(params)}
        if self.case.get("workbook") and "." not in body["workflow_name"]:
            wb = _safe_yaml(self.case.get("workbook")).get("name")
            body["workflow_name"] = f"{wb}.{body['workflow_name']}"
        resp = self.request("POST", "/executions", json=body)
        rec: dict[str, Any] = {"start": resp.status_code}
        if resp.status_code >= 400:
            rec["error"] = _fault(resp)
        else:
            self.ex_id = resp.json()["id"]
        self.obs["steps"].append(rec)

    def wait(self, states: list[str] | tuple[str, ...], timeout: float) -> None:
        """Poll until the execution reaches one of *states*."""
        if not self.ex_id:
            return
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            state = self.request("GET", f"/executions/{self.ex_id}").json().get("state")
            if state in states:
                return
            time.sleep(0.25)
        self.obs["steps"].append({"wait_timeout": list(states), "state": state})

    def call(self, spec: dict[str, Any]) -> None:
        """An API call of the script; records code, ``state`` and the error text."""
        path = self._expand(spec["path"])
        kw: dict[str, Any] = {}
        if "body" in spec:
            kw["json"] = spec["body"]
        if "text" in spec:
            kw["data"] = spec["text"]
            kw["headers"] = {"Content-Type": "text/plain"}
        resp = self.request(spec.get("method", "GET"), path, **kw)
        rec: dict[str, Any] = {"call": f"{spec.get('method', 'GET')} {spec['path']}",
                               "code": resp.status_code}
        if resp.status_code >= 400:
            rec["error"] = _fault(resp)
        else:
            try:
                body = resp.json()
            except ValueError:
                body = None
            for key in spec.get("record", ["state"]):
                if isinstance(body, dict) and key in body:
                    rec[key] = _loads(body[key])
        self.obs["steps"].append(rec)

    def _expand(self, path: str) -> str:
        path = path.replace("{ex}", self.ex_id or "none")
        for name in re.findall(r"\{task:([^}]+)\}", path):
            tasks = self._tasks()
            match = [t for t in tasks if t["name"] == name]
            tid = match[-1]["id"] if match else "none"
            path = path.replace(f"{{task:{name}}}", tid)
        for name in re.findall(r"\{sub:([^}]+)\}", path):
            path = path.replace(f"{{sub:{name}}}", self._sub_id(name))
        return path

    def _sub_id(self, task_name: str) -> str:
        match = [t for t in self._tasks() if t["name"] == task_name]
        if not match:
            return "none"
        subs = self.request("GET", "/executions",
                            params={"task_execution_id": match[-1]["id"]}).json()
        found = sorted(subs.get("executions", []), key=lambda s: s.get("created_at") or "")
        return str(found[0]["id"]) if found else "none"

    def _tasks(self, ex_id: str | None = None) -> list[dict[str, Any]]:
        resp = self.request("GET", "/tasks", params={"workflow_execution_id": ex_id or self.ex_id})
        return list(resp.json().get("tasks", []))

    def observe(self, label: str) -> None:
        """Snapshot of the execution: state, state_info, output, tasks, action executions."""
        if not self.ex_id:
            return
        self.obs["steps"].append({"observe": label, **self._execution(self.ex_id, depth=0)})

    def _execution(self, ex_id: str, depth: int) -> dict[str, Any]:
        ex = self.request("GET", f"/executions/{ex_id}").json()
        snap: dict[str, Any] = {"state": ex.get("state"), "state_info": ex.get("state_info"),
                                "output": _loads(ex.get("output"))}
        if depth:  # a sub-workflow: Mistral describes it "sub-workflow execution"
            snap["description"] = ex.get("description")
        snap["tasks"] = sorted((self._task(t["id"], depth) for t in self._tasks(ex_id)),
                               key=lambda t: json.dumps(t, sort_keys=True))
        return snap

    def _task(self, task_id: str, depth: int) -> dict[str, Any]:
        t = self.request("GET", f"/tasks/{task_id}").json()
        rec: dict[str, Any] = {k: t.get(k) for k in ("name", "state", "state_info", "type")}
        rec["published"] = _loads(t.get("published"))
        rec["result"] = _loads(t.get("result"))
        if t.get("type") == "WORKFLOW":
            subs = self.request("GET", "/executions",
                                params={"task_execution_id": task_id}).json()
            rec["subworkflows"] = sorted(
                (self._execution(s["id"], depth + 1) if depth < 2 else {"state": s["state"]}
                 for s in subs.get("executions", [])),
                key=lambda s: json.dumps(s, sort_keys=True))
        else:
            acts = self.request("GET", f"/tasks/{task_id}/action_executions").json()
            rec["actions"] = sorted(
                f"{a.get('name')}:{a.get('state')}" for a in acts.get("action_executions", []))
        return rec

    def run(self) -> dict[str, Any]:
        """Run the whole case; returns the raw (not yet normalised) observations."""
        try:
            if not self.setup():
                return self.obs
            timeout = float(self.case.get("timeout", 60))
            steps = self.case.get("steps") or [{"start": {}}, {"wait": list(TERMINAL)},
                                               {"observe": "final"}]
            for step in steps:
                self._step(step, timeout)
        finally:
            self.cleanup()
        return self.obs

    def _step(self, step: dict[str, Any], timeout: float) -> None:
        (kind, arg), = step.items()
        if kind == "start":
            self.start(arg or {})
        elif kind == "wait":
            self.wait(arg or list(TERMINAL), timeout)
        elif kind == "observe":
            self.observe(str(arg))
        elif kind == "call":
            self.call(arg)
        elif kind == "sleep":
            time.sleep(float(arg))
        else:
            raise CaseError(f"unknown step {kind}")


def _safe_yaml(text: str) -> Any:
    import yaml
    return yaml.safe_load(text)
