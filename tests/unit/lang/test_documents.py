"""Workbooks, ad-hoc action files, versions, kinds, caching and speed."""

from __future__ import annotations

import pytest

from tests.unit.lang.conftest import FIXTURES
from wfaas.exceptions import DSLError
from wfaas.lang import (
    clear_cache,
    detect_kind,
    parse_actions,
    parse_workbook,
    parse_workflows,
    parse_workflows_cached,
    validate_text,
)
from wfaas.lang.specs import InputParam

WF = "wf:\n  tasks:\n    t: {}\n"


def test_workbook_members_are_prefixed_and_definitions_cut_out() -> None:
    wb = parse_workbook((FIXTURES / "valid" / "wb_workbook.yaml").read_text())
    assert wb.name == "my_book" and wb.tags == ("book",)
    assert list(wb.workflows) == ["my_book.main", "my_book.helper"]
    assert list(wb.actions) == ["my_book.greet", "my_book.loud_greet"]
    assert wb.workflows["my_book.helper"].definition == (
        "helper:\n  # a comment inside a member\n  tasks:\n    t:\n      action: loud_greet\n")
    assert wb.actions["my_book.greet"].definition.startswith("greet:\n  base: std.echo\n")
    assert wb.actions["my_book.loud_greet"].base == "greet"
    assert wb.actions["my_book.loud_greet"].base_input == {"name": "WORLD"}
    assert wb.definition.startswith("---\nversion: '2.0'")


def test_workbook_problems_use_document_paths() -> None:
    text = "version: '2.0'\nname: b\nworkflows:\n  w:\n    tasks:\n      t:\n        retry: 5\n"
    problems = validate_text(text)
    assert [(p.line, p.path) for p in problems] == [(7, "workflows.w.tasks.t.retry")]


def test_workbook_requires_version() -> None:
    problems = validate_text("name: b\nworkflows:\n  w:\n    tasks:\n      t: {}\n", "workbook")
    assert [p.message for p in problems] == ["the workbook is missing the required key 'version'"]


def test_ad_hoc_actions() -> None:
    specs = parse_actions((FIXTURES / "valid" / "act_actions.yaml").read_text())
    first = specs[0]
    assert first.name == "my.http_get" and first.base == "std.http"
    assert first.base_input == {"method": "GET", "url": "<% $.url %>",
                                "timeout": "<% $.timeout %>"}
    assert first.input == (InputParam("url"), InputParam("timeout", True, 10))
    assert first.output == "<% $.content %>" and first.tags == ("http",)
    assert specs[1].base == "my.http_get"


def test_ad_hoc_action_self_cycle() -> None:
    problems = validate_text("version: '2.0'\nme:\n  base: me\n", "actions")
    assert [p.message for p in problems] == [
        "found a cycle in an ad-hoc action chain: me -> me"]


@pytest.mark.parametrize("version", ["'2.0'", "2.0", "2", "'2'"])
def test_accepted_versions(version: str) -> None:
    assert validate_text(f"version: {version}\n{WF}") == []


def test_later_version_accepted() -> None:
    # Mistral 23 accepts version '3.0' and runs it as 2.0 (difftest upload.version_3).
    assert validate_text(f"version: '3.0'\n{WF}") == []


@pytest.mark.parametrize("version", ["'1.0'", "v2", "true", "[2]"])
def test_rejected_versions(version: str) -> None:
    problems = validate_text(f"version: {version}\n{WF}")
    assert len(problems) == 1 and "unsupported DSL version" in problems[0].message


def test_version_is_optional_for_workflow_files() -> None:
    assert parse_workflows(WF)[0].name == "wf"


def test_single_and_multiple_workflow_definitions() -> None:
    single = "version: '2.0'\n" + WF
    assert parse_workflows(single)[0].definition == single
    multi = single + "other:\n  tasks:\n    u: {}\n"
    a, b = parse_workflows(multi)
    assert a.definition == "version: '2.0'\n\nwf:\n  tasks:\n    t: {}\n"
    assert b.definition == "version: '2.0'\n\nother:\n  tasks:\n    u: {}\n"


@pytest.mark.parametrize("text, kind", [
    (WF, "workflows"),
    ("version: '2.0'\nname: wb\nworkflows: {}\n", "workbook"),
    ("version: '2.0'\na:\n  base: std.noop\n", "actions"),
    ("- not a mapping\n", "workflows"),
    (": : :\n[", "workflows"),
])
def test_detect_kind(text: str, kind: str) -> None:
    assert detect_kind(text) == kind


def test_workbook_uploaded_as_workflows_gets_a_hint() -> None:
    with pytest.raises(DSLError, match="looks like a workbook"):
        parse_workflows("version: '2.0'\nname: wb\nworkflows:\n  w:\n    tasks: {t: {}}\n")


def test_validate_text_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError):
        validate_text(WF, "bogus")


def test_problems_are_all_collected_and_sorted() -> None:
    text = "version: '2.0'\nwf:\n  tasks:\n    a:\n      timeout: x\n      on-success: zz\n" \
           "  bogus: 1\n"
    problems = validate_text(text)
    assert [p.line for p in problems] == sorted(p.line or 0 for p in problems)
    assert len(problems) == 2  # the unknown top-level key 'bogus' is ignored, as in Mistral


def _big(n: int) -> str:
    lines = ["version: '2.0'", "big:", "  input: [a]", "  tasks:"]
    for i in range(n):
        lines += [f"    t{i}:", f"      action: std.echo output=<% $.a %> n={i}",
                  "      publish:", f"        v{i}: <% task().result %>",
                  "      retry: count=2 delay=1"]
        if i < n - 1:
            lines.append(f"      on-success: [t{i + 1}]")
    return "\n".join(lines) + "\n"


def test_thousand_task_workflow_parses() -> None:
    text = _big(1000)
    spec = parse_workflows(text)[0]
    assert len(spec.tasks) == 1000 and [t.name for t in spec.start_tasks()] == ["t0"]


def test_cache_returns_same_specs_by_content() -> None:
    clear_cache()
    text = _big(3)
    first = parse_workflows_cached(text)
    second = parse_workflows_cached(text)
    assert first[0] is second[0]
    assert first is not second  # callers get their own list
    assert parse_workflows_cached(text + "\n")[0] is not first[0]


def test_cache_does_not_store_failures() -> None:
    clear_cache()
    with pytest.raises(DSLError):
        parse_workflows_cached("version: '2.0'\nwf: {}\n")
    with pytest.raises(DSLError):
        parse_workflows_cached("version: '2.0'\nwf: {}\n")
