"""Expression syntax is checked everywhere expressions may appear (via wfaas.expressions)."""

from __future__ import annotations

import pytest

from tests.unit.lang.conftest import FIXTURES
from wfaas.lang import validate_text
from wfaas.lang.checker import expression_validator

pytestmark = pytest.mark.skipif(expression_validator() is None,
                                reason="wfaas.expressions.validate is not available")


def test_every_place_of_an_expression_is_checked() -> None:
    text = (FIXTURES / "invalid_expressions.yaml").read_text()
    got = [(p.line, p.path) for p in validate_text(text)]
    assert got == [
        (4, "exprs.vars.v"),
        (6, "exprs.output.o"),
        (9, "exprs.tasks.t1.action.output"),
        (11, "exprs.tasks.t1.input.k"),
        (13, "exprs.tasks.t1.publish.p"),
        (14, "exprs.tasks.t1.retry.count"),
        (15, "exprs.tasks.t1.with-items"),
        (16, "exprs.tasks.t1.keep-result"),
        (18, "exprs.tasks.t1.on-success[0].t2"),
        (19, "exprs.tasks.t1.on-success[1].msg"),
    ]


def test_mixing_yaql_and_jinja_in_one_string_is_a_problem() -> None:
    text = "version: '2.0'\nwf:\n  tasks:\n    t:\n      publish:\n" \
           "        x: <% $.a %>-{{ _.b }}\n"
    problems = validate_text(text)
    assert [(p.line, p.path) for p in problems] == [(6, "wf.tasks.t.publish.x")]
    assert "Mixing" in problems[0].message


def test_different_languages_in_different_inline_params_are_fine() -> None:
    text = "version: '2.0'\nwf:\n  tasks:\n    t:\n" \
           "      action: std.echo a=<% $.a %> b={{ _.b }}\n"
    assert validate_text(text) == []


def test_ad_hoc_action_expressions_are_checked() -> None:
    text = "version: '2.0'\na:\n  base: std.echo output=<% $.x + %>\n  output: <% $. %>\n"
    problems = validate_text(text, "actions")
    assert [p.path for p in problems] == ["a.base.output", "a.output"]


def test_advanced_publish_expressions_are_checked() -> None:
    text = "version: '2.0'\nwf:\n  tasks:\n    t:\n      on-complete:\n" \
           "        publish:\n          global:\n            g: <% $.x + %>\n"
    problems = validate_text(text)
    assert [(p.line, p.path) for p in problems] == [
        (8, "wf.tasks.t.on-complete.publish.global.g")]
