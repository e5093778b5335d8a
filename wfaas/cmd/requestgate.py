"""A worker thread gets a connection only once its whole request has arrived.

cheroot hands a connection to one of its worker threads as soon as the connection is
accepted or becomes readable; the worker then blocks reading the request line, the
headers and the body. A client that sends its request a byte at a time (slowloris, or
a slow POST body) holds a worker for as long as it keeps sending, and a few dozen such
connections hold every worker: the API stops answering everyone.

:class:`RequestGate` stands in front of ``server.process_conn``. It reads what has
arrived, without blocking, into the connection's
:class:`~wfaas.cmd.sockread.SocketReader`, and passes the connection on only when the
buffer holds a complete request: the head and, up to ``max_body`` bytes, the body
(by ``Content-Length``, or to the last chunk of a chunked body). Otherwise the
connection goes back to cheroot's selector and comes back here when more bytes arrive.

- A request must arrive within ``window`` seconds of its first byte: cheroot's expiry
  closes a waiting connection whose ``last_used`` is older than its ``timeout``, and the
  gate sets ``last_used`` only when a request's first byte arrives.
- A head over ``max_head`` bytes, or a body over ``max_body``, is passed on at once, for
  cheroot (``max_request_header_size``) or the API (``[api] max_body_size_kb``) to refuse
  without reading it.
- ``Expect: 100-continue``: the gate answers ``100 Continue`` itself (the client sends
  the body only then), removes the header, and waits for the body like any other.
- Once passed on, the reader gets a deadline (the request's first byte plus the window)
  after which a receive fails with the timeout cheroot answers with 408.

Connections over TLS keep cheroot's own path.
"""

from __future__ import annotations

import re
import select
import selectors
import time
from typing import Any

from wfaas.cmd.sockread import SocketReader

_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*(\d{1,18})[ \t]*\r?$", re.I | re.M)
_CHUNKED = re.compile(rb"^transfer-encoding[ \t]*:[^\n]*chunked", re.I | re.M)
_CONTINUE = re.compile(rb"^expect[ \t]*:[ \t]*100-continue[ \t]*\r?\n", re.I | re.M)
_CHUNK_SIZE = re.compile(rb"[0-9a-fA-F]{1,16}")
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def _head_end(data: bytes, start: int, stop: int) -> tuple[int, int]:
    """(end of the head, start of the body) in ``data[start:stop]``, as offsets in
    ``data``; (-1, -1) while incomplete."""
    end = data.find(b"\r\n\r\n", start, stop)
    if end >= 0:
        return end + 2, end + 4
    end = data.find(b"\n\n", start, stop)
    return (end + 1, end + 2) if end >= 0 else (-1, -1)


def chunked_end(data: bytes, pos: int, most: int = 1 << 62) -> tuple[int, bool]:
    """Scan a chunked body in ``data`` from ``pos`` (the start of a chunk's size line):
    (where the scan stopped, whether the body ended there). Resumable: call again from
    the returned position when more has arrived. A malformed size, or a chunk over
    ``most`` bytes, ends the scan (the worker refuses it)."""
    while True:
        eol = data.find(b"\n", pos)
        if eol < 0:
            return pos, False
        size = _CHUNK_SIZE.match(data, pos)
        if size is None:
            return pos, True
        length = int(size.group(), 16)
        if length > most:
            return pos, True
        if length == 0:  # trailers, then an empty line
            line = eol + 1
            while True:
                nxt = data.find(b"\n", line)
                if nxt < 0:
                    return pos, False
                if data[line:nxt].strip() == b"":
                    return nxt + 1, True
                line = nxt + 1
        after = eol + 1 + length + 2
        if after > len(data):
            return pos, False
        pos = after


class RequestGate:
    """Replaces ``server.process_conn`` (see the module's docstring)."""

    def __init__(self, server: Any, max_head: int, max_body: int) -> None:
        self._server = server
        self._dispatch = server.process_conn
        self.max_head = max_head
        self.max_body = max_body
        server.max_request_header_size = max_head
        server.process_conn = self.process_conn

    @property
    def window(self) -> float:
        """Seconds a request may take to arrive: cheroot's socket timeout."""
        return float(self._server.timeout)

    def process_conn(self, conn: Any) -> None:
        """Queue ``conn`` for a worker once its request is complete; else wait for more."""
        try:
            ready = self.ready_now(conn)
        except OSError:
            conn.close()
            return
        if ready:
            self._dispatch(conn)
            return
        self._server._connections._selector.register(
            conn.socket.fileno(), selectors.EVENT_READ, data=conn)

    def ready_now(self, conn: Any, wait: float = 0.0) -> bool:
        """Buffer what arrives on ``conn`` within ``wait`` seconds (0: what has arrived)
        and tell whether its request is complete (then the reader gets its deadline).
        A worker thread about to serve the connection waits a little: clients send a
        body in a second segment just after the head. Raises OSError when the client
        closed the connection."""
        reader = conn.rfile
        if not isinstance(reader, SocketReader):
            return True
        fresh = not reader.has_data()
        complete = self._complete(conn, reader)
        until = time.monotonic() + wait
        while not complete and readable(conn.socket, max(0.0, until - time.monotonic())):
            if not reader.fill():
                raise ConnectionResetError("closed by the client")
            if fresh or conn.last_used is None:
                conn.last_used = time.time()  # the request's window starts
                fresh = False
            complete = self._complete(conn, reader)
        if not complete:
            if conn.last_used is None:
                conn.last_used = time.time()
            return False
        reader.deadline = time.monotonic() - (time.time() - conn.last_used) + self.window
        reader.gate_need = reader.gate_scan = None  # the next request starts afresh
        return True

    def _complete(self, conn: Any, reader: SocketReader) -> bool:
        """Whether the buffer holds a request a worker can read without waiting."""
        buf, pos = reader.buffer()
        if reader.gate_need is not None:  # the head was read: a body of known length
            return len(buf) - pos >= reader.gate_need
        if reader.gate_scan is not None:  # the head was read: a chunked body
            end, done = chunked_end(buf, pos + reader.gate_scan, self.max_body)
            reader.gate_scan = end - pos
            return done or len(buf) - pos > self.max_head + self.max_body
        while buf.startswith((b"\r", b"\n"), pos):  # blank lines before a request
            pos += 1
        head, body = _head_end(buf, pos, pos + self.max_head + 4)
        if head < 0:
            return len(buf) - pos > self.max_head
        if head - pos > self.max_head:
            return True
        head_bytes = buf[pos:head]
        if _CONTINUE.search(head_bytes):
            self._continue(conn, reader, head_bytes, pos, head)
            return self._complete(conn, reader)
        if _CHUNKED.search(head_bytes):
            reader.gate_scan = body - reader.buffer()[1]
            return self._complete(conn, reader)
        found = _LENGTH.search(head_bytes)
        if found is None or int(found.group(1)) > self.max_body:
            return True  # no body, a malformed length (400) or too long a body (413)
        reader.gate_need = body - reader.buffer()[1] + int(found.group(1))
        return self._complete(conn, reader)

    @staticmethod
    def _continue(conn: Any, reader: SocketReader, head_bytes: bytes, start: int,
                  head: int) -> None:
        """Answer ``100 Continue`` and drop the ``Expect`` header from the buffer."""
        conn.wfile.write(CONTINUE)
        buf, pos = reader.buffer()
        reader.replace_pending(buf[pos:start] + _CONTINUE.sub(b"", head_bytes, count=1)
                               + buf[head:])


def readable(sock: Any, wait: float = 0.0) -> bool:
    """Whether a receive on ``sock`` would return within ``wait`` seconds (data or the
    end). poll, not select: a busy server has descriptors above select's 1024."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(wait * 1000))

