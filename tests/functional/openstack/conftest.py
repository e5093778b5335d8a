"""A real Keystone + Placement on 127.0.0.1 (tools/keystone/up.sh) for OpenStack action tests.

The session fixture runs ``up.sh`` (idempotent: it reuses a running stack and
its venv) and, when it started the stack itself, stops it with ``down.sh`` at
the end (set ``WFAAS_KEYSTONE_KEEP=1`` to leave it running).
"""

from __future__ import annotations

import os
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from wfaas.actions.base import ActionContext, SecurityContext
from wfaas.actions.openstack.auth import OpenStackSettings
from wfaas.actions.openstack.provider import OpenStackProvider

TOOLS = Path(__file__).resolve().parents[3] / "tools" / "keystone"
AUTH_URL = "http://127.0.0.1:5000/v3"


@dataclass
class Stack:
    """What up.sh reports: the exported variables and the clouds.yaml path."""

    env: dict[str, str]

    @property
    def clouds_file(self) -> str:
        return self.env["OS_CLIENT_CONFIG_FILE"]

    def provider(self, cloud: str) -> OpenStackProvider:
        """A provider whose configured credentials are the given clouds.yaml cloud."""
        return OpenStackProvider(OpenStackSettings(cloud=cloud, region_name="RegionOne"))

    def password_session(self, user: str, password: str, project: str) -> Any:
        from keystoneauth1 import session
        from keystoneauth1.identity import v3

        return session.Session(auth=v3.Password(
            auth_url=AUTH_URL, username=user, password=password, user_domain_name="Default",
            project_name=project, project_domain_name="Default"))

    def caller_context(self, user: str, password: str, project: str) -> ActionContext:
        """The security context the API builds for an authenticated caller (token + catalog)."""
        sess = self.password_session(user, password, project)
        token = sess.get_token()
        body = sess.get(AUTH_URL + "/auth/tokens", headers={"X-Subject-Token": token},
                        authenticated=True).json()
        ref = sess.auth.get_auth_ref(sess)
        return ActionContext(security=SecurityContext(
            auth_token=token, service_catalog=body["token"]["catalog"], auth_uri=AUTH_URL,
            project_id=ref.project_id, project_name=ref.project_name, user_id=ref.user_id,
            user_name=ref.username, region_name="RegionOne", expires_at=body["token"][
                "expires_at"]))


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def keystone() -> Iterator[Stack]:
    was_running = _answers(AUTH_URL)
    proc = subprocess.run([str(TOOLS / "up.sh"), "--quiet"], capture_output=True, text=True,
                          timeout=900)
    if proc.returncode != 0:
        pytest.fail(f"tools/keystone/up.sh failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    env = {}
    for line in proc.stdout.splitlines():
        if line.startswith("export ") and "=" in line:
            key, _, value = line[len("export "):].partition("=")
            env[key] = value
    previous = os.environ.get("OS_CLIENT_CONFIG_FILE")
    os.environ["OS_CLIENT_CONFIG_FILE"] = env["OS_CLIENT_CONFIG_FILE"]
    try:
        yield Stack(env)
    finally:
        if previous is None:
            os.environ.pop("OS_CLIENT_CONFIG_FILE", None)
        else:
            os.environ["OS_CLIENT_CONFIG_FILE"] = previous
        if not was_running and not os.environ.get("WFAAS_KEYSTONE_KEEP"):
            subprocess.run([str(TOOLS / "down.sh")], capture_output=True, timeout=60)
