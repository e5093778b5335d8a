"""The request gate (wfaas/cmd/requestgate.py): slow clients hold no worker thread."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.unit.served import served
from wfaas.cmd.requestgate import chunked_end

THREADS = 4


def _echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else environ["wsgi.input"].read()
    out = environ["PATH_INFO"].encode() + b":" + body
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(out)))])
    return [out]


@pytest.fixture
def port() -> Iterator[int]:
    with served(_echo, threads=THREADS, max_head=1024, max_body=4096, timeout=2.0) as (
            _api, bound):
        yield bound


def _get(port: int, path: str = "/ok") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _raw(port: int, data: bytes, timeout: float = 3.0) -> bytes:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        sock.sendall(data)
        out = b""
        while b"\r\n\r\n" not in out:
            got = sock.recv(4096)
            if not got:
                break
            out += got
        return out
    finally:
        sock.close()


def _until(sock: socket.socket, suffix: bytes) -> bytes:
    """What the server sends until it ends with ``suffix`` (or closes)."""
    data = b""
    while not data.endswith(suffix):
        got = sock.recv(4096)
        if not got:
            break
        data += got
    return data


def test_partial_requests_on_more_connections_than_workers_hold_no_worker(port: int) -> None:
    """Ten times as many connections as worker threads, each with half a request
    head (and half a body): every other client is still answered at once."""
    slow = []
    for i in range(THREADS * 10):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"POST /slow HTTP/1.1\r\nHost: x\r\n" if i % 2 else
                     b"POST /slow HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
        slow.append(sock)
    try:
        time.sleep(0.2)
        for _ in range(5):
            assert _get(port) == (200, b"/ok:")
    finally:
        for sock in slow:
            sock.close()


def test_a_request_sent_in_pieces_is_served_whole(port: int) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=3)
    try:
        for piece in (b"POST /pie", b"ces HTTP/1.1\r\nHo", b"st: x\r\nContent-Len",
                      b"gth: 6\r\n\r\n", b"ab", b"cdef"):
            sock.sendall(piece)
            time.sleep(0.05)
        answer = _until(sock, b"/pieces:abcdef")
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"/pieces:abcdef")


def test_a_request_that_does_not_arrive_within_the_window_is_dropped(port: int) -> None:
    """A byte every half second keeps the connection readable; it is closed once the
    window (2 s here) has passed since the request's first byte."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    start = time.monotonic()
    closed = False
    try:
        sock.sendall(b"GET /trickle HTTP/1.1\r\n")
        for _ in range(20):
            time.sleep(0.5)
            try:
                sock.sendall(b"X")
                if sock.recv(4096, socket.MSG_DONTWAIT) == b"":
                    closed = True
                    break
            except BlockingIOError:
                continue
            except OSError:
                closed = True
                break
    finally:
        sock.close()
    assert closed and 1.5 < time.monotonic() - start < 6


def test_expect_100_continue_gets_its_interim_answer_and_the_body_is_read(port: int) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=3)
    try:
        sock.sendall(b"PUT /exp HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                     b"Content-Length: 5\r\n\r\n")
        assert sock.recv(4096) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"hello")
        answer = _until(sock, b"/exp:hello")
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"/exp:hello")
    assert b"100 Continue" not in answer


def test_a_chunked_body_is_read_once_its_last_chunk_came(port: int) -> None:
    answer = _raw(port, b"POST /ch HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200")


def test_too_large_a_head_is_refused_without_waiting(port: int) -> None:
    answer = _raw(port, b"GET /big HTTP/1.1\r\nX-Big: " + b"a" * 5000 + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 413")


def test_pipelined_requests_are_all_answered(port: int) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=3)
    try:
        sock.sendall(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n" * 3 + b"GET /b HTTP/1.1\r\nHo")
        time.sleep(0.1)
        sock.sendall(b"st: x\r\n\r\n")
        data = _until(sock, b"/b:")
    finally:
        sock.close()
    assert data.count(b"/a:") == 3 and data.endswith(b"/b:")


@pytest.mark.parametrize("data, start, end, done", [
    (b"3\r\nabc\r\n0\r\n\r\n", 0, 13, True),
    (b"3\r\nabc\r\n0\r\nTrailer: 1\r\n\r\n", 0, 25, True),
    (b"3\r\nabc\r\n0\r\n", 0, 8, False),          # the final empty line is missing
    (b"3\r\nab", 0, 0, False),                     # inside a chunk
    (b"10\r\n" + b"x" * 16 + b"\r\n", 0, 22, False),
    (b"zz\r\n", 0, 0, True),                       # malformed: the worker refuses it
])
def test_chunked_end(data: bytes, start: int, end: int, done: bool) -> None:
    assert chunked_end(data, start) == (end, done)


def test_chunked_end_passes_on_a_chunk_over_the_limit() -> None:
    assert chunked_end(b"FFFFFFFFFFFF\r\nabc", 0, most=4096) == (0, True)
