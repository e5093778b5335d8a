"""Keyset (marker) paging over many rows, and the shape of list answers read column-wise.

Rows are stored straight into the SQLite file (many share a ``created_at``, so the id
tie-breaker matters); the pages walked through ``next`` links must give every row
exactly once, in the order of the sort keys.
"""

from __future__ import annotations

import datetime as _dt
import json
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import insert

from wfaas.db import models as m
from wfaas.db.api import insert_executions

BASE = _dt.datetime(2026, 12, 1, 12, 0, 0)
ROWS = 230
WF_IN = "version: '2.0'\nwf_in:\n  input: [v]\n  tasks:\n    t:\n      action: std.noop\n"


def _fill(runtime: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    ids = [str(uuid.uuid4()) for _ in range(ROWS)]
    executions = [{
        "id": ex_id, "workflow_name": f"wf{i % 3}", "workflow_namespace": "",
        "description": f"run {i}", "spec": "big definition " * 50, "state": "SUCCESS",
        "params": {"n": i}, "input": {"x": i, "name": "é"}, "output": {"out": i},
        "tags": ["t"] if i % 2 else None, "root_execution_id": ex_id,
        "engine_state": {"secret": "not on the wire"}, "project_id": "<default-project>",
        "created_at": BASE + _dt.timedelta(seconds=i // 5),  # five rows per timestamp
        "updated_at": None if i % 4 == 0 else BASE + _dt.timedelta(seconds=i),
    } for i, ex_id in enumerate(ids)]
    tasks = [{
        "id": str(uuid.uuid4()), "name": f"t{i}", "workflow_name": "wf0",
        "workflow_namespace": "", "workflow_execution_id": ids[0], "type": "ACTION",
        "state": "SUCCESS", "published": {"p": i}, "result": {"r": i},
        "runtime_context": {}, "engine_state": {"e": i}, "processed": True,
        "project_id": "<default-project>", "created_at": BASE + _dt.timedelta(seconds=i // 7),
    } for i in range(ROWS)]
    with runtime.db.begin() as conn:
        insert_executions(conn, executions)
        conn.execute(insert(m.TaskExecution), tasks)
    return executions, tasks


def _walk(client: Any, url: str, collection: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    pages = 0
    while url:
        body = client.get(url, status=200).json
        items += body[collection]
        pages += 1
        assert pages <= ROWS, "paging does not end"
        link = body.get("next")
        url = f"{urlsplit(link).path}?{urlsplit(link).query}" if link else ""
    return items


@pytest.mark.parametrize(("query", "key"), [
    ("limit=7", lambda r: (r["created_at"], r["id"])),
    ("limit=11&sort_dirs=desc", lambda r: (r["created_at"], r["id"])),
    ("limit=13&sort_keys=workflow_name,created_at&sort_dirs=desc,asc",
     lambda r: (r["workflow_name"], r["created_at"], r["id"])),
])
def test_marker_pages_give_every_execution_once_in_order(runtime: Any, client: Any,
                                                          query: str, key: Any) -> None:
    executions, _ = _fill(runtime)
    listed = _walk(client, f"/v2/executions?{query}", "executions")
    ids = [item["id"] for item in listed]
    assert len(ids) == ROWS == len(set(ids))
    if "sort_keys=workflow_name" in query:
        # desc on the name, then asc on created_at and id within a name
        expected = sorted(executions, key=lambda r: (r["created_at"], r["id"]))
        expected = sorted(expected, key=lambda r: r["workflow_name"], reverse=True)
    else:
        expected = sorted(executions, key=key, reverse="desc" in query)
    if "sort_dirs=desc" in query and "sort_keys" not in query:
        # the appended id tie-breaker is ascending
        expected = sorted(sorted(executions, key=lambda r: r["id"]),
                          key=lambda r: r["created_at"], reverse=True)
    assert ids == [r["id"] for r in expected]


def test_marker_pages_of_the_tasks_of_an_execution(runtime: Any, client: Any) -> None:
    executions, tasks = _fill(runtime)
    listed = _walk(client, f"/v2/executions/{executions[0]['id']}/tasks?limit=17", "tasks")
    assert [t["id"] for t in listed] == [
        t["id"] for t in sorted(tasks, key=lambda r: (r["created_at"], r["id"]))]
    by_id = {t["id"]: t for t in tasks}
    assert "result" not in listed[0]
    assert listed[0]["published"] == f'{{"p": {by_id[listed[0]["id"]]["published"]["p"]}}}'


def test_filtered_pages_and_a_marker_that_does_not_exist(runtime: Any, client: Any) -> None:
    executions, _ = _fill(runtime)
    listed = _walk(client, "/v2/executions?limit=9&workflow_name=wf1", "executions")
    assert {e["id"] for e in listed} == {e["id"] for e in executions
                                         if e["workflow_name"] == "wf1"}
    answer = client.get(f"/v2/executions?marker={uuid.uuid4()}", status=400).json
    assert "Marker not found" in answer["faultstring"]


def test_list_shape_without_unshown_columns(runtime: Any, client: Any) -> None:
    executions, _ = _fill(runtime)
    first = min(executions, key=lambda r: (r["created_at"], r["id"]))
    n = first["params"]["n"]
    item = client.get("/v2/executions?limit=1").json["executions"][0]
    assert list(item) == [
        "id", "workflow_id", "workflow_name", "workflow_namespace", "description", "tags",
        "params", "task_execution_id", "root_execution_id", "state", "state_info", "input",
        "created_at", "updated_at", "project_id"]
    assert item["id"] == first["id"] and item["root_execution_id"] is None
    assert item["input"] == f'{{"x": {n}, "name": "é"}}' and item["params"] == f'{{"n": {n}}}'
    assert item["tags"] == (["t"] if n % 2 else []) and item["created_at"] == "2026-12-01 12:00:00"
    if n % 4 == 0:
        assert item["updated_at"] == item["created_at"]  # never updated: Mistral's view
    else:
        assert item["updated_at"] == f"2026-12-01 12:00:0{n}"
    with_output = client.get("/v2/executions?limit=1&include_output=true").json
    assert with_output["executions"][0]["output"] == f'{{"out": {n}}}'
    # a hidden field asked for by name is read and shown
    chosen = client.get("/v2/executions?limit=2&fields=output,state").json["executions"]
    assert chosen[0] == {"id": first["id"], "state": "SUCCESS", "output": f'{{"out": {n}}}'}
    precise = client.app.get("/v2/executions?limit=1", headers={
        "X-Wfaas-Precise-Times": "1"}).json["executions"][0]
    assert precise["created_at"] == "2026-12-01 12:00:00.000000"


def test_listed_json_fields_are_those_of_the_execution(client: Any) -> None:
    """A list reads input/params/output as stored text and re-spaces it: the same
    strings as GET of one execution (which decodes and encodes)."""
    client.post_yaml("/v2/workflows", WF_IN)
    values = [{"s": 'a, b: "c" \\ d', "u": "é😀", "n": [1.5, None, {"k:": ","}]},
              {"plain": "x"}, {"empty": {}, "list": []}]
    ids = [client.post_json("/v2/executions", {
        "workflow_name": "wf_in", "input": json.dumps({"v": v}),
        "params": json.dumps({"env": {"note": "x, y: z"}})}, status=201).json["id"]
        for v in values]
    listed = {e["id"]: e for e in client.get(
        "/v2/executions?limit=100&include_output=true", status=200).json["executions"]}
    for ex_id in ids:
        one = client.get(f"/v2/executions/{ex_id}", status=200).json
        for key in ("input", "params"):
            assert listed[ex_id][key] == one[key], key
        assert json.loads(listed[ex_id]["input"])["v"] in values
        assert ", " in listed[ex_id]["params"] and ": " in listed[ex_id]["params"]


def test_a_page_of_one_executions_tasks_reads_by_index(runtime: Any, client: Any) -> None:
    """The tasks of one execution are paged through the (workflow_execution_id,
    created_at, id) index: SQLite neither scans nor sorts all of the execution's tasks."""
    from sqlalchemy import event

    executions, _ = _fill(runtime)
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, context: Any,
                executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM task_executions" in statement:
            seen.append((statement, params))

    event.listen(runtime.db, "before_cursor_execute", capture)
    try:
        page = client.get(f"/v2/executions/{executions[0]['id']}/tasks?limit=5",
                          status=200).json
    finally:
        event.remove(runtime.db, "before_cursor_execute", capture)
    assert len(page["tasks"]) == 5
    statement, params = seen[-1]
    with runtime.db.connect() as conn:
        plan = " | ".join(str(row[-1]) for row in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, params))
    assert "created_at" in plan and "workflow_execution_id" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize(("path", "key"), [
    ("/v2/executions", "security"), ("/v2/executions", "engine_state"),
    ("/v2/executions", "spec"), ("/v2/action_executions", "security"),
    ("/v2/cron_triggers", "trust_id"),
])
def test_lists_are_not_sorted_by_credentials_or_engine_internals(client: Any, path: str,
                                                                  key: str) -> None:
    """An order over a secret column would leak it bit by bit through marker paging:
    such a sort key is a 400 like any unknown one, and the message does not offer it."""
    body = client.get(f"{path}?sort_keys={key}", status=400).json
    assert f"Invalid sort key '{key}'" in body["faultstring"]
    assert key not in body["faultstring"].split("choose from:")[1].split(", ")
    client.get(f"{path}?sort_keys=created_at", status=200)
