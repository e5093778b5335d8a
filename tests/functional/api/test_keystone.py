"""Auth against a real Keystone (tools/keystone/up.sh): tokens validated by
keystonemiddleware, objects scoped to the token's project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
import webtest
from oslo_config import cfg

from tests.functional.api.conftest import FAIL_WF, assert_fault
from wfaas.api.app import setup_app
from wfaas.config import register_opts

pytestmark = pytest.mark.keystone

KEYSTONE = "http://127.0.0.1:5000/v3"
USERS = {"demo": ("demo", "demo-secret", "demo"), "admin": ("admin", "secret", "admin")}


def _token(who: str) -> tuple[str, str]:
    """(token, project id) of a tools/keystone user."""
    from keystoneauth1 import session
    from keystoneauth1.identity import v3

    user, password, project = USERS[who]
    auth = v3.Password(auth_url=KEYSTONE, username=user, password=password,
                       project_name=project, user_domain_name="Default",
                       project_domain_name="Default")
    sess = session.Session(auth=auth)
    return str(sess.get_token()), str(sess.get_project_id())


@pytest.fixture
def keystone_app(runtime: Any, tmp_path: Path) -> webtest.TestApp:
    pytest.importorskip("keystonemiddleware")
    try:
        requests.get(KEYSTONE, timeout=2)
    except requests.ConnectionError:
        pytest.skip(f"no Keystone at {KEYSTONE}; start one with tools/keystone/up.sh")
    conf_file = tmp_path / "auth.conf"
    conf_file.write_text(
        "[pecan]\nauth_enable = True\n\n[keystone_authtoken]\n"
        f"www_authenticate_uri = {KEYSTONE}\nauth_url = {KEYSTONE}\nauth_type = password\n"
        "username = workflow\npassword = workflow-secret\nproject_name = service\n"
        "user_domain_name = Default\nproject_domain_name = Default\n")
    conf = cfg.ConfigOpts()
    register_opts(conf)
    conf(["--config-file", str(conf_file)], project="wfaas")
    return webtest.TestApp(setup_app(runtime, conf))


def test_tokens_are_validated_and_objects_scoped(keystone_app: webtest.TestApp) -> None:
    app = keystone_app
    app.get("/v2/workflows", status=401)
    app.get("/v2/workflows", status=401, headers={"X-Auth-Token": "not-a-token"})
    demo_token, demo_project = _token("demo")
    admin_token, _ = _token("admin")
    demo = {"X-Auth-Token": demo_token}
    admin = {"X-Auth-Token": admin_token}
    created = app.post("/v2/workflows", FAIL_WF.encode(), status=201,
                       headers={**demo, "Content-Type": "text/plain"}).json["workflows"][0]
    assert created["project_id"] == demo_project
    assert app.get("/v2/workflows/rs_fail", headers=demo).json["id"] == created["id"]
    assert_fault(app.get("/v2/workflows/rs_fail", status=404, headers=admin), 404)
    assert app.get("/v2/workflows", headers=admin).json["workflows"] == []
    everything = app.get("/v2/workflows?all_projects=true", headers=admin).json["workflows"]
    assert [w["id"] for w in everything] == [created["id"]]
    # A member cannot look across projects.
    mine = app.get("/v2/workflows?all_projects=true", headers=demo).json["workflows"]
    assert [w["id"] for w in mine] == [created["id"]]
