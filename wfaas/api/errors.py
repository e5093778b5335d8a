"""Translation of every error into Mistral's JSON fault body.

``{"faultcode": "Client", "faultstring": "...", "debuginfo": null}`` with the
status carried by the exception (:mod:`wfaas.exceptions`). Validation errors
add ``problems`` (path, line, column, message for each) so a client sees every
mistake at once. Anything unexpected becomes a 500 with a generic message and
its traceback in the log, never in the body.
"""

from __future__ import annotations

import json
import logging
from typing import Any, cast

from webob import Response
from webob import exc as webob_exc

from wfaas import metrics
from wfaas.exceptions import ClientError, DSLError, WfaasError
from wfaas.utils.inputcheck import InputProblem

LOG = logging.getLogger(__name__)

JSON_SEPARATORS = (", ", ": ")


class BadRequest(ClientError):
    """A malformed request (bad JSON, bad query parameter...); HTTP 400."""


class RequestTooLarge(WfaasError):
    """The request body is over ``[api] max_body_size_kb``; HTTP 413."""

    http_code = 413
    fault_code = "Client"


class RequestTimeout(WfaasError):
    """The request did not arrive within ``[api] request_timeout``; HTTP 408."""

    http_code = 408
    fault_code = "Client"


class UnsupportedMediaType(WfaasError):
    """The request body is in a format the API does not read (XML); HTTP 415."""

    http_code = 415
    fault_code = "Client"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response with Mistral's compact-but-spaced separators (no body for 204)."""
    resp = Response(status=status, charset="UTF-8")
    resp.content_type = "application/json"
    if status != 204 and body is not None:
        resp.text = json.dumps(body, separators=JSON_SEPARATORS, ensure_ascii=False)
    else:
        resp.content_type = None
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def fault_body(message: str, code: str = "Client", **extra: Any) -> dict[str, Any]:
    """The fault dictionary of Mistral's error responses."""
    body: dict[str, Any] = {"faultcode": code, "faultstring": message, "debuginfo": None}
    body.update(extra)
    return body


def input_refused(problem: str) -> None:
    """Count a request refused by the input checks at the edge in the limit-breach
    metric: ``api.max_json_depth`` for too deep a document, ``input`` for the others
    (Unicode, numbers, names, ids)."""
    metrics.limit_breached("api.max_json_depth" if "nested" in problem else "input")


def error_response(error: BaseException) -> Response:
    """The JSON fault response for ``error`` (any exception)."""
    if isinstance(error, InputProblem):  # refused at the edge (wfaas.utils.inputcheck)
        input_refused(error.problem)
        error = BadRequest(f"Invalid {error.field}: {error.problem}")
    if isinstance(error, WfaasError):
        status = int(error.http_code)
        code = "Client" if status < 500 else "Server"
        extra: dict[str, Any] = {}
        if isinstance(error, DSLError) and error.problems:
            extra["problems"] = [p.to_dict() for p in error.problems]
        headers = {}
        allowed = getattr(error, "allowed", None)
        if status == 405 and allowed:
            headers["Allow"] = ", ".join(allowed)
        if status >= 500:
            LOG.error("Server error: %s", error, exc_info=error)
        return json_response(fault_body(str(error) or type(error).__name__, code, **extra),
                             status, headers)
    if isinstance(error, webob_exc.HTTPException):
        status = int(error.code)
        if status < 400:
            return cast(Response, error)
        message = error.explanation or error.title
        if status == 404:
            message = "Resource not found"
        return json_response(fault_body(message, "Client" if status < 500 else "Server"), status)
    LOG.error("Unexpected error while handling a request", exc_info=error)
    return json_response(
        fault_body("Internal server error; the details are in the server log.", "Server"), 500)
