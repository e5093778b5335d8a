"""The WSGI application: ``setup_app(runtime, conf)``.

A Pecan app over the typed API services (:class:`wfaas.services.api.ApiServices`)
whose root controller dispatches through the declarative route
table (:mod:`wfaas.api.routing`), so the OpenAPI document and the served
routes are one list. Controllers are plain functions ``handler(req, **path)``
returning a body (dict, list or None) or a WebOb response; the route gives the
status. Around Pecan: the body size limit, keystonemiddleware when ``[pecan]
auth_enable`` is on, and a catch-all that never lets a traceback reach a client.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

import pecan
from webob import Response

from wfaas.api import controllers  # noqa: F401 - registers every route
from wfaas.api.context import ApiRequest, to_bool
from wfaas.api.errors import json_response
from wfaas.api.hooks import (
    BodyLimitMiddleware,
    CatchAllMiddleware,
    ErrorHook,
    RequestHook,
    WSGIApp,
)
from wfaas.api.resources import PRECISE_TIMES
from wfaas.api.routing import ROUTES, Reply, Route, Router
from wfaas.services.api import ApiServices
from wfaas.services.api.context import context_from_headers

if TYPE_CHECKING:
    from oslo_config import cfg

    from wfaas.services.runtime import Runtime

LOG = logging.getLogger(__name__)
PRECISE_HEADER = "X-Wfaas-Precise-Times"


def _cache_pecan_argspecs() -> None:
    """Pecan inspects the controller's signature (``inspect.getfullargspec`` plus a new
    namedtuple class) twice per request: 0.2-0.35 ms of CPU, a third of a poll GET.
    Signatures never change, so remember them per function (unhashable: not cached)."""
    import pecan.core
    import pecan.routing
    from pecan import util as pecan_util

    original = pecan_util.getargspec
    if getattr(pecan.core.getargspec, "wfaas_cached", False):
        return
    cached = functools.lru_cache(maxsize=1024)(original)

    def getargspec(method: Any) -> Any:
        try:
            return cached(method)
        except TypeError:
            return original(method)

    getargspec.wfaas_cached = True  # type: ignore[attr-defined]
    pecan.core.getargspec = getargspec
    pecan.routing.getargspec = getargspec


class RootController:
    """Pecan root: resolves every path through the route table."""

    def __init__(self, router: Router, services: ApiServices, conf: cfg.ConfigOpts,
                 auth_enabled: bool) -> None:
        self.router = router
        self.services = services
        self.conf = conf
        self.auth_enabled = auth_enabled

    @pecan.expose(content_type="application/json")  # type: ignore[untyped-decorator,unused-ignore]
    def _route(self, args: list[str], request: Any) -> tuple[Any, list[str]]:
        found, params = self.router.resolve(request.method, request.path_info)
        request.context["route"] = (found, params)
        return self.dispatch, []

    @pecan.expose(content_type="application/json")  # type: ignore[untyped-decorator,unused-ignore]
    def dispatch(self, *args: Any, **kwargs: Any) -> Response:
        request = pecan.request
        found, params = request.context["route"]
        return answer(request, found, params, self.services, self.conf, self.auth_enabled)


def answer(request: Any, found: Route, params: dict[str, str], services: ApiServices,
           conf: cfg.ConfigOpts, auth_enabled: bool) -> Response:
    """Run ``found``'s handler for ``request`` (query checked, caller's context built) and
    make its answer a response: the one dispatch step of both the Pecan app and
    :mod:`wfaas.api.fastpath`."""
    if request.GET:
        found.check_query(request.GET.keys())
    all_projects = request.GET.get("all_projects")
    ctx = context_from_headers(
        request.headers, auth_enabled=auth_enabled, conf=conf,
        all_projects=all_projects is not None and to_bool(all_projects, "all_projects"))
    api_req = ApiRequest(request, services, conf, ctx)
    PRECISE_TIMES.set(PRECISE_HEADER in request.headers)
    result = found.handler(api_req, **params)
    if isinstance(result, Response):
        return result
    if isinstance(result, Reply):
        return json_response(result.body, result.status, result.headers)
    return json_response(result, found.status)


def make_pecan_app(runtime: Runtime, conf: cfg.ConfigOpts, *, fast_path: bool = False) -> Any:
    """The bare Pecan application (no middleware); ``fast_path``: with
    :class:`~wfaas.api.fastpath.FastPath` in front for the hottest routes."""
    _cache_pecan_argspecs()
    auth_enabled = bool(conf.pecan.auth_enable)
    router, services = Router(ROUTES), ApiServices(runtime, conf)
    root = RootController(router, services, conf, auth_enabled)
    hook = RequestHook(auth_enabled, int(conf.api.max_json_depth))
    app = pecan.make_app(root, hooks=[hook, ErrorHook()],
                         force_canonical=False, guess_content_type_from_ext=False,
                         debug=False, logging={})
    if not fast_path:
        return app
    from wfaas.api.fastpath import FastPath

    return FastPath(app, router, hook, lambda request, found, params: answer(
        request, found, params, services, conf, auth_enabled))


def _auth_middleware(app: WSGIApp, conf: cfg.ConfigOpts) -> WSGIApp:
    """keystonemiddleware's auth_token around ``app`` (options from ``[keystone_authtoken]``)."""
    try:
        from keystonemiddleware import auth_token
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise RuntimeError("[pecan] auth_enable = True needs keystonemiddleware installed "
                           "(pip install keystonemiddleware)") from exc
    wrapped: WSGIApp = auth_token.AuthProtocol(app, {"oslo_config_config": conf,
                                                     "delay_auth_decision": False})
    return wrapped


def setup_app(runtime: Runtime, conf: cfg.ConfigOpts) -> WSGIApp:
    """The WSGI application serving the REST API v2 over ``runtime``."""
    app: WSGIApp = make_pecan_app(runtime, conf, fast_path=True)
    if conf.pecan.auth_enable:
        app = _auth_middleware(app, conf)
    app = BodyLimitMiddleware(app, int(conf.api.max_body_size_kb) * 1024)
    app = _dashboard(app, conf)
    return CatchAllMiddleware(app)


def _dashboard(app: WSGIApp, conf: Any) -> WSGIApp:
    """``/ui`` (the dashboard's assets) and ``/metrics`` around the API, outside Keystone."""
    if not conf.dashboard.enabled and not conf.metrics.enabled:
        return app
    from wfaas import metrics
    from wfaas.api.ui import DashboardMiddleware

    return DashboardMiddleware(app, metrics.exposition if conf.metrics.enabled else None,
                               dashboard=bool(conf.dashboard.enabled))
