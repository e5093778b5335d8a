"""The indexed Router resolves every method and path as the linear scan in route order."""

from __future__ import annotations

from typing import Any

import pytest

import wfaas.api.controllers  # noqa: F401 - registers every route
from wfaas.api.routing import ROUTES, MethodNotAllowed, Router, UnknownURL, split_path

ROUTER = Router(ROUTES)
METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD", "PATCH")


def _linear(method: str, path: str) -> Any:
    parts = split_path(path)
    matches = [(r, r.match(parts)) for r in ROUTER.routes]
    matches = [(r, params) for r, params in matches if params is not None]
    wanted = {method, "GET"} if method == "HEAD" else {method}
    hit = next(((r, params) for r, params in matches if r.method in wanted), None)
    if hit is not None:
        return hit
    return ("405", sorted({r.method for r, _ in matches})) if matches else ("404", None)


def _indexed(method: str, path: str) -> Any:
    try:
        return ROUTER.resolve(method, path)
    except MethodNotAllowed as exc:
        return ("405", exc.allowed)
    except UnknownURL:
        return ("404", None)


def _paths() -> list[str]:
    paths = {"/", "/v2", "/v2/", "/nothing", "/v2/nothing/x", "/x/executions", "/v2//x"}
    for r in ROUTES:
        for fill in ("x", "executions", "v2"):
            paths.add("/" + "/".join(fill if s.startswith("{") else s for s in r.segments))
    return sorted(paths)


@pytest.mark.parametrize("path", _paths())
def test_indexed_router_matches_the_linear_scan(path: str) -> None:
    for method in METHODS:
        assert _indexed(method, path) == _linear(method, path), (method, path)


def test_an_execution_get_is_matched_against_few_routes() -> None:
    found, params = ROUTER.resolve("GET", "/v2/executions/abc")
    assert (found.path, params) == ("/v2/executions/{id}", {"id": "abc"})
    assert len(ROUTER.candidates(["v2", "executions", "abc"])) < len(ROUTES) // 4
