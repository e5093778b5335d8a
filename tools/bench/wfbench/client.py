"""HTTP client for the REST API v2 and the strategies used to wait for executions.

Only the standard library is used. Each thread keeps its own keep-alive connection.
``Accept: */*`` is sent on purpose: Mistral answers 406 on its text/plain handlers
(POST/PUT /v2/workflows) when the request says ``Accept: application/json``.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

TERMINAL = frozenset({"SUCCESS", "ERROR", "CANCELLED"})


class ApiError(RuntimeError):
    """An unexpected HTTP status from the server (the message carries status and body)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Client:
    """Tiny thread-safe keep-alive HTTP client for ``<url>/v2``."""

    def __init__(self, base_url: str, timeout: float = 120.0) -> None:
        parts = urllib.parse.urlparse(base_url)
        if parts.scheme not in ("http", "") or not parts.hostname:
            raise ValueError(f"--url must look like http://HOST:PORT, got {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.prefix = parts.path.rstrip("/") + "/v2"
        self.timeout = timeout
        self._local = threading.local()

    def _conn(self, timeout: float) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
            self._local.conn = conn
        elif conn.timeout != timeout:
            conn.timeout = timeout
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def request(self, method: str, path: str, body: Any = None,
                content_type: str = "application/json",
                timeout: float | None = None) -> tuple[int, Any]:
        """Send one request; return ``(status, parsed JSON body or text)``.

        Connection errors are retried twice on a fresh connection (keep-alive sockets
        may be closed by the server between requests).
        """
        headers = {"Accept": "*/*"}
        data = None
        if body is not None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        for attempt in range(3):
            conn = self._conn(timeout or self.timeout)
            try:
                conn.request(method, self.prefix + path, body=data, headers=headers)
                resp = conn.getresponse()
                text = resp.read().decode("utf-8", "replace")
                if (resp.getheader("Connection") or "").lower() == "close":
                    self._drop()
                return resp.status, _parse(text)
            except (http.client.HTTPException, OSError):
                self._drop()
                if attempt == 2:
                    raise
                time.sleep(0.1)
        raise AssertionError("unreachable")

    # ---------------------------------------------------------------- API calls

    def ping(self) -> Any:
        """``GET /v2/``; raise ApiError unless it answers 200."""
        status, body = self.request("GET", "/")
        if status != 200:
            raise ApiError(f"GET {self.prefix}/ answered {status}: {_short(body)}")
        return body

    def register_workflows(self, definition: str) -> None:
        """Create the workflows of ``definition``, or update them if they exist (409)."""
        status, body = self.request("POST", "/workflows", definition, "text/plain")
        if status == 409:
            status, body = self.request("PUT", "/workflows", definition, "text/plain")
        if status not in (200, 201):
            raise ApiError(f"registering workflows failed: {status} {_short(body)}")

    def start_execution(self, workflow: str, wf_input: dict[str, Any] | None = None,
                        params: dict[str, Any] | None = None) -> str:
        """``POST /v2/executions``; return the new execution id."""
        body: dict[str, Any] = {"workflow_name": workflow, "description": "wfbench"}
        if wf_input is not None:
            body["input"] = json.dumps(wf_input)
        if params is not None:
            body["params"] = json.dumps(params)
        status, ex = self.request("POST", "/executions", body)
        if status not in (200, 201) or not isinstance(ex, dict) or "id" not in ex:
            raise ApiError(f"POST /executions ({workflow}) failed: {status} {_short(ex)}")
        return str(ex["id"])

    def get_execution(self, ex_id: str, wait: float | None = None) -> dict[str, Any]:
        """``GET /v2/executions/<id>`` (with ``?wait=S`` when ``wait`` is given)."""
        path = f"/executions/{ex_id}"
        timeout = None
        if wait is not None:
            path += f"?wait={wait:g}"
            timeout = max(self.timeout, wait + 30.0)
        status, ex = self.request("GET", path, timeout=timeout)
        if status != 200 or not isinstance(ex, dict):
            raise ApiError(f"GET {path} failed: {status} {_short(ex)}", status)
        return ex

    def list_all(self, path: str, key: str) -> list[dict[str, Any]]:
        """GET a list resource and follow its ``next`` links; return every item."""
        items: list[dict[str, Any]] = []
        next_path: str | None = path
        while next_path:
            status, body = self.request("GET", next_path)
            if status != 200 or not isinstance(body, dict) or key not in body:
                raise ApiError(f"GET {self.prefix}{next_path} failed: {status} {_short(body)}",
                               status)
            items += body[key]
            next_path = self._relative(body.get("next"))
        return items

    def _relative(self, url: str | None) -> str | None:
        """A ``next`` URL as a path under the API prefix (None at the end of the list)."""
        if not url:
            return None
        parts = urllib.parse.urlparse(url)
        path = parts.path
        if path.startswith(self.prefix):
            path = path[len(self.prefix):]
        return path + ("?" + parts.query if parts.query else "")

    def tasks_of(self, ex_id: str) -> list[dict[str, Any]]:
        """Every task execution of one workflow execution (id, name, state)."""
        query = urllib.parse.urlencode({"workflow_execution_id": ex_id,
                                        "fields": "id,name,state", "limit": 1000})
        return self.list_all(f"/tasks?{query}", "tasks")


def _parse(text: str) -> Any:
    if text and text.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _short(body: Any, limit: int = 300) -> str:
    text = body if isinstance(body, str) else json.dumps(body)
    return text if len(text) <= limit else text[:limit] + "..."


# ------------------------------------------------------------------ waiting


class Waiter:
    """Waits until an execution is terminal; subclasses choose how."""

    name = "abstract"

    def __init__(self, client: Client, poll: float, timeout: float) -> None:
        self.client = client
        self.poll = poll
        self.timeout = timeout
        self.requests = 0

    def _get(self, ex_id: str) -> dict[str, Any]:
        raise NotImplementedError

    def wait(self, ex_id: str, deadline: float | None = None) -> dict[str, Any]:
        """Return the execution once its state is terminal; TimeoutError past deadline."""
        deadline = deadline or time.perf_counter() + self.timeout
        while True:
            ex = self._get(ex_id)
            if ex.get("state") in TERMINAL:
                return ex
            if time.perf_counter() > deadline:
                raise TimeoutError(
                    f"execution {ex_id} still {ex.get('state')} after {self.timeout:g} s")
            self._pause()

    def _pause(self) -> None:
        time.sleep(self.poll)

    def wait_all(self, ex_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Wait for every execution, in order; one deadline for the whole batch.

        Waiting on each in turn costs one request per poll tick plus one per
        execution, and the moment the last one is seen terminal is at most one
        tick after it really finished, whatever order they finish in.
        """
        deadline = time.perf_counter() + self.timeout
        return [self.wait(ex_id, deadline) for ex_id in ex_ids]


class PollWaiter(Waiter):
    """``GET /v2/executions/<id>`` every ``poll`` seconds (works with any server)."""

    name = "poll"

    def _get(self, ex_id: str) -> dict[str, Any]:
        self.requests += 1
        return self.client.get_execution(ex_id)


class LongPollWaiter(Waiter):
    """``GET /v2/executions/<id>?wait=S``: the server holds the request until the
    execution is terminal or S seconds pass.

    Safe against any server: one that rejects ``wait`` with 400 (Mistral: "Unknown
    argument") makes this fall back to plain polling for good (``fell_back`` is set);
    one that ignores it answers at once, and then this polls every ``poll`` seconds.
    """

    name = "longpoll"

    def __init__(self, client: Client, poll: float, timeout: float, chunk: float = 20.0) -> None:
        super().__init__(client, poll, timeout)
        self.chunk = chunk
        self.fell_back = False
        self._last_took = 0.0

    def _get(self, ex_id: str) -> dict[str, Any]:
        self.requests += 1
        if self.fell_back:
            self._last_took = 0.0
            return self.client.get_execution(ex_id)
        t0 = time.perf_counter()
        try:
            ex = self.client.get_execution(ex_id, wait=self.chunk)
        except ApiError as e:
            if e.status != 400:
                raise
            self.fell_back = True
            return self._get(ex_id)
        self._last_took = time.perf_counter() - t0
        return ex

    def _pause(self) -> None:
        if self._last_took < min(1.0, self.chunk / 2):  # wait= not honoured: poll
            time.sleep(self.poll)


WAITERS: dict[str, Callable[[Client, float, float, float], Waiter]] = {
    "poll": lambda client, poll, timeout, _chunk: PollWaiter(client, poll, timeout),
    "longpoll": LongPollWaiter,
}


def make_waiter(kind: str, client: Client, poll: float, timeout: float,
                longpoll_s: float = 20.0) -> Waiter:
    """Build the waiter named ``kind`` (``poll`` or ``longpoll``)."""
    try:
        factory = WAITERS[kind]
    except KeyError:
        raise ValueError(f"--wait must be one of {sorted(WAITERS)}, got {kind!r}") from None
    return factory(client, poll, timeout, longpoll_s)
