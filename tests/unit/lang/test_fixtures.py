"""Table-driven: every valid fixture parses cleanly, every invalid one reports exactly
the problems listed in its ``# expect:`` lines (line, column, path and message)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.unit.lang.conftest import FIXTURES, expected_problems, fixture_kind
from wfaas.exceptions import DSLError
from wfaas.lang import (
    detect_kind,
    parse_actions,
    parse_workbook,
    parse_workflows,
    validate_text,
)

VALID = sorted((FIXTURES / "valid").glob("*.yaml"))
INVALID = sorted((FIXTURES / "invalid").glob("*.yaml"))
SCHEMA_FILE = Path(__file__).resolve().parents[3] / "wfaas" / "lang" / "dsl-v2.schema.json"


def test_there_are_enough_fixtures() -> None:
    assert len(VALID) >= 7
    assert len(INVALID) >= 20


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_fixture_has_no_problem(path: Path) -> None:
    text = path.read_text()
    kind = fixture_kind(path) or "workflows"
    assert detect_kind(text) == kind
    assert validate_text(text) == []
    parser = {"workflows": parse_workflows, "workbook": parse_workbook,
              "actions": parse_actions}[kind]
    assert parser(text)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_fixture_matches_published_json_schema(path: Path) -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(
        yaml.safe_load(path.read_text())))
    assert errors == []


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_fixture_reports_every_expected_problem(path: Path) -> None:
    text = path.read_text()
    expected = expected_problems(text)
    assert expected, f"{path.name} has no '# expect:' lines"
    got = [(p.line, p.column, p.path, p.message)
           for p in validate_text(text, fixture_kind(path))]
    assert got == expected


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_fixture_raises_dsl_error_with_all_problems(path: Path) -> None:
    text = path.read_text()
    kind = fixture_kind(path) or detect_kind(text)
    parser = {"workflows": parse_workflows, "workbook": parse_workbook,
              "actions": parse_actions}[kind]
    with pytest.raises(DSLError) as info:
        parser(text)
    assert len(info.value.problems) == len(expected_problems(text))
    assert info.value.http_code == 400
    assert "$schema" not in str(info.value) and "properties" not in str(info.value)
