"""The web dashboard's assets at ``/ui`` and Prometheus metrics at ``/metrics``.

The dashboard is a static single page (``wfaas/api/ui/``: HTML, CSS and plain
JavaScript, no build step) that reads and drives the REST API v2 from the browser
with the caller's own token, so every project rule of the API applies to it
unchanged. This middleware sits outside the Keystone middleware: the assets are
public (they hold no data); every request the page makes goes through ``/v2``.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Iterable
from importlib import resources
from typing import Any

from wfaas.api.hooks import WSGIApp

ASSET_PACKAGE = "wfaas.api"
ASSET_DIR = "ui"
UI_PREFIX = "/ui"
REDIRECTS = ("/ui", "/dashboard", "/dashboard/")
SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy",
     "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
     "connect-src 'self'; frame-ancestors 'none'"),
]

StartResponse = Callable[..., Any]


def _load_assets() -> dict[str, tuple[bytes, str]]:
    """Every file of the asset folder: name -> (bytes, content type)."""
    found: dict[str, tuple[bytes, str]] = {}
    folder = resources.files(ASSET_PACKAGE).joinpath(ASSET_DIR)
    for item in folder.iterdir():
        if item.is_file() and not item.name.startswith("."):
            kind = mimetypes.guess_type(item.name)[0] or "application/octet-stream"
            if kind.startswith("text/") or kind.endswith("javascript"):
                kind += "; charset=utf-8"
            found[item.name] = (item.read_bytes(), kind)
    return found


class DashboardMiddleware:
    """Serves ``/ui/<asset>`` and, when enabled, ``/metrics``; passes everything else on."""

    def __init__(self, app: WSGIApp, metrics: Callable[[], tuple[bytes, str]] | None = None,
                 dashboard: bool = True) -> None:
        self.app = app
        self.assets = _load_assets() if dashboard else {}
        self.metrics = metrics

    def __call__(self, environ: dict[str, Any], start_response: StartResponse
                 ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if path in REDIRECTS and self.assets:
            start_response("302 Found", [("Location", UI_PREFIX + "/"),
                                         ("Content-Length", "0")])
            return [b""]
        if path.startswith(UI_PREFIX + "/") and self.assets:
            return self._asset(path[len(UI_PREFIX) + 1:] or "index.html", environ,
                               start_response)
        if path == "/metrics" and self.metrics is not None:
            body, kind = self.metrics()
            return self._send(start_response, "200 OK", body, kind, cache="no-store")
        return self.app(environ, start_response)

    def _asset(self, name: str, environ: dict[str, Any], start_response: StartResponse
               ) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            return self._send(start_response, "405 Method Not Allowed", b"GET only\n",
                              "text/plain; charset=utf-8", extra=[("Allow", "GET, HEAD")])
        found = self.assets.get(name)
        if found is None:
            return self._send(start_response, "404 Not Found", b"no such dashboard file\n",
                              "text/plain; charset=utf-8")
        body, kind = found
        cache = "no-cache" if name == "index.html" else "max-age=300"
        if environ.get("REQUEST_METHOD") == "HEAD":
            body = b""
        return self._send(start_response, "200 OK", body, kind, cache=cache)

    @staticmethod
    def _send(start_response: StartResponse, status: str, body: bytes, kind: str,
              cache: str = "no-store", extra: list[tuple[str, str]] | None = None
              ) -> Iterable[bytes]:
        headers = [("Content-Type", kind), ("Content-Length", str(len(body))),
                   ("Cache-Control", cache), *SECURITY_HEADERS, *(extra or [])]
        start_response(status, headers)
        return [body]
