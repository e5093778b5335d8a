"""``/``, ``/v2`` and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from wfaas.api.context import ApiRequest
from wfaas.api.routing import route


@route("GET", "/", summary="API versions", response="Versions")
def versions(req: ApiRequest) -> dict[str, Any]:
    """The list of API versions (only v2.0, CURRENT)."""
    base = req.host_url.rstrip("/")
    return {"versions": [{"id": "v2.0", "status": "CURRENT",
                          "links": [{"href": f"{base}/v2", "target": "v2", "rel": "self"}]}]}


@route("GET", "/v2", summary="Root of API v2", response="V2Root")
def v2_root(req: ApiRequest) -> dict[str, Any]:
    """``{"uri": ".../v2"}``."""
    return {"uri": req.host_url.rstrip("/") + "/v2"}


@route("GET", "/v2/openapi.json", summary="This API's OpenAPI 3 document", response="OpenAPI")
def openapi_document(req: ApiRequest) -> dict[str, Any]:
    """The OpenAPI 3 document generated from the route table."""
    from wfaas.api.openapi import build_document

    return build_document(req.host_url.rstrip("/"))


@route("GET", "/healthcheck", summary="Liveness: the API answers and its database is reachable",
       response="Health")
def healthcheck(req: ApiRequest) -> dict[str, Any]:
    """``{"status": "OK"}`` after a trivial query; a database failure answers 500."""
    req.services.healthcheck()
    return {"status": "OK"}
