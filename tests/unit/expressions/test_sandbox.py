"""Templates cannot reach Python internals; YAQL and Jinja cannot run away."""

from __future__ import annotations

import pytest

from wfaas.exceptions import ExpressionError
from wfaas.expressions import configure, evaluate, validate

DATA = {"l": [1, 2], "d": {"k": "v"}, "s": "text"}


@pytest.mark.parametrize("text", [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ _.__class__ }}",
    "{{ _.l.__class__.__base__ }}",
    "{{ (1).__class__.__bases__[0].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ joiner.__init__.__globals__.os }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ env.__globals__ }}",
    "{{ task.__closure__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ _.d.__getitem__('k') }}",
    "{{ ''.format.__self__ }}",
    "{{ _.s.__len__() }}",
    "{% for c in ''.__class__.__mro__[1].__subclasses__() %}{{ c }}{% endfor %}",
    "{{ lipsum() }}",
    "{{ config }}",
    "{{ request }}",
    "{{ _.l.append(3) }}",
    "{{ _.d.update({'k': 'x'}) }}",
    "{{ _.d.pop('k') }}",
    "{{ _.l.clear() }}",
    "x {{ _.l.append(3) }} y",
])
def test_jinja_sandbox_refuses(text: str) -> None:
    data = {"l": [1, 2], "d": {"k": "v"}, "s": "text"}
    with pytest.raises(ExpressionError):
        evaluate(text, data)
    assert data == DATA


@pytest.mark.parametrize("text, fragment", [
    ("{{ range(1000000) | list }}", "Range too big"),
    ("{{ 'a' * 100000000 }}", "memory quota"),
    ("{{ [0] * 100000000 }}", "memory quota"),
    ("{{ 100000000 * 'a' }}", "memory quota"),
    ("{{ 2 ** 10000000 }}", "too large"),
    ("{{ 9 ** (9 ** 9) }}", "too large"),
    ("{{ '%1000000000d' % 1 }}", "format width"),
    ("{{ '%*d' % (1000000000, 1) }}", "format width"),
    ("{{ '%(a)1000000000s' % {'a': 1} }}", "format width"),
    ("{{ '{:>1000000000}'.format(1) }}", "format width"),
    ("{{ '{:{}}'.format(1, 1000000000) }}", "format width"),
    ("{{ '{x:>1000000000}'.format_map({'x': 1}) }}", "format width"),
    ("{{ '%1000000000d' | format(1) }}", "format width"),
    ("{{ 'x' | center(10000000000) }}", "center filter"),
    ("{{ 'a' | indent(10000000000) }}", "indent filter"),
    ("{{ 'x' | wordwrap(10000000000) }}", "wordwrap filter"),
    ("{{ 'x' | truncate(10000000000) }}", "truncate filter"),
    ("{{ 'x'.center(10000000000) }}", "str.center"),
    ("{{ 'x'.ljust(width=10000000000) }}", "str.ljust"),
    ("{{ 'x'.zfill(10000000000) }}", "str.zfill"),
    ("{{ '\t'.expandtabs(10000000000) }}", "str.expandtabs"),
])
def test_jinja_resource_limits(text: str, fragment: str) -> None:
    with pytest.raises(ExpressionError, match=fragment):
        evaluate(text, DATA)


@pytest.mark.parametrize("text, expected", [
    ("{{ 2 ** 10 }}", 1024),
    ("{{ 'ab' * 3 }}", "ababab"),
    ("{{ [1] * 3 }}", [1, 1, 1]),
    ("{{ 2.5 * 2 }}", 5.0),
    ("{{ 7 % 3 }}", 1),
    ("{{ '%5d|%s' % (3, 'a') }}", "    3|a"),
    ("{{ 'Order 123456789012: %s' % 1 }}", "Order 123456789012: 1"),
    ("{{ '{:>5}|{}'.format(1, 99999999999) }}", "    1|99999999999"),
    ("{{ '%s' | format(99999999999) }}", "99999999999"),
    ("{{ 'x' | center(5) }}", "  x  "),
    ("{{ 'x'.center(5) }}", "  x  "),
    ("{{ 'abcdef' | truncate(5, leeway=0) }}", "ab..."),
    ("{{ 'a b' | wordwrap(1) }}", "a\nb"),
])
def test_jinja_ordinary_operations_still_work(text: str, expected: object) -> None:
    assert evaluate(text, {}) == expected


@pytest.mark.parametrize("text", [
    "<% sequence().toList() %>",
    "<% sequence() %>",
    "<% range(1000000).toList() %>",
    "<% range(200000) %>",
])
def test_yaql_iteration_limit(text: str) -> None:
    with pytest.raises(ExpressionError, match="Collection length exceeds 100000"):
        evaluate(text, {})


def test_yaql_limit_is_configurable() -> None:
    configure(limit_iterators=10)
    with pytest.raises(ExpressionError, match="exceeds 10 elements"):
        evaluate("<% range(11) %>", {})
    with pytest.raises(ExpressionError, match="exceeds 10 elements"):
        evaluate("<% range(1000000).select($ * 2) %>", {})
    with pytest.raises(ExpressionError, match="exceeds 10 elements"):
        evaluate("<% $ %>", list(range(11)))
    assert evaluate("<% range(10) %>", {}) == list(range(10))
    configure(limit_iterators=-1)
    assert len(evaluate("<% range(200000) %>", {})) == 200000
    configure()
    with pytest.raises(ExpressionError):
        evaluate("<% range(200000) %>", {})


def test_yaql_memory_quota() -> None:
    with pytest.raises(ExpressionError, match="max_value_size_kb"):
        evaluate("<% 'a' * 100000000 %>", {})
    configure(memory_quota=1000)
    with pytest.raises(ExpressionError, match="[Mm]emory"):
        evaluate("<% 'a' * 5000 %>", {})
    configure(memory_quota=1000)
    with pytest.raises(ExpressionError, match="memory quota"):
        evaluate("{{ 'a' * 5000 }}", {})
    configure()
    assert len(evaluate("<% 'a' * 5000 %>", {})) == 5000


@pytest.mark.parametrize("text", [
    "<% $.__class__ %>",
    "<% $.d.__class__.__mro__ %>",
    "<% call(open, ['/etc/passwd']) %>",
])
def test_yaql_has_no_path_to_python(text: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(text, DATA)


def test_endless_iterator_passed_to_a_function_is_limited() -> None:
    with pytest.raises(ExpressionError, match="Collection length exceeds"):
        evaluate("<% json_dump(sequence()) %>", {})


def test_very_long_strings_are_evaluated_without_caching() -> None:
    text = "x" * 20000 + " <% $.a %> {end}"
    assert evaluate(text, {"a": 1}) == "x" * 20000 + " 1 {end}"
    template = "{{ _.a }}" + "y" * 20000
    assert evaluate(template, {"a": 2}) == "2" + "y" * 20000
    assert evaluate("<% " + " + ".join(["$.a"] * 100) + " %>", {"a": 1}) == 100


def test_absurdly_nested_expressions_are_errors_not_crashes() -> None:
    text = "<% " + " + ".join(["$.a"] * 1500) + " %>"
    with pytest.raises(ExpressionError) as info:
        evaluate(text, {"a": 1})
    assert len(str(info.value)) < 1000
    assert info.value.expression == text
    assert isinstance(validate(text), list)  # valid syntax; no crash either way
    jinja = "{{ " + "(" * 1500 + "1" + ")" * 1500 + " }}"
    with pytest.raises(ExpressionError):
        evaluate(jinja, {})
    assert validate(jinja)


@pytest.mark.parametrize("text, expected", [
    ("<% pow(2, 10) %>", 1024),
    ("<% pow(2, 10, 1000) %>", 24),
    ("<% pow(2.0, 0.5) > 1.41 %>", True),
    ("<% pow(7, 10 * 1000 * 1000, 13) %>", pow(7, 10**7, 13)),
    ("<% shiftBitsLeft(1, 10) %>", 1024),
    ("<% shiftBitsRight(1024, 3) %>", 128),
])
def test_yaql_big_numbers_within_bounds(text: str, expected: object) -> None:
    assert evaluate(text, {}) == expected


@pytest.mark.parametrize("text", [
    "<% pow(10, 10 * 1000 * 1000 * 1000) %>",
    "<% pow(2, 200000) %>",
    "<% shiftBitsLeft(1, 10 * 1000 * 1000 * 1000) %>",
])
def test_yaql_big_numbers_refused(text: str) -> None:
    with pytest.raises(ExpressionError, match="too large"):
        evaluate(text, {})


@pytest.mark.parametrize("text", [
    "<% range(100000).select(range(2000).sum()) %>",
    "<% range(100000).select(range(200).select($ * 2).len()) %>",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{{ range(100000) | map('string') | map('length') | sum }}{% for i in range(99999) %}"
    "{{ range(100) | sum }}{% endfor %}",
])
def test_evaluation_time_limit(text: str) -> None:
    import time

    configure(timeout=0.2, max_fuel=0)
    started = time.monotonic()
    with pytest.raises(ExpressionError, match=r"time budget of 0.2 s \(\[expressions\] "
                                              r"evaluation_timeout\)"):
        evaluate(text, {})
    assert time.monotonic() - started < 20  # generous: the CI machine may be busy
    configure(timeout=30)
    assert evaluate("<% range(10).sum() %>", {}) == 45
    assert evaluate("{{ range(10) | sum }}", {}) == 45


def test_budget_is_per_evaluation_and_nests() -> None:
    from wfaas.expressions import budget

    with budget.running(budget.Limits(timeout=1e-9)) as outer:
        with budget.running(budget.Limits(timeout=100)) as inner:  # the outer budget stays
            assert inner is outer
        with pytest.raises(budget.BudgetExceeded, match="time budget"):
            for _ in range(1_000_000):  # a nanosecond passes quickly
                budget.check()
    assert budget.current() is None
    budget.check()  # no evaluation running: never raises
