"""Errors raised by the wfaas REST client.

Every failure the client reports is an :class:`APIError`: the server answered
with an HTTP error (``status`` and the server's ``faultstring``), or it could
not be reached at all (:class:`ConnectionFailed`, ``status`` 0). ``str(err)``
is the one line the command-line tool prints.
"""

from __future__ import annotations


class APIError(Exception):
    """The server answered with an HTTP error status."""

    def __init__(self, status: int, faultstring: str, *, method: str = "", url: str = "") -> None:
        super().__init__(faultstring)
        self.status = status
        self.faultstring = faultstring
        self.method = method
        self.url = url

    def __str__(self) -> str:
        return f"{self.status} {self.faultstring}" if self.status else self.faultstring


class NotFoundError(APIError):
    """HTTP 404: the addressed object does not exist."""


class ConflictError(APIError):
    """HTTP 409: a duplicate or a concurrent change."""


class BadRequestError(APIError):
    """HTTP 400: the request was rejected (invalid DSL, input, filter...)."""


class AuthError(APIError):
    """HTTP 401/403, or Keystone refused the credentials."""


class ConnectionFailed(APIError):
    """The server could not be reached (refused, DNS, timeout)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(0, f"cannot connect to {url}: {reason}", url=url)
        self.reason = reason


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError, 401: AuthError, 403: AuthError, 404: NotFoundError,
    409: ConflictError,
}


def error_for(status: int, faultstring: str, *, method: str = "", url: str = "") -> APIError:
    """The exception class matching ``status`` (APIError for anything unlisted)."""
    cls = _BY_STATUS.get(status, APIError)
    return cls(status, faultstring, method=method, url=url)
