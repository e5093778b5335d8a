"""Safe YAML loading: positions, duplicates, size limit and alias blow-up."""

from __future__ import annotations

import pytest

from wfaas.exceptions import DocumentTooLarge, DSLError
from wfaas.lang import parse_workflows, validate_text
from wfaas.lang.yamlload import load


def _billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for i in range(levels):
        name = chr(ord("b") + i)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = name
    return "\n".join(lines) + "\n"


def test_positions_of_keys_and_values_are_one_based() -> None:
    doc, problems = load("version: '2.0'\nwf:\n  tasks:\n    t1: {action: std.noop}\n")
    assert problems == []
    assert doc.keys[("wf", "tasks", "t1")] == (4, 5)
    assert doc.values[("wf", "tasks", "t1", "action")] == (4, 18)
    assert doc.pos(("wf", "tasks", "t1", "nope")) == (4, 9)  # nearest ancestor


@pytest.mark.timeout(10)  # an expanding loader would run out of time (and memory) here
def test_billion_laughs_is_refused() -> None:
    with pytest.raises(DSLError) as info:
        load(_billion_laughs())
    assert "alias" in info.value.problems[0].message


def test_node_budget_bounds_expansion_even_with_few_aliases() -> None:
    with pytest.raises(DSLError, match="expands to more than 50 nodes"):
        load(_billion_laughs(2), max_nodes=50, max_aliases=1000)


def test_a_few_aliases_are_fine() -> None:
    doc, _ = load("a: &x [1, 2]\nb: *x\n")
    assert doc.data == {"a": [1, 2], "b": [1, 2]}


def test_document_too_large() -> None:
    text = "version: '2.0'\n" + "# padding\n" * 200
    with pytest.raises(DocumentTooLarge) as info:
        parse_workflows(text, max_bytes=100)
    assert info.value.http_code == 413
    assert "over the limit of 100 bytes" in str(info.value)


def test_size_is_counted_in_utf8_bytes() -> None:
    with pytest.raises(DocumentTooLarge):
        load("a: " + "é" * 60, max_bytes=100)
    load("a: " + "e" * 60, max_bytes=100)


def test_duplicate_keys_are_reported_with_both_lines() -> None:
    _, problems = load("a: 1\nb: 2\na: 3\n")
    assert [(p.line, p.column, p.path) for p in problems] == [(3, 1, "a")]
    assert "first defined at line 1" in problems[0].message


def test_python_tags_are_refused_not_constructed() -> None:
    problems = validate_text("version: '2.0'\nwf: !!python/object:os.system {}\n")
    assert any("unsupported YAML tag" in p.message for p in problems)


def test_syntax_error_has_line_and_column() -> None:
    problems = validate_text("version: '2.0'\nwf:\n  tasks: [a\n")
    assert len(problems) == 1
    assert problems[0].line == 4 and "could not be parsed" in problems[0].message


def test_merge_keys_are_supported() -> None:
    doc, _ = load("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n")
    assert doc.data["d"] == {"x": 1, "y": 3}


def test_timestamps_stay_strings() -> None:
    doc, _ = load("a: 2024-01-01\nb: 1.5\nc: yes\nd: ~\n")
    assert doc.data == {"a": "2024-01-01", "b": 1.5, "c": True, "d": None}


def test_empty_document() -> None:
    problems = validate_text("")
    assert [p.message for p in problems] == ["the workflow document is empty"]
