"""Lean socket files of a plain-TCP API connection, for cheroot.

cheroot reads each request through its ``StreamReader``, a subclass of the pure-Python
``_pyio.BufferedReader``: the request line and every header line go through
``IOBase.readline``'s peek/read loop in Python, about 50 microseconds of CPU per
request of a client's 5 lines (a poll ``GET /v2/executions/<id>``) against 7 for
the C reader. :class:`SocketReader` keeps one ``bytes`` buffer and finds line ends
with ``bytes.find``; it offers what cheroot calls on a connection's ``rfile``
(``readline``, ``read``, iteration, ``has_data``, ``close``, ``bytes_read``) with
the blocking semantics of a buffered reader: ``read(n)`` returns ``n`` bytes unless
the peer closes first, ``readline(n)`` stops at a newline, at ``n`` bytes or at the
end. Socket timeouts and errors propagate as they do from cheroot's reader.

:class:`SocketWriter` sends each write with ``sendall`` (cheroot's ``StreamWriter``,
a ``_pyio.BufferedWriter``, copies it through a bytearray first and also sends at
once). :class:`LeanConnection` is cheroot's ``HTTPConnection`` with both on plain TCP
(TLS connections keep the adapter's file objects).
"""

from __future__ import annotations

import socket
import time
from typing import Any

from cheroot.makefile import MakeFile
from cheroot.server import HTTPConnection

#: bytes asked of the socket per receive (a request's headers arrive in one)
RECV_SIZE = 65536
#: most bytes asked of the socket at once by a long read: ``recv(n)`` allocates ``n``
#: bytes first, and ``n`` comes from the client (a chunk's declared size)
MAX_RECV = 1 << 20


class SocketReader:
    """The reading side of one socket, buffered (see the module's docstring)."""

    def __init__(self, sock: socket.socket, recv_size: int = RECV_SIZE) -> None:
        self._sock = sock
        self._recv_size = recv_size
        self._buf = b""
        self._pos = 0
        self.bytes_read = 0
        self.closed = False
        #: when set (``time.monotonic()``), receiving after it raises the timeout cheroot
        #: answers with 408: the request gate's bound on a request's arrival
        self.deadline: float | None = None
        #: the request gate's progress on a request not passed on yet: bytes needed in
        #: all (a body of known length), or where its scan of a chunked body stands
        self.gate_need: int | None = None
        self.gate_scan: int | None = None

    def has_data(self) -> bool:
        """Whether bytes already received wait in the buffer (a pipelined request)."""
        return self._pos < len(self._buf)

    def buffer(self) -> tuple[bytes, int]:
        """The buffer and the position of its first unread byte (no copy)."""
        return self._buf, self._pos

    def replace_pending(self, data: bytes) -> None:
        """Replace the unread bytes with ``data`` (the request gate edits a head)."""
        self._buf, self._pos = data, 0

    def _recv(self, size: int) -> bytes:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise TimeoutError("timed out")
        return self._sock.recv(size)

    def fill(self) -> bool:
        """Receive more (blocking); False at the end of the stream."""
        return self._fill()

    def _fill(self) -> bool:
        """Receive more; False at the end of the stream."""
        data = self._recv(self._recv_size)
        if not data:
            return False
        self._buf = self._buf[self._pos:] + data if self._pos < len(self._buf) else data
        self._pos = 0
        return True

    def _take(self, n: int) -> bytes:
        start = self._pos
        self._pos = start + n
        self.bytes_read += n
        return self._buf[start:start + n]

    def readline(self, size: int | None = -1) -> bytes:
        """One line with its newline; at most ``size`` bytes when ``size`` >= 0."""
        limit = -1 if size is None else size
        while True:
            buf, pos = self._buf, self._pos
            end = buf.find(b"\n", pos)
            if end >= 0 and (limit < 0 or end - pos < limit):
                return self._take(end + 1 - pos)
            if 0 <= limit <= len(buf) - pos:
                return self._take(limit)
            if not self._fill():
                return self._take(len(self._buf) - self._pos)

    def read(self, size: int | None = -1) -> bytes:
        """``size`` bytes (fewer only at the end of the stream); all of it when negative."""
        limit = -1 if size is None else size
        have = len(self._buf) - self._pos
        if 0 <= limit <= have:
            return self._take(limit)
        parts = [self._take(have)]
        got = have
        while limit < 0 or got < limit:
            data = self._recv(self._recv_size if limit < 0 else
                              min(max(self._recv_size, limit - got), MAX_RECV))
            if not data:
                break
            if limit >= 0 and got + len(data) > limit:  # keep the rest for the next read
                keep = limit - got
                self._buf, self._pos = data, keep
                data = data[:keep]
            parts.append(data)
            got += len(data)
            self.bytes_read += len(data)
        return b"".join(parts)

    def __iter__(self) -> SocketReader:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def close(self) -> None:
        """Forget the buffer (the connection closes the socket itself)."""
        self.closed = True
        self._buf, self._pos = b"", 0


class SocketWriter:
    """The writing side of one socket, unbuffered: cheroot's ``StreamWriter`` writes
    every call through at once too, after copying it through a ``_pyio`` buffer."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.bytes_written = 0
        self.closed = False

    def write(self, data: bytes) -> int:
        """Send all of ``data`` (socket timeouts and errors propagate)."""
        if isinstance(data, str):
            raise TypeError("can't write str to binary stream")
        self._sock.sendall(data)
        self.bytes_written += len(data)
        return len(data)

    def flush(self) -> None:
        """Nothing is buffered."""

    def close(self) -> None:
        """Mark closed (the connection closes the socket itself)."""
        self.closed = True


def _makefile(sock: Any, mode: str = "r", bufsize: int = -1) -> Any:
    """cheroot's ``MakeFile`` with :class:`SocketReader` / :class:`SocketWriter`."""
    return SocketReader(sock) if "r" in mode else SocketWriter(sock)


class LeanConnection(HTTPConnection):
    """cheroot's connection using :class:`SocketReader` / :class:`SocketWriter` on plain
    TCP."""

    def __init__(self, server: Any, sock: Any, makefile: Any = MakeFile) -> None:
        super().__init__(server, sock, _makefile if makefile is MakeFile else makefile)
