"""Pecan hooks and WSGI middleware around the API.

- :class:`RequestHook` pins JSON as the answer type (no 406 on ``Accept``
  headers, unlike Mistral), refuses XML and other unread body types (415) and
  checks that an authenticated caller is there (the request context itself is
  built by the root controller).
- :class:`ErrorHook` turns every exception raised while routing or in a
  controller into Mistral's JSON fault body.
- :class:`BodyLimitMiddleware` answers 413 for bodies over ``[api]
  max_body_size_kb`` before anything reads them.
- :class:`CatchAllMiddleware` is the last line: whatever escapes becomes a JSON
  500 with a generic message, the traceback going to the log.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from pecan import hooks

from wfaas.api.context import decode_json_body
from wfaas.api.errors import (
    BadRequest,
    RequestTimeout,
    RequestTooLarge,
    UnsupportedMediaType,
    error_response,
)
from wfaas.exceptions import Unauthorized
from wfaas.utils.inputcheck import DEFAULT_MAX_DEPTH

LOG = logging.getLogger(__name__)
ACCESS_LOG = logging.getLogger("wfaas.api.access")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
#: Body types the API reads: JSON, and YAML definitions sent as text (or as a form by curl -d).
BODY_TYPES = ("", "application/json", "text/plain", "application/x-yaml", "application/yaml",
              "text/yaml", "text/x-yaml", "application/x-www-form-urlencoded")


class RequestHook(hooks.PecanHook):  # type: ignore[misc,unused-ignore]
    """Answer type, body type check and the authentication check for every request."""

    priority = 10

    def __init__(self, auth_enabled: bool, max_json_depth: int = DEFAULT_MAX_DEPTH) -> None:
        self.auth_enabled = auth_enabled
        self.max_json_depth = max_json_depth

    def on_route(self, state: Any) -> None:
        req = state.request
        req.pecan["content_type"] = "application/json"
        content_type = (req.content_type or "").lower()
        if content_type not in BODY_TYPES and req.method not in ("GET", "HEAD"):
            raise UnsupportedMediaType(
                f"Unsupported media type '{req.content_type}': send JSON, or YAML text for "
                "definition uploads")
        if content_type == "application/json" and req.body:
            # Parsed here, once: a malformed, too deep, non-finite or invalid-Unicode
            # body is a 400 before Pecan or a controller reads it.
            req.context["json_body"] = decode_json_body(req.body, self.max_json_depth)
        if self.auth_enabled and (
                req.headers.get("X-Identity-Status") != "Confirmed"
                or not (req.headers.get("X-Project-Id") or req.headers.get("X-Tenant-Id"))):
            raise Unauthorized("Authentication required: the token is missing, invalid or "
                               "not scoped to a project")


class ErrorHook(hooks.PecanHook):  # type: ignore[misc,unused-ignore]
    """Every exception -> Mistral's JSON fault with the exception's status."""

    priority = 1

    def on_error(self, state: Any, e: Exception) -> Any:
        return error_response(e)


def url_problem(environ: dict[str, Any]) -> str | None:
    """What makes the request's path or query string not UTF-8 text, or None."""
    from urllib.parse import unquote_to_bytes

    for part, raw in (("path", environ.get("PATH_INFO") or ""),
                      ("query string", environ.get("QUERY_STRING") or "")):
        data = raw.encode("latin-1", "replace")  # WSGI strings carry the raw bytes
        if part == "query string":
            data = unquote_to_bytes(data.replace(b"+", b" "))
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return f"The URL {part} is not valid UTF-8 ({exc.reason} at byte {exc.start})"
    return None


class BodyLimitMiddleware:
    """Refuse request bodies larger than ``max_bytes`` with a JSON 413, and URLs that
    are not UTF-8 text with a JSON 400 (before routing reads them)."""

    def __init__(self, app: WSGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        problem = url_problem(environ)
        if problem:
            return _respond(BadRequest(problem), environ, start_response)
        length = environ.get("CONTENT_LENGTH") or ""
        too_large = RequestTooLarge(
            f"Request body too large: the limit is {self.max_bytes // 1024} KiB "
            "([api] max_body_size_kb)")
        if length.isdigit():
            if int(length) > self.max_bytes:
                return _respond(too_large, environ, start_response)
        elif environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
            try:
                data = environ["wsgi.input"].read(self.max_bytes + 1)
            except TimeoutError:
                return _respond(RequestTimeout(
                    "The request body did not arrive in time ([api] request_timeout)"),
                    environ, start_response)
            except (OSError, ValueError) as exc:  # a malformed chunk (cheroot's parser)
                return _respond(BadRequest(f"Malformed chunked request body: {exc}"),
                                environ, start_response)
            if len(data) > self.max_bytes:
                return _respond(too_large, environ, start_response)
            environ["wsgi.input"] = io.BytesIO(data)
            environ["CONTENT_LENGTH"] = str(len(data))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.app(environ, start_response)


def _respond(error: BaseException, environ: dict[str, Any],
             start_response: Callable[..., Any]) -> Iterable[bytes]:
    body: Iterable[bytes] = error_response(error)(environ, start_response)
    return body


class CatchAllMiddleware:
    """Anything that escapes the app becomes a generic JSON 500 (traceback logged);
    every request is logged on ``wfaas.api.access`` (method, path, status, time)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        started = time.perf_counter()
        status: list[str] = []

        def recording_start_response(code: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(code.split(" ", 1)[0])
            return start_response(code, headers, exc_info)

        try:
            return self._call(environ, recording_start_response)
        finally:
            if ACCESS_LOG.isEnabledFor(logging.INFO):
                ACCESS_LOG.info("%s %s %s %.1f ms", environ.get("REQUEST_METHOD"),
                                environ.get("PATH_INFO"), status[-1] if status else "-",
                                (time.perf_counter() - started) * 1000)

    def _call(self, environ: dict[str, Any], start_response: Callable[..., Any]
              ) -> Iterable[bytes]:
        try:
            return self.app(environ, start_response)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            LOG.exception("Unhandled error on %s %s", environ.get("REQUEST_METHOD"),
                          environ.get("PATH_INFO"))
            return _respond(exc, environ, start_response)
