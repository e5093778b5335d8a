"""``ApiServer`` (wfaas/cmd/server.py): keep-alive connections served by lingering workers."""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.unit.served import served as serve_app
from wfaas.cmd import server as server_mod
from wfaas.cmd.server import ApiServer


def _app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ["PATH_INFO"].encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture
def served() -> Iterator[tuple[ApiServer, int]]:
    with serve_app(_app, threads=4) as pair:
        yield pair


def _get(conn: http.client.HTTPConnection, path: str) -> bytes:
    conn.request("GET", path)
    resp = conn.getresponse()
    assert resp.status == 200
    return resp.read()


def test_more_busy_connections_than_workers_are_all_served(
        served: tuple[ApiServer, int]) -> None:
    _api, port = served

    def client(i: int) -> list[bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        try:  # back to back on one keep-alive connection: workers linger on it
            return [_get(conn, f"/c{i}/r{j}") for j in range(20)]
        finally:
            conn.close()

    with ThreadPoolExecutor(12) as pool:  # 12 connections, 4 worker threads
        answers = list(pool.map(client, range(12)))
    assert answers == [[f"/c{i}/r{j}".encode() for j in range(20)] for i in range(12)]


def test_a_connection_idle_longer_than_the_linger_is_still_served(
        served: tuple[ApiServer, int]) -> None:
    _api, port = served
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        assert _get(conn, "/first") == b"/first"
        time.sleep(server_mod.KEEPALIVE_LINGER * 5)  # handed back to cheroot's selector
        assert _get(conn, "/second") == b"/second"
        sock = conn.sock
        assert _get(conn, "/third") == b"/third"
        assert conn.sock is sock  # the same keep-alive connection throughout
    finally:
        conn.close()


def test_a_connection_closed_by_the_client_frees_its_worker(
        served: tuple[ApiServer, int]) -> None:
    api, port = served
    for i in range(8):  # twice the workers: each closed connection must free one
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        assert _get(conn, f"/{i}") == f"/{i}".encode()
        conn.close()
    deadline = time.monotonic() + 10
    while api.server.requests.idle < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert api.server.requests.idle == 4
