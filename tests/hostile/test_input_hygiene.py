"""Hostile input at the edge (issue 14, items 7 and 8) against a real ``wfaas-server``.

Each reproduction is refused with a 400 whose message names the field and the
problem, nothing is stored, and the server keeps answering. Self-contained: one
server for the module (tests/functional/client/server.py's ServerProcess).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.functional.client.server import ServerProcess

DEEP = "[" * 10000 + "]" * 10000
WF = "version: '2.0'\nhyg_wf:\n  input: [x]\n  tasks:\n    t:\n      action: std.noop\n"


def deep_json_text(key: str = "a") -> str:
    """A JSON object text whose value is nested 10,000 levels deep."""
    return '{"' + key + '": ' + DEEP + "}"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = ServerProcess(tmp_path_factory.mktemp("hygiene")).start()
    try:
        resp = requests.post(server.url + "/v2/workflows", data=WF,
                             headers={"Content-Type": "text/plain"}, timeout=30)
        assert resp.status_code == 201, resp.text
        yield server.url
    finally:
        assert server.stop() == 0, server.log.read_text()[-3000:]


def post_raw(url: str, path: str, text: str) -> requests.Response:
    """POST ``text`` as it is (requests would refuse to encode NaN or build 10,000 levels)."""
    return requests.post(url + path, data=text.encode("utf-8"),
                         headers={"Content-Type": "application/json"}, timeout=60)


def assert_refused(resp: requests.Response, *needles: str) -> None:
    """A 400 in Mistral's fault format whose message contains every needle."""
    assert resp.status_code == 400, (resp.status_code, resp.text[:500])
    message = resp.json()["faultstring"]
    for needle in needles:
        assert needle in message, message


def count(url: str, collection: str) -> int:
    resp = requests.get(f"{url}/v2/{collection}", timeout=30)
    assert resp.status_code == 200, resp.text
    return len(resp.json()[collection])


@pytest.fixture
def still_serving(url: str) -> Iterator[None]:
    """After the test: the server answers and stored nothing from the refused requests."""
    before = {c: count(url, c) for c in ("executions", "environments", "cron_triggers")}
    yield
    assert requests.get(url + "/v2", timeout=5).status_code == 200
    assert {c: count(url, c) for c in before} == before


# ------------------------------------------------------------------ item 7: nesting depth

DEEP_CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("/v2/executions", "input", {"workflow_name": "hyg_wf"}, "input"),
    ("/v2/executions", "params", {"workflow_name": "hyg_wf", "input": {"x": 1}}, "params"),
    ("/v2/environments", "variables", {"name": "hyg_env"}, "variables"),
    ("/v2/cron_triggers", "workflow_input",
     {"name": "hyg_cron", "workflow_name": "hyg_wf", "pattern": "0 0 * * *"}, "workflow_input"),
    ("/v2/action_executions", "input", {"name": "std.echo"}, "input"),
    ("/v2/event_triggers", "workflow_input",
     {"name": "hyg_ev", "workflow_id": "hyg_wf", "exchange": "x", "topic": "t",
      "event": "e"}, "workflow_input"),
]


@pytest.mark.parametrize(("path", "field", "body", "named"), DEEP_CASES,
                         ids=[f"{c[0]}:{c[1]}" for c in DEEP_CASES])
@pytest.mark.usefixtures("still_serving")
def test_deep_json_string_field_is_a_400_naming_the_field(
        url: str, path: str, field: str, body: dict[str, Any], named: str) -> None:
    # what python-mistralclient sends: the field as a JSON-encoded string
    resp = requests.post(url + path, json={**body, field: deep_json_text()}, timeout=60)
    assert_refused(resp, f"'{named}'", "nested deeper than 100 levels", "max_json_depth")


@pytest.mark.parametrize(("path", "field", "body", "named"), DEEP_CASES,
                         ids=[f"{c[0]}:{c[1]}" for c in DEEP_CASES])
@pytest.mark.usefixtures("still_serving")
def test_deep_json_object_field_is_a_400(url: str, path: str, field: str,
                                         body: dict[str, Any], named: str) -> None:
    text = json.dumps(body)[:-1] + f', "{field}": {deep_json_text()}}}'
    assert_refused(post_raw(url, path, text), "request body", "nested deeper than 100 levels")


@pytest.mark.usefixtures("still_serving")
def test_deep_event_payload_is_a_400(url: str) -> None:
    text = '{"exchange": "x", "topic": "t", "event": "e", "payload": ' + DEEP + "}"
    assert_refused(post_raw(url, "/v2/event_triggers/events", text), "nested deeper")


@pytest.mark.usefixtures("still_serving")
def test_moderate_nesting_is_still_accepted(url: str) -> None:
    nested: Any = "leaf"
    for _ in range(90):
        nested = {"n": nested}
    resp = requests.post(url + "/v2/executions",
                         json={"workflow_name": "hyg_wf", "input": json.dumps({"x": nested})},
                         timeout=30)
    assert resp.status_code == 201, resp.text
    ex_id = resp.json()["id"]
    assert requests.delete(f"{url}/v2/executions/{ex_id}?force=true",
                           timeout=30).status_code in (204, 409)


# ------------------------------------------------------------- item 7: invalid Unicode

SURROGATE_CASES = [
    ("/v2/executions", '{"workflow_name": "hyg_wf", "input": {"x": "\\ud800"}}',
     "body.input.x"),
    ("/v2/executions", '{"workflow_name": "hyg_wf", "input": {"x": 1}, '
                       '"description": "bad \\udc00"}', "body.description"),
    ("/v2/executions", '{"workflow_name": "hyg_wf", "input": "{\\"x\\": \\"\\\\ud800\\"}"}',
     "'input'"),
    ("/v2/environments", '{"name": "e\\ud800", "variables": {}}', "body.name"),
    ("/v2/environments", '{"name": "hyg_env2", "variables": {"\\ud800": 1}}', "a key of"),
    ("/v2/cron_triggers", '{"name": "hyg_c2", "workflow_name": "hyg_wf", "pattern": '
                          '"0 0 * * *", "workflow_input": {"x": "\\udfff"}}',
     "body.workflow_input.x"),
]


@pytest.mark.parametrize(("path", "text", "where"), SURROGATE_CASES)
@pytest.mark.usefixtures("still_serving")
def test_lone_surrogate_is_a_400(url: str, path: str, text: str, where: str) -> None:
    assert_refused(post_raw(url, path, text), "lone surrogate", where)


@pytest.mark.usefixtures("still_serving")
def test_surrogate_in_a_definition_is_a_400(url: str) -> None:
    text = "version: '2.0'\nhyg_u:\n  description: \"x\\ud800\"\n  tasks:\n    t:\n" \
           "      action: std.noop\n"
    resp = requests.post(url + "/v2/workflows", data=text,
                         headers={"Content-Type": "text/plain"}, timeout=30)
    assert_refused(resp, "Unicode")


# ------------------------------------------------------------- item 8: non-finite numbers

@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
@pytest.mark.usefixtures("still_serving")
def test_non_finite_number_is_a_400(url: str, number: str) -> None:
    resp = post_raw(url, "/v2/executions",
                    '{"workflow_name": "hyg_wf", "input": {"x": ' + number + "}}")
    assert_refused(resp, "request body", "only finite numbers")
    as_string = json.dumps({"workflow_name": "hyg_wf", "input": '{"x": ' + number + "}"})
    assert_refused(post_raw(url, "/v2/executions", as_string), "'input'", "finite numbers")


# ------------------------------------------------------------------ item 8: names and ids

@pytest.mark.parametrize(("name", "problem"), [
    ("a/b", "must not contain '/'"), ("..", "must not contain '..'"),
    ("x..y", "must not contain '..'"), ("bell\\u0007", "control character U+0007")])
@pytest.mark.usefixtures("still_serving")
def test_bad_workflow_name_is_a_400_naming_it(url: str, name: str, problem: str) -> None:
    text = f"version: '2.0'\n\"{name}\":\n  tasks:\n    t:\n      action: std.noop\n"
    resp = requests.post(url + "/v2/workflows", data=text,
                         headers={"Content-Type": "text/plain"}, timeout=30)
    assert_refused(resp, problem, "workflow name")


@pytest.mark.parametrize(("path", "body"), [
    ("/v2/environments", {"name": "env/x", "variables": {}}),
    ("/v2/cron_triggers", {"name": "../cron", "workflow_name": "hyg_wf",
                           "pattern": "0 0 * * *", "workflow_input": {"x": 1}}),
    ("/v2/event_triggers", {"name": "ev/1", "workflow_id": "hyg_wf", "exchange": "x",
                            "topic": "t", "event": "e", "workflow_input": {"x": 1}}),
])
@pytest.mark.usefixtures("still_serving")
def test_bad_resource_name_is_a_400(url: str, path: str, body: dict[str, Any]) -> None:
    resp = requests.post(url + path, json=body, timeout=30)
    assert_refused(resp, "name", repr(body["name"]))


def test_workbook_and_action_names_follow_the_grammar(url: str) -> None:
    wb = "version: '2.0'\nname: \"wb/x\"\nworkflows:\n  w:\n    tasks:\n      t:\n" \
         "        action: std.noop\n"
    resp = requests.post(url + "/v2/workbooks", data=wb,
                         headers={"Content-Type": "text/plain"}, timeout=30)
    assert_refused(resp, "workbook name", "'/'")
    act = "version: '2.0'\n\"my..act\":\n  base: std.echo\n  base-input:\n    output: 1\n"
    resp = requests.post(url + "/v2/actions", data=act,
                         headers={"Content-Type": "text/plain"}, timeout=30)
    assert_refused(resp, "action name", "'..'")


@pytest.mark.parametrize("bad_id", ["../../x", "abc", "0b4ad8f2-0f1a-4f4c-9a39-0e2a8c8d7a5",
                                    "{0b4ad8f2-0f1a-4f4c-9a39-0e2a8c8d7a51}"])
@pytest.mark.usefixtures("still_serving")
def test_client_execution_id_must_be_a_uuid(url: str, bad_id: str) -> None:
    resp = requests.post(url + "/v2/executions",
                         json={"workflow_name": "hyg_wf", "input": {"x": 1}, "id": bad_id},
                         timeout=30)
    assert_refused(resp, "id", "is not a UUID")


def test_client_uuid_id_and_mistral_style_names_still_work(url: str) -> None:
    ex_id = "0b4ad8f2-0f1a-4f4c-9a39-0e2a8c8d7a51"
    resp = requests.post(url + "/v2/executions",
                         json={"workflow_name": "hyg_wf", "input": {"x": 1.5}, "id": ex_id},
                         timeout=30)
    assert resp.status_code == 201, resp.text
    assert requests.get(f"{url}/v2/executions/{ex_id}", timeout=30).status_code == 200
    names = "version: '2.0'\nmy-wf_1.v2:\n  tasks:\n    t:\n      action: std.noop\n" \
            "wf:with:colons:\n  tasks:\n    t:\n      action: std.noop\n"
    resp = requests.post(url + "/v2/workflows", data=names,
                         headers={"Content-Type": "text/plain"}, timeout=30)
    assert resp.status_code == 201, resp.text
    assert requests.get(url + "/v2/workflows/my-wf_1.v2", timeout=30).status_code == 200


@pytest.mark.parametrize(("path", "part"), [
    ("/v2/executions?workflow_name=%ED%A0%80", "query string"),
    ("/v2/workflows/%ED%A0%80", "path"), ("/v2/workflows/%FF", "path")])
def test_url_that_is_not_utf8_is_a_400_naming_the_part(url: str, path: str, part: str) -> None:
    assert_refused(requests.get(url + path, timeout=30), f"URL {part} is not valid UTF-8")
    assert requests.get(url + "/v2", timeout=5).status_code == 200
