"""The labels of wfaas_limit_breaches_total stay a bounded set (issue 14, cardinality)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from wfaas import metrics
from wfaas.services.limits import count_breach


def _series() -> dict[str, float]:
    return {s.labels["limit"]: s.value for family in metrics.REGISTRY.collect()
            if family.name == "wfaas_limit_breaches" for s in family.samples
            if s.name == "wfaas_limit_breaches_total"}


@pytest.fixture
def fresh_labels(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The label set as if no breach was counted yet; the series added are removed."""
    before = set(_series())
    monkeypatch.setattr(metrics, "_limit_labels", set())
    yield
    for label in set(_series()) - before:
        metrics.LIMIT_BREACHES.remove(label)


def test_tenant_text_in_a_limit_message_is_not_a_label(fresh_labels: None) -> None:
    # a task name is the tenant's text and comes before the option the message names
    count_breach("task 'x ([limits] evil_1)' ran 51 tasks ([limits] max_tasks_per_execution)")
    assert "limits.evil_1" not in _series()
    assert _series()["limits.max_tasks_per_execution"] >= 1


def test_distinct_labels_are_capped(fresh_labels: None,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "MAX_LIMIT_LABELS", 3)
    before = _series().get("other", 0.0)
    for i in range(10):
        metrics.limit_breached(f"test.cap_{i}")
    metrics.limit_breached("test.cap_0")  # a known label keeps its own series
    labels = set(_series())
    assert {"test.cap_0", "test.cap_1", "test.cap_2"} <= labels
    assert not {f"test.cap_{i}" for i in range(3, 10)} & labels
    assert _series()["other"] == before + 7
    assert _series()["test.cap_0"] == 2
