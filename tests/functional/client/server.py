"""A real ``wfaas-server`` subprocess on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(condition: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll ``condition`` every 50 ms until it returns something truthy or ``timeout``
    passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


class ServerProcess:
    """``python -m wfaas.cmd.server --config-file <tmp>/wfaas.conf`` with its own SQLite."""

    def __init__(self, workdir: Path, extra_conf: str = "", args: tuple[str, ...] = ()) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.conf_file = workdir / "wfaas.conf"
        self.conf_file.write_text(
            f"[DEFAULT]\nstate_dir = {workdir}\n\n[database]\n"
            f"connection = sqlite:///{workdir}/wfaas.db\n\n"
            f"[api]\nhost = 127.0.0.1\nport = {self.port}\n{extra_conf}")
        self.log = workdir / "server.log"
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> ServerProcess:
        """Start it and wait until ``GET /v2`` answers."""
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "wfaas.cmd.server", "--config-file",
                 str(self.conf_file), *self.args], stdout=log, stderr=subprocess.STDOUT,
                env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"wfaas-server exited: {self.log.read_text()[-3000:]}")
            try:
                # 200, or 401 when Keystone auth is on: either way the API answers
                if requests.get(self.url + "/v2", timeout=1).status_code in (200, 401):
                    return self
            except (requests.ConnectionError, requests.Timeout):
                pass  # not listening yet, or busy finishing its start on a loaded machine
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"wfaas-server did not answer in {timeout} s: "
                           f"{self.log.read_text()[-3000:]}")

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, wait for a clean exit; returns the exit code (kills after timeout)."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return int(self.proc.returncode)
