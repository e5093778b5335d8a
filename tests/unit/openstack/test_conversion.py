"""Results of openstacksdk calls become JSON (real Resource classes, no network)."""

from __future__ import annotations

import datetime
import json

from openstack.compute.v2.server import Server
from openstack.identity.v3.project import Project
from openstack.placement.v1.resource_provider import ResourceProvider

from wfaas.actions.openstack.action import http_error_message, to_json


def test_resource_becomes_a_dict_without_computed_fields() -> None:
    server = Server(id="s1", name="vm", flavor={"id": "1"}, metadata={"k": "v"},
                    status="ACTIVE", addresses={"net": [{"addr": "10.0.0.3"}]})
    out = to_json(server)
    assert out["id"] == "s1" and out["name"] == "vm" and out["status"] == "ACTIVE"
    assert out["metadata"] == {"k": "v"}
    assert out["addresses"]["net"][0]["addr"] == "10.0.0.3"
    assert "location" not in out  # computed
    json.dumps(out)


def test_generator_of_resources_becomes_a_list() -> None:
    def projects():  # what a list proxy method returns
        yield Project(id="p1", name="one", domain_id="default", tags=["a"])
        yield Project(id="p2", name="two", is_enabled=False)

    out = to_json(projects())
    assert [p["name"] for p in out] == ["one", "two"]
    assert out[0]["tags"] == ["a"] and out[1]["is_enabled"] is False
    json.dumps(out)


def test_scalars_bytes_dates_and_nesting() -> None:
    when = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    assert to_json(None) is None
    assert to_json(True) is True and to_json(3) == 3 and to_json("x") == "x"
    assert to_json(b"hello") == "hello"
    assert to_json(b"\xff\xfe") == {"base64": "//4="}
    assert to_json(when) == "2026-01-02T03:04:05+00:00"
    assert to_json({"rp": ResourceProvider(id="r", name="n"), "s": {1, 2}}) == {
        "rp": to_json(ResourceProvider(id="r", name="n")), "s": [1, 2]}


def test_response_object() -> None:
    class FakeResponse:
        status_code = 202
        headers = {"X-Openstack-Request-Id": "req-1"}
        text = "not json"

        def json(self) -> object:
            raise ValueError("no json")

    assert to_json(FakeResponse()) == {"status_code": 202,
                                       "headers": {"X-Openstack-Request-Id": "req-1"},
                                       "body": "not json"}


def test_http_error_message_keeps_status_and_service_message() -> None:
    from openstack import exceptions

    exc = exceptions.ForbiddenException(
        message="ForbiddenException: 403: Client Error for url: http://x/v3/projects, "
                "You are not authorized to perform the requested action: "
                "identity:create_project.", http_status=403)
    text = http_error_message("identity.create_project", exc)
    assert text.startswith("identity.create_project failed: HTTP 403: ")
    assert "identity:create_project" in text
    assert "ForbiddenException: 403" not in text


def test_http_error_message_of_a_not_found() -> None:
    from openstack import exceptions

    # what openstacksdk raises for DELETE /v3/projects/<missing>
    exc = exceptions.NotFoundException(message="NotFoundException: 404",
                                       details="Could not find project: p-1.")
    exc.status_code = 404
    assert http_error_message("identity.delete_project", exc) == (
        "identity.delete_project failed: HTTP 404: Could not find project: p-1.")


def test_http_error_message_reads_placement_error_bodies() -> None:
    from openstack import exceptions

    class Body:
        status_code = 403
        headers: dict[str, str] = {}

        def json(self) -> object:
            return {"errors": [{"status": 403, "title": "Forbidden", "detail": "Access was "
                                "denied to this resource.\n\n Policy does not allow "
                                "placement:resource_providers:list to be performed.  "}]}

    exc = exceptions.ForbiddenException(message="Forbidden", response=Body())
    exc.status_code = 403
    assert http_error_message("placement.resource_providers", exc) == (
        "placement.resource_providers failed: HTTP 403: Access was denied to this resource. "
        "Policy does not allow placement:resource_providers:list to be performed.")
