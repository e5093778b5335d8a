"""Generated hostile expressions: each returns or fails with an ExpressionError, in time,
and memory stays bounded (a seeded hypothesis search, ~30 expressions per language)."""

from __future__ import annotations

import resource
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wfaas.exceptions import ExpressionError
from wfaas.expressions import configure, evaluate

TIMEOUT = 0.2
#: Allowance over the deadline for one evaluation on a busy CI machine.
SLACK = 2.0
MAX_PEAK_GROWTH_MB = 600

_SIZES = st.sampled_from([3, 1000, 30000, 9000000])
_PATTERNS = st.sampled_from(["(a+)+$", "(a|aa)*$", "(a*)*b", "a.c", "(x+x+)+y", "(a)\\\\1"])

YAQL_LEAVES = st.one_of(
    _SIZES.map(lambda n: f"range({n})"),
    _SIZES.map(lambda n: f"('a' * {n})"),
    st.sampled_from([2000, 20000]).map(lambda k: f"pow(10, {k})"),
    _PATTERNS.map(lambda p: f"regex('{p}').matches('a' * 40 + '!')"),
    st.just("$"),
)


def _yaql_step(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, inner).map(lambda t: f"{t[0]}.select({t[1]})"),
        inner.map(lambda x: f"{x}.toList()"),
        inner.map(lambda x: f"{x}.sum()"),
        inner.map(lambda x: f"{x}.select(str($)).join(',')"),
        inner.map(lambda x: f"let(x => {x}) -> $x * $x"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]} + {t[1]})"),
        inner.map(lambda x: f"{x}.len()"),
        inner.map(lambda x: f"str({x}).replace('a', 'aaaaaaaaaa')"),
    )


JINJA_LEAVES = st.one_of(
    _SIZES.map(lambda n: f"range({min(n, 100000)})"),
    _SIZES.map(lambda n: f"('a' * {n})"),
    st.sampled_from([2000, 20000]).map(lambda k: f"(10 ** {k})"),
    st.just("_"),
)


def _jinja_step(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        inner.map(lambda x: f"({x} | list)"),
        inner.map(lambda x: f"({x} | join)"),
        inner.map(lambda x: f"({x} ~ {x})"),
        inner.map(lambda x: f"({x} * {x})"),
        inner.map(lambda x: f"({x} | string | replace('a', 'aaaaaaaaaa'))"),
        inner.map(lambda x: f"({x} | map('string') | list)"),
    )


YAQL = st.recursive(YAQL_LEAVES, _yaql_step, max_leaves=4).map(lambda e: f"<% {e} %>")
JINJA_EXPR = st.recursive(JINJA_LEAVES, _jinja_step, max_leaves=4)
JINJA = st.one_of(
    JINJA_EXPR.map(lambda e: "{{ " + e + " }}"),
    st.tuples(JINJA_EXPR, JINJA_EXPR).map(
        lambda t: "{% for i in " + t[0] + " %}{% for j in " + t[1] + " %}{{ j }}"
                  "{% endfor %}{% endfor %}"),
)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _check(text: str) -> None:
    configure(timeout=TIMEOUT)
    started = time.monotonic()
    try:
        evaluate(text, {"x": 1})
    except ExpressionError:
        pass
    finally:
        configure()
    elapsed = time.monotonic() - started
    assert elapsed < TIMEOUT + SLACK, (text, elapsed)


_BASELINE = _peak_mb()
_SETTINGS = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                     suppress_health_check=list(HealthCheck))


@_SETTINGS
@given(YAQL)
def test_generated_yaql_expressions_stay_within_budget(text: str) -> None:
    _check(text)
    assert _peak_mb() - _BASELINE < MAX_PEAK_GROWTH_MB


@_SETTINGS
@given(JINJA)
def test_generated_jinja_expressions_stay_within_budget(text: str) -> None:
    _check(text)
    assert _peak_mb() - _BASELINE < MAX_PEAK_GROWTH_MB
