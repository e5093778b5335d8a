"""A loopback HTTP peer that std.http may reach only when the configuration allows it."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

#: a workflow calling std.http on ``url`` and returning the response status
HTTP_WF = """---
version: '2.0'
cfg_http:
  input: [url]
  tasks:
    get:
      action: std.http url=<% $.url %>
      publish:
        status: <% task().result.status %>
  output:
    status: <% $.status %>
"""


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def peer() -> Iterator[str]:
    """``http://127.0.0.1:<port>/`` of a server answering 200 ``{"ok": true}``."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/"
    srv.shutdown()
    srv.server_close()
