"""Slow and malformed HTTP clients against a real ``wfaas-server``: a client that sends
its request a byte at a time (slowloris), a body that never comes, an endless chunk, or
a huge head holds no worker thread and gets a clear answer, while everyone else is
served (wfaas/cmd/requestgate.py; docs/security.md, "Slow clients")."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

from tests.functional.client.server import ServerProcess
from tests.hostile.conftest import assert_serving

#: ten times the default 16 API worker threads
SLOW_CONNECTIONS = 160


def _address(server: ServerProcess) -> tuple[str, int]:
    parts = urlsplit(server.url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def _answer(address: tuple[str, int], data: bytes, timeout: float = 15.0) -> bytes:
    sock = socket.create_connection(address, timeout=timeout)
    try:
        sock.sendall(data)
        out = b""
        while True:  # the server closes after these answers
            got = sock.recv(4096)
            if not got:
                return out
            out += got
    finally:
        sock.close()


def test_slow_clients_on_every_worker_do_not_stop_the_api(server: ServerProcess) -> None:
    address = _address(server)
    openings = (b"GET /v2/executions HTTP/1.1\r\nHost: x\r\n",          # head never ends
                b"POST /v2/workflows HTTP/1.1\r\nContent-Length: 100\r\n\r\nver",  # body
                b"POST /v2/executions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"10\r\nabc")                                            # chunk never ends
    slow = []
    try:
        for i in range(SLOW_CONNECTIONS):
            sock = socket.create_connection(address, timeout=10)
            sock.sendall(openings[i % len(openings)])
            slow.append(sock)
        time.sleep(0.5)
        for sock in slow[::7]:  # still sending, a byte at a time
            sock.sendall(b"X")
        assert_serving(server.url)
    finally:
        for sock in slow:
            sock.close()


def test_heads_and_bodies_over_the_limits_get_clear_answers(server: ServerProcess) -> None:
    address = _address(server)
    big_head = _answer(address, b"GET /v2/ HTTP/1.1\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n")
    assert big_head.startswith(b"HTTP/1.1 413")
    big_body = _answer(address, b"POST /v2/workflows HTTP/1.1\r\nContent-Length: 999999999"
                                b"\r\n\r\n{")
    assert big_body.startswith(b"HTTP/1.1 413") and b"max_body_size_kb" in big_body
    chunk = _answer(address, b"POST /v2/executions HTTP/1.1\r\nTransfer-Encoding: chunked"
                             b"\r\nContent-Type: application/json\r\n\r\nFFFFFFFFFFFF\r\nab")
    assert chunk.startswith(b"HTTP/1.1 413") or chunk.startswith(b"HTTP/1.1 408"), chunk
    malformed = _answer(address, b"POST /v2/executions HTTP/1.1\r\nTransfer-Encoding: chunked"
                                 b"\r\nContent-Type: application/json\r\n\r\nzz\r\n\r\n")
    assert malformed.startswith(b"HTTP/1.1 400") and b"Malformed chunked" in malformed
    assert_serving(server.url)
