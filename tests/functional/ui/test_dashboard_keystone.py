"""The dashboard with Keystone auth on: the page asks for a token, then shows only the
token's project (the API's rules, applied to the browser's own requests)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from selenium.webdriver.common.by import By

from tests.functional.api.test_keystone import KEYSTONE, _token
from tests.functional.client.server import ServerProcess
from tests.functional.ui.conftest import wait_until

pytestmark = [pytest.mark.keystone, pytest.mark.browser]

AUTH_CONF = (
    "[pecan]\nauth_enable = True\n\n[keystone_authtoken]\n"
    f"www_authenticate_uri = {KEYSTONE}\nauth_url = {KEYSTONE}\nauth_type = password\n"
    "username = workflow\npassword = workflow-secret\nproject_name = service\n"
    "user_domain_name = Default\nproject_domain_name = Default\n")
FLOW = "version: '2.0'\n{name}:\n  tasks:\n    only:\n      action: std.noop\n"


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    try:
        requests.get(KEYSTONE, timeout=2)
    except requests.ConnectionError:
        pytest.skip(f"no Keystone at {KEYSTONE}; start one with tools/keystone/up.sh")
    srv = ServerProcess(tmp_path_factory.mktemp("wfaas-ui-auth"), extra_conf=AUTH_CONF).start()
    try:
        yield srv
    finally:
        assert srv.stop() == 0


def _start(srv: ServerProcess, token: str, name: str) -> str:
    headers = {"X-Auth-Token": token}
    made = requests.post(srv.url + "/v2/workflows", data=FLOW.format(name=name),
                         headers={**headers, "Content-Type": "text/plain"}, timeout=30)
    assert made.status_code == 201, made.text
    started = requests.post(srv.url + "/v2/executions", json={"workflow_name": name},
                            headers=headers, timeout=30)
    assert started.status_code == 201, started.text
    return str(started.json()["id"])


def test_token_is_asked_for_and_projects_stay_apart(browser: Any, auth_server: ServerProcess,
                                                    shot: Callable[[str], Path]) -> None:
    demo_token, _ = _token("demo")
    admin_token, _ = _token("admin")
    mine = _start(auth_server, demo_token, "demo_flow")
    theirs = _start(auth_server, admin_token, "admin_flow")
    browser.get(auth_server.url + "/ui/#/executions")
    banner = wait_until(lambda: (b := browser.find_element(By.ID, "login")).is_displayed() and b,
                        what="the token prompt")
    assert "token" in banner.text.lower()
    shot("login")
    browser.find_element(By.ID, "token").send_keys(demo_token)
    browser.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()
    rows = wait_until(lambda: [r.text for r in browser.find_elements(By.CSS_SELECTOR,
                                                                     "main tbody tr")
                               if mine in r.text] and
                      [r.text for r in browser.find_elements(By.CSS_SELECTOR, "main tbody tr")],
                      what="demo's execution listed")
    assert not any(theirs in r for r in rows)
    browser.get(auth_server.url + f"/ui/#/executions/{theirs}")
    wait_until(lambda: "404" in browser.find_element(By.TAG_NAME, "main").text,
               what="another project's execution is not found")
    browser.execute_script("sessionStorage.clear()")
