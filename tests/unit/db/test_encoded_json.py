"""A published value measured by the limits check is serialised once and stored as is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.unit.db.dbutil import DB_PARAMS
from tests.unit.services.conftest import define
from tests.unit.services.test_data_written import BRANCH, runtime
from wfaas.db import models as m
from wfaas.db import types
from wfaas.db.types import EncodedJson, JsonText, encode_json


def test_encoded_text_is_stored_as_it_is() -> None:
    col = JsonText()
    value = {"b": [1, 2, 3], "a": "é"}
    text = encode_json(value)
    assert isinstance(text, EncodedJson)
    assert col.process_bind_param(text, None) == col.process_bind_param(value, None)  # type: ignore[arg-type]
    assert json.loads(text) == value


def test_a_plain_string_is_still_encoded() -> None:
    assert JsonText().process_bind_param("abc", None) == '"abc"'  # type: ignore[arg-type]


@pytest.mark.parametrize("db_kind", DB_PARAMS)
def test_published_values_are_serialised_once(db_kind: str, monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    """A task's published value goes through the encoder once (the limits check
    measures it, the row stores that text), and the stored row reads back equal."""
    seen: list[Any] = []
    real = types._encode  # what JsonText and encode_json serialise with

    def counting(value: Any) -> str:
        if isinstance(value, dict) and isinstance(value.get("big"), str):
            seen.append(value)
        return real(value)

    real_dumps = json.dumps

    def counting_dumps(value: Any, *args: Any, **kwargs: Any) -> str:
        if isinstance(value, dict) and isinstance(value.get("big"), str):
            seen.append(value)
        return real_dumps(value, *args, **kwargs)

    monkeypatch.setattr(types, "_encode", counting)
    monkeypatch.setattr(json, "dumps", counting_dumps)
    with runtime(db_kind, tmp_path) as (rt, _written):
        define(rt, BRANCH)
        ex = rt.start_workflow("branch_wf", input={"n": 1000})
        assert rt.wait_execution(ex["id"], 60)["state"] == "SUCCESS"
        with rt.session() as s:
            rows = s.execute(select(m.TaskExecution.published).where(
                m.TaskExecution.workflow_execution_id == ex["id"],
                m.TaskExecution.name == "big")).scalars().all()
    assert rows == [{"big": "x" * 1000}]
    assert len(seen) == 1, len(seen)


VALUES: list[Any] = [
    None, True, 0, -3, 1.5, float("nan"), float("inf"), "é\n\"", [], {}, [1, [2, {"x": None}]],
    {"index": 0, "attempt": 1, "created_at": 1733300000.123456, "ü": ["a", 2.0]},
    {"obj": ValueError("x"), 1: "int key", None: "null key"},
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_the_reused_encoder_writes_what_json_dumps_writes(value: Any) -> None:
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    stored = JsonText().process_bind_param(value, None)  # type: ignore[arg-type]
    assert stored == (None if value is None else expected)  # None: SQL NULL
    assert encode_json(value) == expected


def test_a_circular_value_fails_and_the_next_encodes_as_before() -> None:
    loop: list[Any] = [1]
    loop.append({"back": loop})
    with pytest.raises(ValueError, match="Circular reference"):
        encode_json(loop)
    # the same object, no longer circular: no marker of the failed call is left behind
    loop.pop()
    loop.append({"back": [loop[0]]})
    assert encode_json(loop) == '[1,{"back":[1]}]'
    shared = {"a": 1}
    assert encode_json([shared, shared]) == '[{"a":1},{"a":1}]'  # shared is not circular


def test_threads_encode_at_the_same_time() -> None:
    import threading

    value = {"k": [{"n": i} for i in range(200)]}
    expected = json.dumps(value, separators=(",", ":"))
    bad: list[str] = []

    def work() -> None:
        for _ in range(200):
            if encode_json(value) != expected:
                bad.append("mismatch")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not bad
