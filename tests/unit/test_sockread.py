"""``SocketReader`` (wfaas/cmd/sockread.py) reads what cheroot's own reader reads."""

from __future__ import annotations

import http.client
import random
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cheroot.makefile import StreamReader

from tests.unit.served import served
from wfaas.cmd.sockread import SocketReader, SocketWriter

STREAM = (b"POST /v2/executions HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\n\r\n"
          b'{"workflow_name": "w", "a": 1}'
          b"GET /v2/executions/1 HTTP/1.1\r\n" + b"X-Long: " + b"y" * 700 + b"\r\n\r\n"
          b"no newline at the end")

Op = Callable[[Any], bytes]


def _line(reader: Any) -> bytes:
    """A line as cheroot's ``SizeCheckWrapper.readline`` reads it: 256 bytes at a time
    (``_pyio``'s reader may hand back more than 256 once a line spans two receives)."""
    parts = []
    while True:
        data = reader.readline(256)
        parts.append(data)
        if len(data) < 256 or data[-1:] == b"\n":
            return b"".join(parts)


#: the calls cheroot makes on a connection's rfile, in a request-like order
OPS: list[Op] = [_line, _line, _line, _line, lambda r: r.read(30), lambda r: r.readline(),
                 _line, _line, lambda r: r.read(5), lambda r: r.read(), lambda r: r.readline(),
                 lambda r: r.read(3)]


def _run(make: Callable[[socket.socket], Any], chunks: list[bytes]) -> list[bytes]:
    a, b = socket.socketpair()
    try:
        def send() -> None:
            for chunk in chunks:
                a.sendall(chunk)
            a.shutdown(socket.SHUT_WR)

        sender = threading.Thread(target=send)
        sender.start()
        reader = make(b)
        answers = [op(reader) for op in OPS]
        sender.join(10)
        return answers
    finally:
        a.close()
        b.close()


def _chunks(rng: random.Random) -> list[bytes]:
    cuts = sorted(rng.sample(range(1, len(STREAM)), rng.randint(0, 12)))
    return [STREAM[i:j] for i, j in zip([0, *cuts], [*cuts, len(STREAM)], strict=True)]


@pytest.mark.parametrize("seed", range(12))
def test_the_same_bytes_as_cheroots_reader_however_the_stream_is_cut(seed: int) -> None:
    chunks = _chunks(random.Random(seed))
    ours = _run(SocketReader, chunks)
    theirs = _run(lambda s: StreamReader(s, "rb", 8192), chunks)
    assert ours == theirs
    assert b"".join(ours) == STREAM  # every byte once, in order
    assert ours[4] == b'{"workflow_name": "w", "a": 1}'
    assert ours[5] == b"GET /v2/executions/1 HTTP/1.1\r\n"
    assert ours[6] == b"X-Long: " + b"y" * 700 + b"\r\n"
    assert ours[-2:] == [b"", b""]


def test_a_small_receive_size_and_the_byte_count() -> None:
    a, b = socket.socketpair()
    try:
        a.sendall(b"abc\ndefgh\nij")
        a.shutdown(socket.SHUT_WR)
        reader = SocketReader(b, recv_size=2)
        assert reader.readline() == b"abc\n"
        assert reader.readline(3) == b"def"
        assert reader.has_data() or reader.read(0) == b""
        assert list(reader) == [b"gh\n", b"ij"]
        assert reader.bytes_read == 12
    finally:
        a.close()
        b.close()


def _echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["PATH_INFO"].encode() + b":" + environ["wsgi.input"].read(length)
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture
def echo_port() -> Iterator[int]:
    with served(_echo, threads=4) as (_api, port):
        yield port


def test_pipelined_requests_and_a_body_sent_in_pieces_are_served(echo_port: int) -> None:
    body = b"x" * 100_000
    with socket.create_connection(("127.0.0.1", echo_port), timeout=20) as s:
        # two requests in one send: the second waits in the reader's buffer
        s.sendall(b"GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\n")
        head = f"POST /three HTTP/1.1\r\nHost: a\r\nContent-Length: {len(body)}\r\n\r\n"
        s.sendall(head.encode() + body[:10])
        s.sendall(body[10:])
        s.sendall(b"GET /four HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        received = b""
        while chunk := s.recv(65536):
            received += chunk
    bodies = [b"/one:", b"/two:", b"/three:" + body, b"/four:"]
    assert received.count(b"HTTP/1.1 200 OK") == 4
    position = 0
    for expected in bodies:  # in order, each whole
        position = received.index(expected, position) + len(expected)


def test_a_keep_alive_client_is_answered_through_the_lean_reader(echo_port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", echo_port, timeout=20)
    try:
        for i in range(30):
            conn.request("POST", f"/r{i}", body=b"b" * i)
            assert conn.getresponse().read() == f"/r{i}:".encode() + b"b" * i
    finally:
        conn.close()


def test_the_writer_sends_everything_and_counts_it() -> None:
    a, b = socket.socketpair()
    try:
        writer = SocketWriter(b)
        big = bytes(range(256)) * 8192  # 2 MB: more than one send
        received: list[bytes] = []

        def drain() -> None:
            while chunk := a.recv(1 << 16):
                received.append(chunk)

        reader = threading.Thread(target=drain)
        reader.start()
        assert writer.write(b"head") == 4
        assert writer.write(big) == len(big)
        writer.flush()
        with pytest.raises(TypeError):
            writer.write("text")  # type: ignore[arg-type]
        b.shutdown(socket.SHUT_WR)
        reader.join(20)
        assert b"".join(received) == b"head" + big
        assert writer.bytes_written == 4 + len(big)
    finally:
        a.close()
        b.close()


def test_a_large_response_reaches_the_client_whole(echo_port: int) -> None:
    body = b"z" * 3_000_000
    conn = http.client.HTTPConnection("127.0.0.1", echo_port, timeout=30)
    try:
        conn.request("POST", "/big", body=body)
        assert conn.getresponse().read() == b"/big:" + body
    finally:
        conn.close()
