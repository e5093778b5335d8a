"""The served OpenAPI document lists exactly the routes the app serves."""

from __future__ import annotations

import re

from tests.functional.api.conftest import Client
from wfaas.api.openapi import documented_operations
from wfaas.api.routing import ROUTES, MethodNotAllowed, Router


def _served_operations() -> set[tuple[str, str]]:
    """Probe the live router with every route's path, params filled in."""
    router = Router(ROUTES)
    served = set()
    methods = ("GET", "POST", "PUT", "DELETE", "PATCH")
    paths = {r.path for r in ROUTES}
    for path in paths:
        concrete = re.sub(r"\{[^}]+\}", "x1", path)
        for method in methods:
            try:
                found, _ = router.resolve(method, concrete)
            except MethodNotAllowed:
                continue
            if found.path == path:
                served.add((method, path))
    return served


def test_document_and_routes_agree(client: Client) -> None:
    doc = client.get("/v2/openapi.json", 200).json
    assert doc["openapi"].startswith("3.")
    assert documented_operations(doc) == _served_operations()
    assert len(documented_operations(doc)) == len(ROUTES)


def test_every_reference_resolves(client: Client) -> None:
    doc = client.get("/v2/openapi.json", 200).json
    refs = set(re.findall(r'"#/components/schemas/([A-Za-z]+)"', client.get(
        "/v2/openapi.json", 200).text))
    assert refs <= set(doc["components"]["schemas"])
    for path, ops in doc["paths"].items():
        for op in ops.values():
            names = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert names == set(re.findall(r"\{([^}]+)\}", path))

