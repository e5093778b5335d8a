"""One ``wfaas-server`` with Keystone authentication (tools/keystone/up.sh) for the whole
isolation suite, and the tokens of its two projects: ``admin`` (user admin, role admin)
and ``demo`` (user demo, role member)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.functional.client.server import ServerProcess

KEYSTONE = "http://127.0.0.1:5000/v3"
USERS = {"admin": ("admin", "secret", "admin"), "demo": ("demo", "demo-secret", "demo")}
AUTH_CONF = f"""
[pecan]
auth_enable = True

[keystone_authtoken]
www_authenticate_uri = {KEYSTONE}
auth_url = {KEYSTONE}
auth_type = password
username = workflow
password = workflow-secret
project_name = service
user_domain_name = Default
project_domain_name = Default

[openstack_actions]
auth_url = {KEYSTONE}
username = workflow
password = workflow-secret
project_name = service
user_domain_name = Default
project_domain_name = Default
"""


@dataclass
class Caller:
    """A project's user talking to the server with its token."""

    name: str
    url: str
    token: str
    project_id: str

    def call(self, method: str, path: str, *, json: Any = None, text: str | None = None,
             token: bool = True) -> requests.Response:
        headers = {"X-Auth-Token": self.token} if token else {}
        data = None
        if text is not None:
            headers["Content-Type"] = "text/plain"
            data = text.encode()
        return requests.request(method, self.url + path, json=json, data=data,
                                headers=headers, timeout=60)


def _token(who: str) -> tuple[str, str]:
    from keystoneauth1 import session
    from keystoneauth1.identity import v3

    user, password, project = USERS[who]
    sess = session.Session(auth=v3.Password(
        auth_url=KEYSTONE, username=user, password=password, project_name=project,
        user_domain_name="Default", project_domain_name="Default"))
    return str(sess.get_token()), str(sess.get_project_id())


def _keystone_up() -> bool:
    try:
        with urllib.request.urlopen(KEYSTONE, timeout=2):
            return True
    except OSError:
        return False


class AuthServer(ServerProcess):
    """A server whose ``GET /v2`` answers 401 without a token: ready when it answers."""

    def start(self, timeout: float = 60.0) -> AuthServer:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "wfaas.cmd.server", "--config-file",
                 str(self.conf_file)], stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"wfaas-server exited: {self.log.read_text()[-3000:]}")
            try:
                if requests.get(self.url + "/v2", timeout=1).status_code == 401:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"wfaas-server did not answer in {timeout} s")


@pytest.fixture(scope="package")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    pytest.importorskip("keystonemiddleware")
    if not _keystone_up():
        pytest.skip(f"no Keystone at {KEYSTONE}; start one with tools/keystone/up.sh")
    workdir: Path = tmp_path_factory.mktemp("isolation")
    server = AuthServer(workdir, AUTH_CONF).start(timeout=120)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="package")
def admin(auth_server: AuthServer) -> Caller:
    return Caller("admin", auth_server.url, *_token("admin"))


@pytest.fixture(scope="package")
def demo(auth_server: AuthServer) -> Caller:
    return Caller("demo", auth_server.url, *_token("demo"))
