"""/v2/workflows and /v2/workbooks against the wire format of Mistral's samples."""

from __future__ import annotations

import json
import re

from tests.functional.api.conftest import (
    FAIL_WF,
    HELLO_WF,
    TIME_RE,
    WORKBOOK,
    Client,
    assert_fault,
)

WF_FIELDS = ["id", "name", "namespace", "input", "interface", "definition", "checksum", "tags",
             "scope", "project_id", "created_at", "updated_at"]


def test_create_workflow_matches_the_sample(client: Client) -> None:
    resp = client.post_yaml("/v2/workflows", HELLO_WF, 201)
    (wf,) = resp.json["workflows"]
    assert list(wf) == WF_FIELDS[:-1]  # no updated_at while it is null, as Mistral
    assert wf["name"] == "rs_hello" and wf["namespace"] == ""
    assert wf["input"] == 'name, greeting="Hello"'
    assert wf["interface"] == {"input": ["name", {"greeting": "Hello"}],
                               "output": ["msg", "items_result"]}
    assert wf["definition"] == HELLO_WF
    assert re.fullmatch(r"[0-9a-f]{32}", wf["checksum"])
    assert wf["tags"] == [] and wf["scope"] == "private"
    assert wf["project_id"] == "<default-project>"
    assert re.match(TIME_RE, wf["created_at"])


def test_get_workflow_has_interface_as_json_string(client: Client) -> None:
    created = client.post_yaml("/v2/workflows", HELLO_WF, 201).json["workflows"][0]
    for ident in ("rs_hello", created["id"]):
        wf = client.get(f"/v2/workflows/{ident}", 200).json
        assert list(wf) == WF_FIELDS
        assert json.loads(wf["interface"]) == created["interface"]
        assert wf["updated_at"] is None


def test_missing_workflow_is_404_like_mistral(client: Client) -> None:
    body = assert_fault(client.get("/v2/workflows/no_such_wf", 404), 404)
    assert body["faultstring"] == \
        "Workflow not found [workflow_identifier=no_such_wf, namespace=]"


def test_duplicate_is_409(client: Client) -> None:
    client.post_yaml("/v2/workflows", FAIL_WF, 201)
    assert_fault(client.post_yaml("/v2/workflows", FAIL_WF, 409), 409, "Duplicate entry")


def test_invalid_definition_is_400_listing_every_problem(client: Client) -> None:
    bad = ("---\nversion: '2.0'\nrs_bad:\n  type: direct\n  tasks:\n    t1:\n"
           "      action: std.noop\n      on-success: nowhere\n    t2:\n"
           "      action: std.noop\n      on-error: elsewhere\n")
    body = assert_fault(client.post_yaml("/v2/workflows", bad, 400), 400)
    problems = body["problems"]
    assert len(problems) >= 2
    assert {p["line"] for p in problems} >= {8, 11}
    assert "nowhere" in body["faultstring"] and "elsewhere" in body["faultstring"]


def test_unparsable_yaml_is_400_with_line(client: Client) -> None:
    body = assert_fault(client.post_yaml("/v2/workflows",
                                         "version: '2.0'\nrs_bad2: [unclosed\n", 400), 400)
    assert body["problems"][0]["line"] is not None


def test_empty_body_is_400(client: Client) -> None:
    assert_fault(client.post_yaml("/v2/workflows", "  ", 400), 400, "empty")


def test_document_over_max_document_size_is_413(client: Client, conf) -> None:  # type: ignore[no-untyped-def]
    conf.set_override("max_document_size_kb", 1)
    text = HELLO_WF + "\n".join(f"# padding {i} " + "x" * 60 for i in range(40))
    assert_fault(client.post_yaml("/v2/workflows", text, 413), 413)


def test_validate(client: Client) -> None:
    assert client.post_yaml("/v2/workflows/validate", HELLO_WF, 200).json["valid"] is True
    body = client.post_yaml("/v2/workflows/validate",
                            "---\nversion: '2.0'\nw:\n  tasks:\n    a:\n      on-success: b\n",
                            200).json
    assert body["valid"] is False and "b" in body["error"] and body["problems"]


def test_list_pagination_and_next_link(client: Client) -> None:
    for name in ("wf_a", "wf_b", "wf_c"):
        client.post_yaml("/v2/workflows", f"version: '2.0'\n{name}:\n  tasks:\n    t:\n"
                         "      action: std.noop\n", 201)
    page = client.get("/v2/workflows?limit=2&sort_keys=created_at&sort_dirs=asc", 200).json
    assert [w["name"] for w in page["workflows"]] == ["wf_a", "wf_b"]
    marker = page["workflows"][-1]["id"]
    assert page["next"] == ("http://localhost/v2/workflows?sort_keys=created_at,id&"
                            f"sort_dirs=asc,asc&limit=2&marker={marker}")
    rest = client.get(page["next"].replace("http://localhost", ""), 200).json
    assert [w["name"] for w in rest["workflows"]] == ["wf_c"]
    assert "next" not in rest
    desc = client.get("/v2/workflows?sort_keys=name&sort_dirs=desc", 200).json
    assert [w["name"] for w in desc["workflows"]] == ["wf_c", "wf_b", "wf_a"]


def test_limit_is_clamped_to_max_limit(client: Client, conf) -> None:  # type: ignore[no-untyped-def]
    conf.set_override("max_limit", 2, group="api")
    for name in ("wf_a", "wf_b", "wf_c"):
        client.post_yaml("/v2/workflows", f"version: '2.0'\n{name}:\n  tasks:\n    t:\n"
                         "      action: std.noop\n", 201)
    page = client.get("/v2/workflows?limit=50", 200).json
    assert len(page["workflows"]) == 2 and "limit=2" in page["next"]


def test_filters_and_fields(client: Client) -> None:
    client.post_yaml("/v2/workflows", HELLO_WF, 201)
    client.post_yaml("/v2/workflows", FAIL_WF, 201)
    client.post_yaml("/v2/workflows?namespace=ns1", FAIL_WF, 201)
    names = lambda q: sorted(w["name"] for w in client.get(q, 200).json["workflows"])  # noqa: E731
    assert names("/v2/workflows?name=rs_fail") == ["rs_fail", "rs_fail"]
    assert names("/v2/workflows?name=eq:rs_hello") == ["rs_hello"]
    assert names("/v2/workflows?name=neq:rs_hello") == ["rs_fail", "rs_fail"]
    assert names("/v2/workflows?name=in:rs_hello,nothing") == ["rs_hello"]
    assert names("/v2/workflows?name=nin:rs_hello") == ["rs_fail", "rs_fail"]
    assert names("/v2/workflows?name=has:hel") == ["rs_hello"]
    assert names("/v2/workflows?namespace=ns1") == ["rs_fail"]
    assert names("/v2/workflows?created_at=gt:2000-01-01") == ["rs_fail", "rs_fail", "rs_hello"]
    assert names("/v2/workflows?created_at=lt:2000-01-01") == []
    items = client.get("/v2/workflows?fields=name,input&name=rs_hello", 200).json["workflows"]
    assert items == [{"id": items[0]["id"], "name": "rs_hello",
                      "input": 'name, greeting="Hello"'}]
    one = client.get("/v2/workflows/rs_hello?fields=name", 200).json
    assert set(one) == {"id", "name"}


def test_tags_filter_requires_every_tag(client: Client) -> None:
    tagged = ("version: '2.0'\n{name}:\n  tags: [{tags}]\n  tasks:\n    t:\n"
              "      action: std.noop\n")
    client.post_yaml("/v2/workflows", tagged.format(name="w1", tags="a, b"), 201)
    client.post_yaml("/v2/workflows", tagged.format(name="w2", tags="a"), 201)
    names = lambda q: sorted(w["name"] for w in client.get(q, 200).json["workflows"])  # noqa: E731
    assert names("/v2/workflows?tags=a") == ["w1", "w2"]
    assert names("/v2/workflows?tags=a,b") == ["w1"]


def test_namespaces_keep_same_names_apart(client: Client) -> None:
    client.post_yaml("/v2/workflows", FAIL_WF, 201)
    other = client.post_yaml("/v2/workflows?namespace=team", FAIL_WF, 201).json["workflows"][0]
    assert other["namespace"] == "team"
    assert client.get("/v2/workflows/rs_fail?namespace=team", 200).json["id"] == other["id"]
    assert client.get("/v2/workflows/rs_fail", 200).json["id"] != other["id"]
    assert_fault(client.get("/v2/workflows/rs_fail?namespace=nowhere", 404), 404,
                 "namespace=nowhere")


def test_update_by_name_and_by_id(client: Client) -> None:
    wf = client.post_yaml("/v2/workflows", FAIL_WF, 201).json["workflows"][0]
    changed = FAIL_WF.replace("kaboom", "bang")
    updated = client.put_yaml("/v2/workflows", changed, 200).json["workflows"][0]
    assert updated["id"] == wf["id"] and "bang" in updated["definition"]
    assert re.match(TIME_RE, updated["updated_at"])
    again = client.put_yaml(f"/v2/workflows/{wf['id']}", FAIL_WF, 200).json["workflows"][0]
    assert "kaboom" in again["definition"]
    missing = FAIL_WF.replace("rs_fail", "not_there")
    assert_fault(client.put_yaml("/v2/workflows", missing, 404), 404, "not_there")


def test_public_scope(client: Client) -> None:
    wf = client.post_yaml("/v2/workflows?scope=public", FAIL_WF, 201).json["workflows"][0]
    assert wf["scope"] == "public"
    assert_fault(client.post_yaml("/v2/workflows?scope=world", HELLO_WF, 400), 400, "scope")


def test_delete_workflow(client: Client) -> None:
    client.post_yaml("/v2/workflows", FAIL_WF, 201)
    resp = client.delete("/v2/workflows/rs_fail", 204)
    assert resp.body == b""
    assert_fault(client.get("/v2/workflows/rs_fail", 404), 404)
    assert_fault(client.delete("/v2/workflows/rs_fail", 404), 404)


def test_workbook_lifecycle(client: Client) -> None:
    wb = client.post_yaml("/v2/workbooks", WORKBOOK, 201).json
    assert list(wb) == ["id", "name", "namespace", "definition", "tags", "scope", "project_id",
                        "created_at"]
    assert wb["name"] == "demo_wb" and wb["definition"] == WORKBOOK
    wf = client.get("/v2/workflows/demo_wb.wf1", 200).json
    assert wf["input"] == 'text="hey"' and wf["checksum"] is None
    assert json.loads(wf["interface"]) == {"input": [{"text": "hey"}], "output": []}
    action = client.get("/v2/actions/demo_wb.shout", 200).json
    assert action["input"] == "text" and action["is_system"] is False
    assert "base: std.echo" in action["definition"]
    assert [w["name"] for w in client.get("/v2/workbooks", 200).json["workbooks"]] == ["demo_wb"]
    assert client.get("/v2/workbooks/demo_wb", 200).json["updated_at"] is None
    assert_fault(client.post_yaml("/v2/workbooks", WORKBOOK, 409), 409)
    updated = client.put_yaml("/v2/workbooks", WORKBOOK.replace("hey", "ho"), 200).json
    assert re.match(TIME_RE, updated["updated_at"])
    assert client.get("/v2/workflows/demo_wb.wf1", 200).json["input"] == 'text="ho"'
    assert client.post_yaml("/v2/workbooks/validate", WORKBOOK, 200).json == \
        {"valid": True, "error": None}
    client.delete("/v2/workbooks/demo_wb", 204)
    assert_fault(client.get("/v2/workbooks/demo_wb", 404), 404, "Workbook not found")
    client.get("/v2/workflows/demo_wb.wf1", 200)  # members stay, as in Mistral
