"""A whole action run against a recorded Nova on loopback, through the real auth + catalog path.

Nova cannot run here, so a tiny HTTP server on 127.0.0.1 replays recorded
responses; the caller's token and service catalog (as keystonemiddleware hands
them to the API) point compute at it. No Keystone call happens.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wfaas.actions.base import ActionContext, SecurityContext
from wfaas.actions.openstack.auth import OpenStackSettings
from wfaas.actions.openstack.provider import OpenStackProvider

DATA = Path(__file__).with_name("data")


class _Nova(http.server.BaseHTTPRequestHandler):
    """Replays recorded Nova responses and records what it was asked."""

    requests: list[tuple[str, str, dict[str, str]]] = []
    endpoint = ""

    def _send(self, status: int, body: Any) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("X-OpenStack-Request-Id", "req-recorded")
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.requests.append(("GET", self.path, dict(self.headers)))
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/v2.1":
            text = (DATA / "nova_version.json").read_text().replace("{endpoint}", self.endpoint)
            self._send(200, json.loads(text))
        elif path == "/v2.1/servers/detail":
            self._send(200, json.loads((DATA / "nova_servers_detail.json").read_text()))
        elif path.startswith("/v2.1/servers/"):
            self._send(404, {"itemNotFound": {"code": 404, "message": "Instance could not "
                                              "be found."}})
        else:
            self._send(404, {"error": path})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        self.requests.append(("POST", self.path, json.loads(self.rfile.read(length) or b"{}")))
        self._send(403, {"forbidden": {"code": 403, "message": "Policy doesn't allow "
                                       "os_compute_api:servers:create to be performed."}})

    def do_DELETE(self) -> None:  # noqa: N802
        self.requests.append(("DELETE", self.path, {}))
        self._send(404, {"itemNotFound": {"code": 404, "message": "Instance gone could not "
                                          "be found."}})

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def nova() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Nova)
    _Nova.requests = []
    _Nova.endpoint = f"http://127.0.0.1:{server.server_port}/v2.1"
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield _Nova.endpoint
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _context(endpoint: str, region: str = "RegionOne",
             interface: str = "public") -> ActionContext:
    catalog = [{"type": "compute", "name": "nova", "id": "svc-compute", "endpoints": [
        {"id": "e1", "interface": interface, "region": region, "region_id": region,
         "url": endpoint}]}]
    return ActionContext(security=SecurityContext(
        auth_token="caller-token", service_catalog=catalog, project_id="6f70656e",
        user_id="fake", auth_uri="http://127.0.0.1:9/v3", region_name="RegionOne"))


@pytest.fixture(scope="module")
def provider() -> OpenStackProvider:
    return OpenStackProvider(OpenStackSettings())


def test_list_servers_from_the_recorded_response(provider: OpenStackProvider,
                                                 nova: str) -> None:
    d = provider.find("nova.servers_list")
    assert d is not None
    result = d.instantiate({}).run(_context(nova))
    assert result.is_success(), result.error
    [server] = result.data
    assert server["id"] == "9e5476bd-a4ec-4653-93d6-72c93aa682ba"
    assert server["name"] == "new-server-test" and server["status"] == "ACTIVE"
    assert server["metadata"] == {"My Server Name": "Apache1"}
    assert server["addresses"]["private"][0]["addr"] == "192.168.1.30"
    json.dumps(result.data)
    calls = [(m, p.split("?")[0]) for m, p, _ in _Nova.requests]
    assert ("GET", "/v2.1/servers/detail") in calls
    listing = next(h for m, p, h in _Nova.requests if p.startswith("/v2.1/servers/detail"))
    assert listing["X-Auth-Token"] == "caller-token"


def test_missing_service_in_catalog(provider: OpenStackProvider, nova: str) -> None:
    d = provider.find("image.images")
    assert d is not None
    result = d.instantiate({}).run(_context(nova))
    assert result.error == ("image.images failed: service image is not in the catalog of "
                            "region RegionOne")
    other = provider.find("compute.servers")
    assert other is not None
    result = other.instantiate({"action_region": "RegionTwo"}).run(_context(nova))
    assert result.error == ("compute.servers failed: service compute is not in the catalog "
                            "of region RegionTwo")
    no_region = ActionContext(security=SecurityContext(
        auth_token="t", service_catalog=[], auth_uri="http://127.0.0.1:9/v3"))
    result = other.instantiate({}).run(no_region)
    assert result.error == ("compute.servers failed: service compute is not in the catalog "
                            "of any region")
    assert _Nova.requests == []


def test_action_region_selects_the_endpoint(provider: OpenStackProvider, nova: str) -> None:
    d = provider.find("compute.servers")
    assert d is not None
    result = d.instantiate({"action_region": "RegionTwo"}).run(_context(nova, "RegionTwo"))
    assert result.is_success(), result.error
    assert len(result.data) == 1


def test_action_interface_selects_the_endpoint(provider: OpenStackProvider,
                                               nova: str) -> None:
    d = provider.find("compute.servers")
    assert d is not None
    internal_only = _context(nova, interface="internal")
    public = d.instantiate({}).run(internal_only)
    assert public.error == ("compute.servers failed: service compute is not in the catalog "
                            "of region RegionOne")
    internal = d.instantiate({"action_interface": "internal"}).run(internal_only)
    assert internal.is_success(), internal.error
    assert internal.data[0]["name"] == "new-server-test"


def test_http_errors_carry_status_and_message(provider: OpenStackProvider, nova: str) -> None:
    create = provider.find("nova.servers_create")
    assert create is not None
    result = create.instantiate({"name": "vm", "image": "img-1", "flavor": "1"}).run(
        _context(nova))
    assert result.is_error()
    assert result.error.startswith("nova.servers_create failed: HTTP 403: ")
    assert "os_compute_api:servers:create" in result.error
    body = next(b for m, _, b in _Nova.requests if m == "POST")
    assert body["server"]["name"] == "vm"
    assert body["server"]["imageRef"] == "img-1" and body["server"]["flavorRef"] == "1"

    delete = provider.find("nova.servers_delete")
    assert delete is not None
    result = delete.instantiate({"server": "gone"}).run(_context(nova))
    assert result.error is not None and "HTTP 404" in result.error
