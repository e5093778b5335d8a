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
    real = types._ENCODER.encode

    def counting(value: Any) -> str:
        if isinstance(value, dict) and isinstance(value.get("big"), str):
            seen.append(value)
        return real(value)

    real_dumps = json.dumps

    def counting_dumps(value: Any, *args: Any, **kwargs: Any) -> str:
        if isinstance(value, dict) and isinstance(value.get("big"), str):
            seen.append(value)
        return real_dumps(value, *args, **kwargs)

    monkeypatch.setattr(types._ENCODER, "encode", counting)
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
