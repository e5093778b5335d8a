"""``wfaas`` authenticating with a real Keystone (tools/keystone/up.sh).

The wfaas-server of these tests runs without auth, so what is checked is the
client side: the ``--os-*`` options and ``OS_*`` variables get a token from
Keystone, the token reaches the server, and refused credentials are one
``error: 401`` line.
"""

from __future__ import annotations

import os
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from wfaas.client import AuthOptions, Client
from wfaas.client.errors import AuthError

pytestmark = pytest.mark.keystone

TOOLS = Path(__file__).resolve().parents[3] / "tools" / "keystone"
AUTH_URL = "http://127.0.0.1:5000/v3"


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def keystone_env() -> Iterator[dict[str, str]]:
    """The ``OS_*`` exports of up.sh (Keystone started when needed, stopped after)."""
    was_running = _answers(AUTH_URL)
    proc = subprocess.run([str(TOOLS / "up.sh"), "--quiet"], capture_output=True, text=True,
                          timeout=900, check=False)
    if proc.returncode != 0:
        pytest.fail(f"tools/keystone/up.sh failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    env = {}
    for line in proc.stdout.splitlines():
        if line.startswith("export ") and "=" in line:
            key, _, value = line[len("export "):].partition("=")
            env[key] = value.strip("'\"")
    try:
        yield env
    finally:
        if not was_running and not os.environ.get("WFAAS_KEYSTONE_KEEP"):
            subprocess.run([str(TOOLS / "down.sh")], capture_output=True, timeout=60,
                           check=False)


DEMO = ["--os-auth-url", AUTH_URL, "--os-username", "demo", "--os-password", "demo-secret",
        "--os-project-name", "demo", "--os-user-domain-name", "Default",
        "--os-project-domain-name", "Default"]


def test_password_options_get_a_token(cli, server, keystone_env) -> None:
    client = Client.from_auth(server.url, AuthOptions(
        auth_url=AUTH_URL, username="demo", password="demo-secret", project_name="demo",
        user_domain_name="Default", project_domain_name="Default"))
    token = client.http.session.headers["X-Auth-Token"]
    assert isinstance(token, str) and len(token) > 20
    assert cli.json("environment", "list", *DEMO) == []


def test_os_environment_variables_are_read(cli, keystone_env, monkeypatch) -> None:
    for key, value in (("OS_AUTH_URL", AUTH_URL), ("OS_USERNAME", "demo"),
                       ("OS_PASSWORD", "demo-secret"), ("OS_PROJECT_NAME", "demo"),
                       ("OS_USER_DOMAIN_NAME", "Default"),
                       ("OS_PROJECT_DOMAIN_NAME", "Default")):
        monkeypatch.setenv(key, value)
    assert cli.json("cron-trigger", "list") == []


def test_refused_credentials_are_one_line(cli, keystone_env) -> None:
    bad = [v if v != "demo-secret" else "wrong" for v in DEMO]
    code, out, err = cli("workflow", "list", *bad)
    assert code == 1 and out == ""
    assert err.startswith("error: 401 Keystone refused the credentials")
    assert err.count("\n") == 1
    with pytest.raises(AuthError):
        Client.from_auth(None, AuthOptions(auth_url=AUTH_URL, username="demo",
                                           password="wrong", project_name="demo",
                                           user_domain_name="Default",
                                           project_domain_name="Default"))
