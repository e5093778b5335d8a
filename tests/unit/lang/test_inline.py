"""Inline parameters, transition commands, with-items entries and input rendering."""

from __future__ import annotations

from typing import Any

import pytest

from wfaas.exceptions import DSLError
from wfaas.lang import parse_inline_params, render_input
from wfaas.lang.inline import is_expression, parse_with_items_entry, split_command
from wfaas.lang.specs import InputParam


@pytest.mark.parametrize("text, expected", [
    ("std.noop", ("std.noop", {})),
    ("std.http url=<% $.u %> method=GET", ("std.http", {"url": "<% $.u %>", "method": "GET"})),
    ('std.echo output="a b c"', ("std.echo", {"output": "a b c"})),
    ("std.echo output='x y'", ("std.echo", {"output": "x y"})),
    ("a n=42 f=1.5 t=true b=false z=null", ("a", {"n": 42, "f": 1.5, "t": True, "b": False,
                                                "z": None})),
    ('a l=[1, "two"] o={"k": [1, 2]}', ("a", {"l": [1, "two"], "o": {"k": [1, 2]}})),
    ("a x=<% $.a + $.b %>/path y={{ _.v }}", ("a", {"x": "<% $.a + $.b %>/path",
                                                   "y": "{{ _.v }}"})),
    ("a quoted=\"42\"", ("a", {"quoted": "42"})),
    ("a dash-name=1 under_score=2", ("a", {"dash-name": 1, "under_score": 2})),
    ("<% $.action %> p=1", ("<% $.action %>", {"p": 1})),
    ("a bad=[not json", None),
])
def test_parse_inline_params(text: str, expected: tuple[str, dict[str, Any]] | None) -> None:
    if expected is None:
        with pytest.raises(DSLError):
            parse_inline_params(text)
    else:
        assert parse_inline_params(text) == expected


@pytest.mark.parametrize("text, cmd, params", [
    ('fail msg="x"', "fail", {"msg": "x"}),
    ("fail(msg=<% $.m %>)", "fail", {"msg": "<% $.m %>"}),
    ('fail(msg="a, b")', "fail", {"msg": "a, b"}),
    ("succeed", "succeed", {}),
    ("pause", "pause", {}),
])
def test_command_forms(text: str, cmd: str, params: dict[str, Any]) -> None:
    assert split_command(text) == (cmd, params, [])


@pytest.mark.parametrize("text, error", [
    ("std.echo output", "expected 'name=value', found 'output'"),
    ('std.echo output="x', "unclosed quote"),
    ("std.echo o=<% $.x", "unclosed expression"),
    ("fail(msg=x", "missing ')'"),
    ("std.echo a=1 a=2", "given twice"),
    ("std.echo a=", "missing value"),
])
def test_inline_errors(text: str, error: str) -> None:
    _, _, errors = split_command(text)
    assert any(error in e for e in errors), errors


@pytest.mark.parametrize("text, var, coll", [
    ("x in <% $.list %>", "x", "<% $.list %>"),
    ("x in {{ _.l }}", "x", "{{ _.l }}"),
    ("x in [1, 2]", "x", [1, 2]),
    ("  my-var   in   <% $.a.where($ > 1) %>  ", "my-var", "<% $.a.where($ > 1) %>"),
])
def test_with_items_entries(text: str, var: str, coll: Any) -> None:
    assert parse_with_items_entry(text) == (var, coll, None)


def test_render_input_like_mistral() -> None:
    params = (InputParam("a"), InputParam("b", True, "x"), InputParam("c", True, None),
              InputParam("d", True, [1, 2]))
    assert render_input(params) == 'a, b="x", c=null, d=[1, 2]'
    assert render_input(()) == ""


@pytest.mark.parametrize("value, expected", [
    ("<% $.x %>", True), ("  {{ _.x }} ", True), ("{% if x %}y{% endif %}", True),
    ("<% $.a %> and <% $.b %>", True), ("plain", False), (5, False), ("a <% $.x %>", False),
    ("<% $.x %> tail", False), ("<% $.x", False),
])
def test_is_expression(value: Any, expected: bool) -> None:
    assert is_expression(value) is expected
