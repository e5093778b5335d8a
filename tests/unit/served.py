"""A real ``ApiServer`` (wfaas/cmd/server.py) on a free loopback port, for the tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from wfaas.cmd.server import ApiServer


@contextmanager
def served(app: Any, **options: Any) -> Iterator[tuple[ApiServer, int]]:
    """Serve the WSGI ``app`` in a thread; yields the server and its port."""
    api = ApiServer(app, "127.0.0.1", 0, **options)
    _host, port = api.prepare()
    thread = threading.Thread(target=api.serve, daemon=True)
    thread.start()
    try:
        yield api, port
    finally:
        api.stop()
        thread.join(10)
