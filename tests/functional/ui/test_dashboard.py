"""The dashboard at /ui in a real browser (headless Chromium) against a real server:
every page opens, an execution is clicked through (graph, timeline, task detail,
sub-workflow drill-down), one is cancelled and one is started from the input form."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from selenium.webdriver.common.by import By

from tests.functional.client.server import ServerProcess
from tests.functional.ui.conftest import HERE, api, wait_state, wait_until

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def runs(server: ServerProcess) -> dict[str, str]:
    """The demo workflows and three executions: one SUCCESS, one handled error, one slow."""
    definition = (HERE / "deploy.yaml").read_text()
    api(server, "POST", "/v2/workflows", data=definition,
        headers={"Content-Type": "text/plain"})
    api(server, "POST", "/v2/environments", json={"name": "staging",
                                                   "variables": json.dumps({"region": "r1"})})
    ok = api(server, "POST", "/v2/executions", json={"workflow_name": "deploy"})["id"]
    bad = api(server, "POST", "/v2/executions", json={
        "workflow_name": "deploy", "input": json.dumps({"fail_check": True})})["id"]
    wait_state(server, ok, {"SUCCESS"})
    wait_state(server, bad, {"SUCCESS", "ERROR"})
    slow = api(server, "POST", "/v2/executions", json={"workflow_name": "slow"})["id"]
    return {"ok": ok, "bad": bad, "slow": slow}


def _open(browser: Any, server: ServerProcess, fragment: str) -> None:
    browser.get(f"{server.url}/ui/#/{fragment}")


def _texts(browser: Any, css: str) -> list[str]:
    return [e.text for e in browser.find_elements(By.CSS_SELECTOR, css)]


def _no_js_errors(browser: Any) -> None:
    severe = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"
              and "favicon" not in e.get("message", "")]
    assert not severe, severe


def test_executions_list_filters_and_links(browser: Any, server: ServerProcess,
                                           runs: dict[str, str], shot: Callable[[str], Path]
                                           ) -> None:
    _open(browser, server, "executions")
    rows = wait_until(lambda: len(_texts(browser, "main tbody tr")) >= 4 and
                      _texts(browser, "main tbody tr"), what="execution rows")
    assert any(runs["slow"] in row for row in rows)
    assert any("configure_host" in row for row in rows)  # sub-workflow runs are listed too
    shot("executions")
    browser.find_element(By.CSS_SELECTOR, "select[name=state] option[value=RUNNING]").click()
    wait_until(lambda: all("RUNNING" in r for r in _texts(browser, "main tbody tr")) and
               any(runs["slow"] in r for r in _texts(browser, "main tbody tr")),
               what="only RUNNING rows")
    browser.find_element(By.CSS_SELECTOR, "select[name=state] option[value='']").click()
    _no_js_errors(browser)


def test_execution_page_graph_timeline_and_task_detail(browser: Any, server: ServerProcess,
                                                       runs: dict[str, str],
                                                       shot: Callable[[str], Path]) -> None:
    _open(browser, server, f"executions/{runs['bad']}")
    node = wait_until(lambda: browser.find_element(
        By.CSS_SELECTOR, "g.node[data-task=broken]"), what="graph node")
    assert node.get_attribute("data-state") == "ERROR"
    states = {g.get_attribute("data-task"): g.get_attribute("data-state")
              for g in browser.find_elements(By.CSS_SELECTOR, "g.node")}
    assert states["plan"] == "SUCCESS" and states["cleanup"] == "SUCCESS"
    assert states["report"] == ""          # the guard sent the run elsewhere
    assert "4/4 items" in browser.find_element(
        By.CSS_SELECTOR, "g.node[data-task=provision]").text
    timeline = _texts(browser, ".tl-row")
    assert any(t.startswith("provision") and "ms" in t for t in timeline), timeline
    legend = browser.find_element(By.CSS_SELECTOR, ".legend").text
    assert "on-error" in legend and "not taken" in legend
    node.click()
    detail = wait_until(lambda: "health check failed" in (t := browser.find_element(
        By.ID, "task-detail").text) and t, what="task detail")
    assert "Rerun" in detail and "std.fail" in detail
    assert "null" not in detail.split()     # skipped parts leave no stray text
    shot("execution")
    browser.find_element(By.CSS_SELECTOR, "g.node[data-task=configure]").click()
    sub = wait_until(lambda: browser.find_element(
        By.CSS_SELECTOR, "#task-detail a[href^='#/executions/']"), what="sub-workflow link")
    sub.click()
    wait_until(lambda: "configure_host" in browser.find_element(By.CSS_SELECTOR, "main h1").text,
               what="sub-workflow page")
    assert "task configure of its parent execution" in browser.find_element(
        By.TAG_NAME, "main").text
    _no_js_errors(browser)


def test_cancel_button_cancels(browser: Any, server: ServerProcess, runs: dict[str, str],
                               shot: Callable[[str], Path]) -> None:
    _open(browser, server, f"executions/{runs['slow']}")
    wait_until(lambda: browser.find_element(By.CSS_SELECTOR, "g.node[data-task=wait]"),
               what="graph of the slow run")
    shot("execution-running")
    browser.find_element(By.CSS_SELECTOR, "button[data-action=CANCELLED]").click()
    assert wait_state(server, runs["slow"], {"CANCELLED"}, timeout=10) == "CANCELLED"
    wait_until(lambda: "CANCELLED" in browser.find_element(By.CSS_SELECTOR, "main h1").text,
               what="page shows CANCELLED")
    assert not browser.find_elements(By.CSS_SELECTOR, "button[data-action=CANCELLED]")


def test_start_from_the_workflow_form(browser: Any, server: ServerProcess, runs: dict[str, str],
                                      shot: Callable[[str], Path]) -> None:
    wf_id = api(server, "GET", "/v2/workflows/deploy")["id"]
    _open(browser, server, f"workflows/{wf_id}")
    field = wait_until(lambda: browser.find_element(By.CSS_SELECTOR, "input[data-input=hosts]"),
                       what="input form")
    assert json.loads(field.get_attribute("value")) == ["web1", "web2", "web3", "web4"]
    field.clear()
    field.send_keys('["only-one"]')
    browser.find_element(By.CSS_SELECTOR, "select[name=env] option[value=staging]").click()
    wait_until(lambda: browser.find_element(By.CSS_SELECTOR, "g.node[data-task=plan]"),
               what="workflow graph")
    browser.find_element(By.CSS_SELECTOR, "button[data-action=validate]").click()
    wait_until(lambda: "Valid." in browser.find_element(By.TAG_NAME, "main").text,
               what="validation answer")
    shot("workflow")
    browser.find_element(By.CSS_SELECTOR, "#start-form button[type=submit]").click()
    ex_id = wait_until(lambda: (h := browser.execute_script("return location.hash")).startswith(
        "#/executions/") and h.split("/")[-1], what="navigation to the new execution")
    assert wait_state(server, ex_id, {"SUCCESS"}) == "SUCCESS"
    ex = api(server, "GET", f"/v2/executions/{ex_id}")
    assert json.loads(ex["input"])["hosts"] == ["only-one"]
    assert json.loads(ex["params"])["env"] == {"region": "r1"}   # the environment, resolved


def test_actions_triggers_and_environments_pages(browser: Any, server: ServerProcess,
                                                 runs: dict[str, str],
                                                 shot: Callable[[str], Path]) -> None:
    api(server, "POST", "/v2/cron_triggers", json={
        "name": "nightly", "workflow_name": "deploy", "pattern": "0 3 * * *"})
    _open(browser, server, "actions")
    box = wait_until(lambda: browser.find_element(By.CSS_SELECTOR, "input[name=filter]"),
                     what="action filter")
    box.send_keys("std.http")
    wait_until(lambda: _texts(browser, "main tbody tr") and
               all("std.http" in r for r in _texts(browser, "main tbody tr")), what="filtered")
    browser.find_element(By.LINK_TEXT, "std.http").click()
    wait_until(lambda: "url" in _texts(browser, "main td.mono"), what="std.http parameters")
    rows = {r.split()[0]: r for r in _texts(browser, "main tbody tr")}
    assert list(rows)[0] == "url" and "yes" in rows["url"]          # required first
    assert rows["method"].split()[1:] == ["string", '"GET"']        # type and default
    schema = json.loads(browser.find_element(By.CSS_SELECTOR, "main pre.schema").text)
    assert schema["required"] == ["url"] and schema["type"] == "object"
    shot("action")
    _open(browser, server, "cron_triggers")
    wait_until(lambda: any("nightly" in r and "0 3 * * *" in r
                           for r in _texts(browser, "main tbody tr")), what="cron trigger")
    _open(browser, server, "environments")
    wait_until(lambda: any("staging" in r for r in _texts(browser, "main tbody tr")),
               what="environment")
    _open(browser, server, "workbooks")
    wait_until(lambda: "Workbooks" in browser.find_element(By.TAG_NAME, "h1").text,
               what="workbooks page")
    _no_js_errors(browser)


def test_graph_endpoint_lays_out_and_refuses_bad_input(server: ServerProcess) -> None:
    definition = (HERE / "deploy.yaml").read_text()
    graph = api(server, "POST", "/v2/graphs", json={"definition": definition,
                                                    "workflow": "deploy"})
    names = {n["name"] for n in graph["nodes"] if not n["dummy"]}
    assert names == {"plan", "provision", "notify", "configure", "check", "broken", "cleanup",
                     "report"}
    layers = {n["name"]: n["layer"] for n in graph["nodes"]}
    assert layers["plan"] < layers["provision"] < layers["configure"] < layers["check"]
    bad = requests.post(server.url + "/v2/graphs", json={"definition": "version: '2.0'\nx: ["},
                        timeout=10)
    assert bad.status_code == 400
    missing = requests.post(server.url + "/v2/graphs", json={"definition": definition,
                                                             "workflow": "nope"}, timeout=10)
    assert missing.status_code == 400 and "nope" in missing.text
    wrong = requests.post(server.url + "/v2/graphs", json={"definition": definition,
                                                           "tasks": {"a": 1}}, timeout=10)
    assert wrong.status_code == 400 and "tasks" in wrong.text


def test_assets_are_served_safely(server: ServerProcess) -> None:
    moved = requests.get(server.url + "/ui", allow_redirects=False, timeout=10)
    assert moved.status_code == 302 and moved.headers["Location"] == "/ui/"
    page = requests.get(server.url + "/ui/", timeout=10)
    assert page.status_code == 200 and "core.js" in page.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    script = requests.get(server.url + "/ui/core.js", timeout=10)
    assert script.headers["Content-Type"].startswith("text/javascript")
    for path in ("/ui/../wfaas.conf", "/ui/%2e%2e/wfaas.conf", "/ui/nope.js"):
        assert requests.get(server.url + path, timeout=10).status_code == 404, path
    assert requests.post(server.url + "/ui/", timeout=10).status_code == 405


def test_precise_times_only_when_asked(server: ServerProcess, runs: dict[str, str]) -> None:
    plain = api(server, "GET", f"/v2/executions/{runs['ok']}")
    precise = api(server, "GET", f"/v2/executions/{runs['ok']}",
                  headers={"X-Wfaas-Precise-Times": "1"})
    assert len(plain["created_at"]) == 19          # Mistral's "YYYY-MM-DD hh:mm:ss"
    assert precise["created_at"].startswith(plain["created_at"] + ".")
