"""rowbuffer.compare_and_set_header: the header of a step written in a Session's
transaction with the prebuilt statement, only while its version is the expected one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.db.dbutil import DB_PARAMS, migrated_engine
from wfaas.db import api
from wfaas.db import models as m
from wfaas.db.session import session_factory, session_scope
from wfaas.services.rowbuffer import compare_and_set_header


@pytest.mark.parametrize("kind", DB_PARAMS)
def test_the_header_is_set_only_at_the_expected_version(kind: str, tmp_path: Path) -> None:
    with migrated_engine(kind, tmp_path) as eng:
        sessions = session_factory(eng)
        with session_scope(sessions) as s:
            ex = api.insert_row(s, m.WorkflowExecution, workflow_name="w", spec="x",
                                state="RUNNING")
        with session_scope(sessions) as s:
            assert compare_and_set_header(s, ex["id"], 0, {"state": "SUCCESS",
                                                          "output": {"a": [1, "b"]}})
            # a second writer that loaded version 0 loses, and writes nothing
            assert not compare_and_set_header(s, ex["id"], 0, {"state": "ERROR"})
        with session_scope(sessions, readonly=True) as s:
            row = api.get(s, m.WorkflowExecution, ex["id"])
            assert (row.version, row.state, row.output) == (1, "SUCCESS", {"a": [1, "b"]})
