"""The route table of the REST API: one declaration per method and path.

Every endpoint is a :class:`Route` registered with :func:`route`. The same table
drives dispatch (:class:`Router`), the 405 answers (``Allow`` header) and the
OpenAPI document, so the document cannot drift from what the app serves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from wfaas.exceptions import WfaasError


class MethodNotAllowed(WfaasError):
    """The path exists but not for this HTTP method; HTTP 405."""

    http_code = 405
    fault_code = "Client"

    def __init__(self, method: str, allowed: Iterable[str]) -> None:
        self.allowed = sorted(set(allowed))
        super().__init__(f"Method {method} not allowed here (allowed: {', '.join(self.allowed)})")


class UnknownURL(WfaasError):
    """No route has this path; HTTP 404 (as a JSON fault, unlike Mistral's HTML page)."""

    http_code = 404
    fault_code = "Client"


class UnknownArgument(WfaasError):
    """A query parameter the endpoint does not take; HTTP 400 with Mistral's (WSME's)
    message ``Unknown argument: "name"``."""

    http_code = 400
    fault_code = "Client"

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f'Unknown argument: "{name}"')


@dataclass(frozen=True)
class Param:
    """A documented query parameter (name, OpenAPI type, description)."""

    name: str
    type: str = "string"
    description: str = ""


@dataclass(frozen=True)
class Route:
    """One endpoint: HTTP method, path template and the function answering it.

    ``path`` uses ``{name}`` for a path segment passed to the handler as a
    keyword argument. ``body`` is ``"json"``, ``"text"`` (YAML definition
    upload) or ``None``; ``response`` names a resource of
    :mod:`wfaas.api.resources` (``"Workflow"``, ``"Workflows"`` for a list...),
    used by the OpenAPI document.
    """

    method: str
    path: str
    handler: Callable[..., Any]
    summary: str
    status: int = 200
    body: str | None = None
    body_schema: str | None = None
    response: str | None = None
    query: tuple[Param, ...] = ()
    segments: tuple[str, ...] = field(default=(), compare=False)

    def match(self, parts: list[str]) -> dict[str, str] | None:
        """The path parameters when ``parts`` matches this route, else None."""
        if len(parts) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for seg, part in zip(self.segments, parts, strict=True):
            if seg.startswith("{"):
                if not part:
                    return None
                params[seg[1:-1]] = part
            elif seg != part:
                return None
        return params

    def check_query(self, names: Iterable[str]) -> None:
        """Reject (400) a query parameter a GET endpoint does not declare, as Mistral does;
        other methods are not checked here (their handlers read what they need)."""
        if self.method != "GET":
            return
        allowed = {p.name for p in self.query}
        for name in names:
            if name not in allowed:
                raise UnknownArgument(name)

    @property
    def specificity(self) -> tuple[int, ...]:
        """Sort key: static segments win over parameters at the same position."""
        return tuple(1 if s.startswith("{") else 0 for s in self.segments)


def split_path(path: str) -> list[str]:
    """``/v2/workflows/x/`` -> ``['v2', 'workflows', 'x']`` (one trailing slash ignored)."""
    stripped = path.strip("/")
    return stripped.split("/") if stripped else []


class Reply:
    """A handler answer with an explicit status (when it differs from the route's)."""

    def __init__(self, body: Any, status: int = 200, headers: dict[str, str] | None = None
                 ) -> None:
        self.body = body
        self.status = status
        self.headers = headers


ROUTES: list[Route] = []


def route(method: str, path: str, *, summary: str, status: int = 200, body: str | None = None,
          body_schema: str | None = None, response: str | None = None,
          query: Iterable[Param | str] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator registering ``func`` in :data:`ROUTES` for ``method path``."""
    params = tuple(p if isinstance(p, Param) else Param(p) for p in query)

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        ROUTES.append(Route(method.upper(), path, func, summary, status, body, body_schema,
                            response, params, tuple(split_path(path))))
        return func

    return register


class Router:
    """Finds the route for a method and path, raising 404 or 405 as Mistral's clients expect."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = sorted(routes, key=lambda r: r.specificity)
        # candidates indexed by (segment count, second segment): a request is matched
        # against the few routes of its collection, in the order of ``self.routes``
        self._by_length: dict[int, list[Route]] = {}
        for r in self.routes:
            self._by_length.setdefault(len(r.segments), []).append(r)
        self._by_collection: dict[tuple[int, str], list[Route]] = {}
        for length, group in self._by_length.items():
            names = {r.segments[1] for r in group
                     if length > 1 and not r.segments[1].startswith("{")}
            for name in names:
                self._by_collection[(length, name)] = [
                    r for r in group if r.segments[1] in (name,) or
                    r.segments[1].startswith("{")]

    def candidates(self, parts: list[str]) -> list[Route]:
        """The routes that may match ``parts``, in matching order."""
        if len(parts) > 1:
            found = self._by_collection.get((len(parts), parts[1]))
            if found is not None:
                return found
        return [r for r in self._by_length.get(len(parts), ())
                if len(parts) < 2 or r.segments[1].startswith("{")]

    def resolve(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route and its path parameters for ``method path``."""
        parts = split_path(path)
        allowed: list[str] = []
        for candidate in self.candidates(parts):
            params = candidate.match(parts)
            if params is None:
                continue
            if candidate.method == method or (method == "HEAD" and candidate.method == "GET"):
                return candidate, params
            allowed.append(candidate.method)
        if allowed:
            raise MethodNotAllowed(method, allowed)
        raise UnknownURL(f"Resource not found [url={path}]")
