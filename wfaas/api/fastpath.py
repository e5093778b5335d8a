"""A lean WSGI path in front of Pecan for the API's hottest routes.

A client running workflows calls ``POST /v2/executions`` once per execution and polls
``GET /v2/executions/<id>``; a dashboard lists ``GET /v2/executions``. For those, Pecan's
own machinery (controller lookup, hook dispatch, its thread-local proxies, the argspec
checks) costs about as much as the handler. :class:`FastPath` serves them with the
same steps and the same code, minus Pecan:

1. :class:`~wfaas.api.routing.Router` resolves the route (a path it cannot resolve, or
   a route not in :data:`FAST_ROUTES`, goes to Pecan unchanged: 404/405 are Pecan's);
2. :class:`~wfaas.api.hooks.RequestHook` runs on the request (body type, JSON body
   decoding and its limits, the authentication check);
3. :func:`wfaas.api.app.answer` runs the handler (query check, caller context, service
   layer scoping);
4. any exception becomes :func:`~wfaas.api.errors.error_response`, as ``ErrorHook``
   makes it; an empty 200 becomes a 204, as Pecan does.

The request is a plain :class:`webob.Request`: Pecan's subclass wraps every attribute
read in a Python ``__getattribute__`` (60-odd per request) only to turn a
``UnicodeDecodeError`` into a 400, which :meth:`FastPath.serve` does once instead.

So the answers are byte-identical to Pecan's (tests/unit/api/test_fastpath.py compares
both paths on successes and errors).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from webob import Request, Response
from webob import exc as webob_exc

from wfaas.api.errors import error_response
from wfaas.api.hooks import RequestHook
from wfaas.api.routing import Route, Router

#: (method, path template) of the routes served without Pecan
FAST_ROUTES = frozenset({("POST", "/v2/executions"), ("GET", "/v2/executions/{id}"),
                         ("GET", "/v2/executions")})

Answer = Callable[[Any, Route, dict[str, str]], Response]


class _State:
    """What ``RequestHook.on_route`` reads of Pecan's routing state."""

    __slots__ = ("request",)

    def __init__(self, request: Any) -> None:
        self.request = request


class FastPath:
    """WSGI middleware answering :data:`FAST_ROUTES` itself and passing the rest to the
    Pecan application ``app``."""

    def __init__(self, app: Any, router: Router, hook: RequestHook, answer: Answer) -> None:
        self.app = app
        self.router = router
        self.hook = hook
        self.answer = answer
        self.request_cls = Request

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        if method not in ("GET", "POST") or not path.startswith("/v2/executions"):
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        try:
            found, params = self.router.resolve(method, path)
        except Exception:  # noqa: BLE001 - Pecan answers what does not resolve
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        if (found.method, found.path) not in FAST_ROUTES:
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        response = self.serve(environ, found, params)
        return response(environ, start_response)  # type: ignore[no-any-return]

    def serve(self, environ: dict[str, Any], found: Route, params: dict[str, str]
              ) -> Response:
        """The response to one request of a fast route."""
        request = self.request_cls(environ)
        request.context = {"route": (found, params)}
        request.pecan = {"content_type": None}
        try:
            self.hook.on_route(_State(request))
            response = self.answer(request, found, params)
        except UnicodeDecodeError:
            # pecan's Request answers 400 when reading an attribute cannot decode (a
            # query or a path that is not UTF-8); the plain webob Request raises
            response = error_response(webob_exc.HTTPBadRequest())
        except Exception as exc:  # noqa: BLE001 - every error is a JSON fault (ErrorHook)
            response = error_response(exc)
        if response.status_int == 200 and not response.body:
            response.status = 204  # Pecan: an empty 200 is a 204
        if response.status_int in (204, 304):
            response.content_type = None
        return response
