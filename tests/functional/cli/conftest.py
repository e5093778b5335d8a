"""A real ``wfaas-server`` subprocess on a free loopback port with a temporary
SQLite database, shared by the CLI functional tests of one module."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from wfaas.cmd.cli import main


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A running wfaas-server: its URL and log."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v2"
        self.log = root / "server.log"
        conf = root / "wfaas.conf"
        conf.write_text(f"[DEFAULT]\nstate_dir = {root}\n"
                        f"[database]\nconnection = sqlite:///{root}/wfaas.db\n"
                        f"[api]\nhost = 127.0.0.1\nport = {self.port}\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", "import sys; from wfaas.cmd.server import main; "
                 "sys.exit(main())", "--config-file", str(conf)],
                stdout=log, stderr=subprocess.STDOUT, env=env)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"wfaas-server exited: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(self.url, timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"wfaas-server not ready in {timeout} s: "
                           f"{self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("cli-server"))
    try:
        yield srv
    finally:
        srv.stop()


class CLI:
    """Runs ``wfaas`` in-process against the server; returns (code, stdout, stderr)."""

    def __init__(self, server: Server, capsys: pytest.CaptureFixture[str]) -> None:
        self.server, self.capsys = server, capsys

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(["--url", self.server.url, "--no-color", *argv])
        out, err = self.capsys.readouterr()
        return code, out, err

    def ok(self, *argv: str) -> str:
        code, out, err = self(*argv)
        assert code == 0, f"wfaas {' '.join(argv)} -> {code}: {err}"
        return out

    def json(self, *argv: str) -> Any:
        return json.loads(self.ok(*argv, "-f", "json"))


@pytest.fixture
def cli(server: Server, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> CLI:
    for name in list(os.environ):
        if name.startswith("OS_") or name in ("WFAAS_URL", "NO_COLOR"):
            monkeypatch.delenv(name, raising=False)
    return CLI(server, capsys)


Writer = Callable[[str, str], str]


@pytest.fixture
def write(tmp_path: Path) -> Writer:
    def _write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)
    return _write
