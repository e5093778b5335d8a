"""The evaluation budget (time, fuel, sizes) and regular expressions on RE2."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from wfaas.exceptions import ExpressionError
from wfaas.expressions import budget, configure, evaluate

#: (expression, the option its error must name): each reproduction of issue 14.
BOMBS = [
    ("<% range(30000).select(range(30000).sum()).len() %>", "(evaluation_timeout|max_fuel)"),
    ("<% range(3000).select(range(3000).toList()) %>", "(evaluation_timeout|max_fuel)"),
    ("<% let(x => pow(10, 20000)) -> $x * $x * $x %>", "max_int_bits"),
    ("<% range(20).aggregate($1 * $1, pow(10, 2000)) %>", "max_int_bits"),
    ("<% range(1000).select('a' * 9000000).len() %>", "max_total_size_kb"),
    ("<% ('x' * 1000).replace('x', 'x' * 300000) %>", "max_value_size_kb"),
    ("<% range(30).select('a' * 1000000).join('') %>", "max_value_size_kb"),
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
     "(evaluation_timeout|max_fuel)"),
    ("{% set r = range(100000) %}{% for i in r %}{% for j in r %}{% endfor %}{% endfor %}",
     "(evaluation_timeout|max_fuel)"),
    ("{% set a = 'a' * 9000000 %}{% set a = a ~ a %}{% set a = a ~ a %}{{ a | length }}",
     "max_value_size_kb"),
    ("{{ (['a' * 9000000] * 30) | join | length }}", "max_value_size_kb"),
    ("{{ ('x' * 1000) | replace('x', 'x' * 300000) | length }}", "max_value_size_kb"),
    ("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}", "max_value_size_kb"),
    ("{{ 'a' * 9000000 + 'a' * 9000000 }}", "max_value_size_kb"),
    ("{% set x = 10 ** 20000 %}{{ x * x * x }}", "max_int_bits"),
]


@pytest.mark.parametrize("text, option", BOMBS)
def test_bombs_fail_naming_the_limit(text: str, option: str) -> None:
    # CPU seconds of this process, not wall time: a loaded CI machine stretches the
    # wall clock, while the work a bomb may do before it is stopped is what counts
    started = time.process_time()
    with pytest.raises(ExpressionError, match=rf"\(\[expressions\] {option}\)"):
        evaluate(text, {})
    assert time.process_time() - started < 3.0 + 3.0  # the default deadline + slack


def test_limits_are_configurable() -> None:
    configure(max_fuel=100)
    with pytest.raises(ExpressionError, match="step budget of 100 steps"):
        evaluate("<% range(200).sum() %>", {})
    with pytest.raises(ExpressionError, match="step budget of 100 steps"):
        evaluate("{% for i in range(200) %}{% endfor %}", {})
    configure(max_value_size_kb=1)
    with pytest.raises(ExpressionError, match="limit of 1 KB"):
        evaluate("<% 'a' * 5000 %>", {})
    configure(max_int_bits=100)
    with pytest.raises(ExpressionError, match="limit of 100 bits"):
        evaluate("<% pow(2, 40) * pow(2, 40) * pow(2, 40) %>", {})
    configure(max_total_size_kb=100)
    with pytest.raises(ExpressionError, match="max_total_size_kb"):
        evaluate("<% range(30).select('a' * 5000).len() %>", {})
    configure(max_fuel=0, max_value_size_kb=0, max_int_bits=0, max_total_size_kb=0)
    assert evaluate("<% range(200).sum() %>", {}) == 19900
    assert evaluate("<% pow(2, 40) * pow(2, 40) * pow(2, 40) %>", {}) == 2 ** 120


def _spend(text: str, data: object) -> tuple[object, float, int]:
    """``text``'s value, the fuel it spent and the bytes it built, under the default fuel
    and size limits. The wall-clock deadline is off: it measures the machine's load as
    much as the expression (the bombs above test it); fuel counts the work itself."""
    limits = budget.Limits(timeout=0)
    with budget.running(limits) as running:  # the evaluation spends this outer budget
        value = evaluate(text, data)
    return value, limits.max_fuel - running.fuel, running.built


def test_ordinary_expressions_fit_the_default_budget() -> None:
    """Ordinary work over 2,000 rows and 100 KB strings stays under a quarter of the
    default fuel and sizes (so they fit with a margin, whatever the machine's load)."""
    data = {"rows": [{"id": i, "name": f"n{i}"} for i in range(2000)], "s": "x" * 100000}
    cases: list[tuple[str, Callable[[Any], bool]]] = [
        ("<% $.rows.select({id => $.id, n => $.name}) %>", lambda v: len(v) == 2000),
        ("<% $.rows.where($.id mod 2 = 0).select($.id).sum() %>",
         lambda v: v == sum(range(0, 2000, 2))),
        ("{{ _.rows | map(attribute='id') | sum }}", lambda v: v == sum(range(2000))),
        ("{% for i in _.rows %}{{ i.id }},{% endfor %}", lambda v: v.count(",") == 2000),
        ("<% $.s + $.s %>", lambda v: len(v) == 200000),
        ("<% $.s.replace('x', 'yy') %>", lambda v: len(v) == 200000),
    ]
    defaults = budget.Limits()
    for text, expected in cases:
        value, fuel, built = _spend(text, data)
        assert expected(value), text
        assert fuel < defaults.max_fuel // 4, (text, fuel)
        assert built < defaults.max_total_bytes // 4, (text, built)
        assert budget.size_of(value) < defaults.max_value_bytes // 4, text


@pytest.mark.parametrize("text, expected", [
    ("<% regex('a.c').matches('abc') %>", True),
    ("<% regex('A.c', ignoreCase => true).matches('abc') %>", True),
    ("<% 'abc'.matches('a.c') %>", True),
    ("<% 'abc' =~ regex('a.c') %>", True),
    ("<% 'acb' !~ 'a.c' %>", True),
    ("<% regex('a.c').search('cabc') %>", "abc"),
    ("<% regex('a.c').search('cabc', $) %>", {"start": 1, "end": 4, "value": "abc"}),
    ("<% regex('a(.)c').search('xabc', $2.value) %>", "b"),
    ("<% regex('(?P<mid>.)c').search('abc', $mid.value) %>", "b"),
    ("<% regex('a.c').searchAll('abcadc') %>", ["abc", "adc"]),
    ("<% regex('a.').split('abcadc') %>", ["", "c", "c"]),
    ("<% regex('a.').split('abcadc', maxSplit => 1) %>", ["", "cadc"]),
    ("<% 'abcadc'.split(regex('a.')) %>", ["", "c", "c"]),
    ("<% regex('a.').replace('abcadc', 'xx') %>", "xxcxxc"),
    ("<% regex('a.').replace('abcadc', 'xx', count => 1) %>", "xxcadc"),
    ("<% regex('a(.)').replace('abcadc', '<\\\\1>') %>", "<b>c<d>c"),
    ("<% regex('a(.)').replace('abcadc', 'é\\\\g<1>') %>", "ébcédc"),
    ("<% 'abcadc'.replace(regex('a.'), 'xx') %>", "xxcxxc"),
    ("<% regex('a.c').replaceBy('abcadc', switch($1.value = 'abc' => xx, true => yy)) %>",
     "xxyy"),
    ("<% escapeRegex('a.c') %>", "a\\.c"),
    ("<% isRegex(regex('x')) %>", True),
    ("<% regex('(a)\\\\1').matches('xaa') %>", True),  # a backreference: Python's re
    ("<% regex('(a+)+$').matches('a' * 5000 + '!') %>", False),  # linear time on RE2
])
def test_regex_functions(text: str, expected: object) -> None:
    assert evaluate(text, {}) == expected


def test_redos_pattern_is_fast() -> None:
    started = time.process_time()  # CPU, not wall: backtracking would take seconds
    assert evaluate("<% regex('(a+)+$').matches('a' * 24 + '!') %>", {}) is False
    assert evaluate("<% ('a' * 30 + '!') =~ '(a|aa)*$' %>", {}) is True
    assert time.process_time() - started < 0.5


def test_regex_fallback_policy() -> None:
    with pytest.raises(ExpressionError, match="nested quantifier.*regex_fallback"):
        evaluate("<% regex('(a*)*\\\\1').matches('aa') %>", {})
    configure(regex_fallback="refuse")
    with pytest.raises(ExpressionError, match="needs backtracking.*regex_fallback"):
        evaluate("<% regex('(a)\\\\1').matches('aa') %>", {})
    configure(regex_fallback="python")
    assert evaluate("<% regex('(a*)*\\\\1').matches('aa') %>", {}) is True
    with pytest.raises(ValueError, match="Unknown regex_fallback"):
        configure(regex_fallback="perl")


# ---------------------------------------------------------------- on_slow (the engine's hook)


class _Leave(BaseException):
    """What the engine raises from the hook (a BaseException, like HeavyStep)."""


def test_on_slow_fires_once_inside_a_heavy_evaluation_and_never_for_a_cheap_one() -> None:
    # the wall-clock deadline off: at load 20 the 5,000-item evaluation can take its 3 s
    # (the deadline is tested by the bombs above); the hook is what this test is about
    configure(timeout=0)
    try:
        _on_slow_fires_once()
    finally:
        configure()


def _on_slow_fires_once() -> None:
    calls: list[float] = []
    evaluate("<% $.x + 1 %>", {"x": 1})  # parsed and planned: the fast path from now on
    with budget.on_slow(0.0, lambda: calls.append(time.monotonic())):
        assert evaluate("<% $.x + 1 %>", {"x": 1}) == 2  # no budget look: no call
        assert calls == []
        assert evaluate("<% range(5000).select($ * 2).sum() %>", {}) == 24995000
    assert len(calls) == 1
    with budget.on_slow(3600.0, lambda: calls.append(0.0)):  # not yet due
        evaluate("<% range(5000).select($ * 2).sum() %>", {})
    assert len(calls) == 1


@pytest.mark.parametrize("text", ["<% range(100000).select($ * 2).sum() %>",
                                  "{% for i in range(100000) %}{% endfor %}"])
def test_a_raising_hook_leaves_the_evaluation_untouched_by_error_handling(text: str) -> None:
    def leave() -> None:
        raise _Leave

    with pytest.raises(_Leave), budget.on_slow(0.0, leave):
        evaluate(text, {})
    assert budget.current() is None  # the evaluation's budget was released
    assert evaluate("<% 1 + 1 %>", {}) == 2
