"""A small typed Python client for the wfaas (and Mistral) REST API v2.

    from wfaas.client import Client
    client = Client("http://127.0.0.1:8989/v2")
    client.workflows.create(open("wf.yaml").read())
    ex = client.executions.create("my_wf", input={"x": 1})
    client.executions.get(ex["id"])["state"]

Errors are :class:`APIError` subclasses carrying the HTTP ``status`` and the
server's ``faultstring``; an unreachable server is :class:`ConnectionFailed`.
"""

from __future__ import annotations

from wfaas.client.auth import AuthOptions, authenticate
from wfaas.client.errors import (
    APIError,
    AuthError,
    BadRequestError,
    ConflictError,
    ConnectionFailed,
    NotFoundError,
)
from wfaas.client.http import DEFAULT_URL, HTTPClient
from wfaas.client.managers import (
    ActionExecutionManager,
    ActionManager,
    CronTriggerManager,
    EnvironmentManager,
    EventTriggerManager,
    ExecutionManager,
    Resource,
    TaskManager,
    WorkbookManager,
    WorkflowManager,
)

__all__ = [
    "APIError", "AuthError", "AuthOptions", "BadRequestError", "Client", "ConflictError",
    "ConnectionFailed", "DEFAULT_URL", "HTTPClient", "NotFoundError", "Resource",
]


class Client:
    """Entry point: one manager attribute per resource collection."""

    def __init__(self, url: str = DEFAULT_URL, *, token: str | None = None,
                 timeout: float = 60.0, verify: bool | str = True) -> None:
        self.http = HTTPClient(url, token=token, timeout=timeout, verify=verify)
        self.workbooks = WorkbookManager(self.http)
        self.workflows = WorkflowManager(self.http)
        self.executions = ExecutionManager(self.http)
        self.tasks = TaskManager(self.http)
        self.actions = ActionManager(self.http)
        self.action_executions = ActionExecutionManager(self.http)
        self.cron_triggers = CronTriggerManager(self.http)
        self.event_triggers = EventTriggerManager(self.http)
        self.environments = EnvironmentManager(self.http)

    @classmethod
    def from_auth(cls, url: str | None, auth: AuthOptions, **kwargs: object) -> Client:
        """A client for ``url`` (or the catalog's workflow endpoint) with a Keystone token.

        Without an auth URL, ``auth.token`` (if any) is sent as is.
        """
        token: str | None = auth.token or None
        if auth.enabled:
            token, endpoint = authenticate(auth, want_endpoint=not url)
            url = url or endpoint
        verify: bool | str = auth.cacert or not auth.insecure
        return cls(url or DEFAULT_URL, token=token, verify=verify, **kwargs)  # type: ignore[arg-type]

    @property
    def url(self) -> str:
        """The API endpoint this client talks to."""
        return self.http.url
