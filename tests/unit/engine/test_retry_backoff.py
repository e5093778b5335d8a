"""The retry backoff extension: delay formulas, jitter bounds, error filter, validation."""

from __future__ import annotations

import pytest

from wfaas.engine.retry import error_matches, retry_delay
from wfaas.lang import validate_text


def test_constant_linear_exponential_and_cap() -> None:
    assert [retry_delay(3, n) for n in (1, 2, 3)] == [3, 3, 3]  # Mistral's
    assert [retry_delay(3, n, backoff="linear") for n in (1, 2, 3)] == [3, 6, 9]
    assert [retry_delay(1, n, backoff="exponential") for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert retry_delay(1, 4, backoff="exponential", multiplier=10) == 1000
    assert retry_delay(1, 40, backoff="exponential", max_delay=60) == 60
    assert retry_delay(1, 10_000, backoff="exponential") > 0  # no overflow


def test_jitter_stays_in_bounds_and_spreads_tasks() -> None:
    waits = [retry_delay(10, 1, jitter=0.5, seed=f"task-{i}") for i in range(200)]
    assert all(5 <= w <= 10 for w in waits)
    assert len({round(w, 6) for w in waits}) > 150  # tasks failing together spread out
    full = [retry_delay(10, 1, jitter=True, seed=f"t{i}") for i in range(200)]
    assert min(full) < 1 and max(full) > 9
    assert retry_delay(10, 1, jitter=True, seed="same") == retry_delay(10, 1, jitter=True,
                                                                       seed="same")
    with pytest.raises(ValueError, match="jitter"):
        retry_delay(1, 1, jitter=2)


def test_error_filter() -> None:
    assert error_matches((), "anything", None)
    assert error_matches(("timed out",), None, "Read timed out after 3 s")
    assert error_matches(('"code": 429',), {"code": 429}, None)
    assert not error_matches(("^HTTP 5",), "HTTP 404", None)


def _problems(retry: str) -> list[str]:
    text = f"""version: '2.0'
wf:
  tasks:
    t:
      action: std.noop
      retry:
{retry}
"""
    return [str(p) for p in validate_text(text)]


def test_validation_names_bad_values() -> None:
    assert _problems("        count: 2\n        delay: 1\n        backoff: exponential\n"
                     "        multiplier: 1.5\n        max-delay: 30\n        jitter: 0.2\n"
                     "        on-errors: ['timeout']") == []
    bad = _problems("        count: 2\n        delay: 1\n        backoff: quadratic\n"
                    "        jitter: 3\n        on-errors: ['(unclosed']\n        max-dealy: 3")
    text = "\n".join(bad)
    assert "backoff" in text and "jitter" in text and "(unclosed" in text
    assert "max-delay" in text  # the suggestion for the misspelt key
