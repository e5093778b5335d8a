"""The published JSON Schema and the ``wfaas validate`` command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.unit.lang.conftest import FIXTURES
from wfaas.cmd.cli import main
from wfaas.lang import json_schema, schema

ROOT = Path(__file__).resolve().parents[3]
SCHEMA_FILE = ROOT / "wfaas" / "lang" / "dsl-v2.schema.json"
GOOD = str(FIXTURES / "valid" / "all_task_attributes.yaml")
BAD = str(FIXTURES / "invalid" / "transitions.yaml")


def _load_tool():  # type: ignore[no-untyped-def]
    import importlib.util
    spec = importlib.util.spec_from_file_location("dump_schema", ROOT / "tools" / "dump_schema.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_schema_file_is_what_the_tool_writes() -> None:
    assert SCHEMA_FILE.read_text() == _load_tool().render()


def test_tool_check_mode(tmp_path: Path) -> None:
    tool = _load_tool()
    out = tmp_path / "s.json"
    assert tool.main([str(out), "--check"]) == 1
    assert tool.main([str(out)]) == 0
    assert tool.main([str(out), "--check"]) == 0


def test_schema_is_valid_and_lists_every_key() -> None:
    doc = json_schema()
    jsonschema.Draft202012Validator.check_schema(doc)
    defs = doc["$defs"]
    assert set(defs["workflow"]["properties"]) == set(schema.WORKFLOW_FIELDS)
    assert set(defs["task"]["properties"]) == (set(schema.TASK_FIELDS)
                                               | set(schema.DIRECT_TASK_FIELDS)
                                               | set(schema.REVERSE_TASK_FIELDS))
    assert len(schema.TASK_DEFAULTS_FIELDS) == 13
    assert len(schema.TASK_FIELDS) + len(schema.DIRECT_TASK_FIELDS) \
        + len(schema.REVERSE_TASK_FIELDS) == 25
    assert defs["retry"]["required"] == ["count", "delay"]


def test_schema_rejects_unknown_task_key() -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    doc = {"version": "2.0", "wf": {"tasks": {"t": {"actoin": "x"}}}}
    assert not validator.is_valid(doc)


def test_validate_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", GOOD]) == 0
    assert "1 file(s) valid" in capsys.readouterr().out


def test_validate_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", GOOD, BAD]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (f"{BAD}:7:11: wf.tasks.create_vm.on-success[0]: transition to unknown "
                      "task 'creat_vm2' (did you mean 'create_vm'?)")
    assert out[-1] == "5 problem(s) in 1 of 2 file(s)"


def test_validate_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-f", "json", BAD]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 5
    assert rows[0] == {"file": BAD, "line": 7, "column": 11,
                       "path": "wf.tasks.create_vm.on-success[0]",
                       "message": "transition to unknown task 'creat_vm2' "
                                  "(did you mean 'create_vm'?)"}


def test_validate_missing_file_and_forced_kind(capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 1
    assert "cannot read the file" in capsys.readouterr().out
    wb = str(FIXTURES / "valid" / "wb_workbook.yaml")
    assert main(["validate", "--kind", "workbook", wb]) == 0
    assert main(["validate", "--kind", "actions", wb]) == 1


def test_validate_as_a_subprocess() -> None:
    exe = Path(sys.executable).parent / "wfaas"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "wfaas.cmd.cli"]
    proc = subprocess.run([*cmd, "validate", "-f", "json", BAD, GOOD], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 1, proc.stderr
    assert {row["file"] for row in json.loads(proc.stdout)} == {BAD}


def test_validate_reads_stdin(capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    monkeypatch.setattr(sys, "stdin", io.StringIO("version: '2.0'\nwf:\n  tasks:\n    t: 5\n"))
    assert main(["validate", "-"]) == 1
    assert capsys.readouterr().out.startswith(
        "-:4:8: wf.tasks.t: task 't' must be a mapping, not the number 5")
