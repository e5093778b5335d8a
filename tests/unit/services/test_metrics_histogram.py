"""wfaas.metrics.Histogram answers what prometheus_client's Histogram answers."""

from __future__ import annotations

import prometheus_client
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from wfaas import metrics

OBSERVED = [0.0, 0.0004, 0.0005, 0.0007, 0.001, 0.3, 2.5, 7.0, 1e9]


def _samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(registry).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples
            if not s.name.endswith("_created")}


@pytest.mark.parametrize("labels", [(), ("state",)])
def test_same_exposition_as_the_library_histogram(labels: tuple[str, ...]) -> None:
    theirs, ours = CollectorRegistry(), CollectorRegistry()
    ref = prometheus_client.Histogram("h_seconds", "help", labels, buckets=metrics.FAST,
                                      registry=theirs)
    mine = metrics.Histogram("h_seconds", "help", labels, buckets=metrics.FAST, registry=ours)
    for i, amount in enumerate(OBSERVED):
        if labels:
            value = "SUCCESS" if i % 3 else "ERROR"
            ref.labels(value).observe(amount)
            mine.labels(value).observe(amount)
        else:
            ref.observe(amount)
            mine.observe(amount)
    got = _samples(ours)
    assert got == _samples(theirs)
    assert any(value == len(OBSERVED) for (name, _), value in got.items()
               if name == "h_seconds_count") or labels


def test_wrong_label_count_is_refused() -> None:
    h = metrics.Histogram("x_seconds", "help", ("a",), buckets=(1.0,),
                          registry=CollectorRegistry())
    with pytest.raises(ValueError):
        h.labels("1", "2")
