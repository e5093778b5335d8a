"""Prometheus metrics of a wfaas process (``/metrics``; prometheus_client).

A leaf module like :mod:`wfaas.exceptions`: the shell (services, executors,
scheduler, api) records through the small functions below, never through
prometheus_client directly, so the metric names live in one place. The pure
layers (engine, lang, expressions) record nothing. Labels are bounded sets
(states, limit names, queue names): never a workflow, task or action name, which
tenants choose and which would make the series count unbounded.

In one process (the default) ``/metrics`` of the API shows everything; in
distributed mode each role serves its own metrics on ``[metrics] port``.
"""

from __future__ import annotations

import math
import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    disable_created_metrics,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.utils import floatToGoString

disable_created_metrics()  # type: ignore[no-untyped-call]
REGISTRY = CollectorRegistry(auto_describe=True)


class _Series:
    """One labelled series of a :class:`Histogram`: the count per bucket and the sum."""

    __slots__ = ("bounds", "counts", "sum", "lock")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * len(bounds)
        self.sum = 0.0
        self.lock = threading.Lock()

    def observe(self, amount: float) -> None:
        """Count ``amount`` in the first bucket whose upper bound is >= it."""
        i = bisect_left(self.bounds, amount)
        with self.lock:
            self.counts[i] += 1
            self.sum += amount


class Histogram:
    """A Prometheus histogram (the exposition of ``prometheus_client.Histogram``) whose
    ``observe`` is one bisect under one lock: the engine observes a commit and each
    finished task per step, where the library's observe cost several calls and locks."""

    def __init__(self, name: str, documentation: str, labelnames: Iterable[str] = (), *,
                 buckets: Iterable[float], registry: CollectorRegistry) -> None:
        self.name, self.documentation = name, documentation
        self.labelnames = tuple(labelnames)
        bounds = sorted(float(b) for b in buckets)
        self.bounds = tuple(bounds if bounds and bounds[-1] == math.inf else bounds + [math.inf])
        self._les = [floatToGoString(b) for b in self.bounds]  # type: ignore[no-untyped-call]
        self._series: dict[tuple[str, ...], _Series] = {}
        self._lock = threading.Lock()
        if not self.labelnames:
            self._series[()] = _Series(self.bounds)
        registry.register(self)

    def labels(self, *values: str) -> _Series:
        """The series of these label values (made at first use)."""
        key = tuple(str(v) for v in values)
        found = self._series.get(key)
        if found is None:
            if len(key) != len(self.labelnames):
                raise ValueError(f"{self.name} takes labels {self.labelnames}, got {key}")
            with self._lock:
                found = self._series.setdefault(key, _Series(self.bounds))
        return found

    def observe(self, amount: float) -> None:
        """Observe ``amount`` (a histogram without labels)."""
        self._series[()].observe(amount)

    def describe(self) -> list[HistogramMetricFamily]:
        """The family without samples (registry name checks)."""
        return [HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)]

    def collect(self) -> list[HistogramMetricFamily]:
        """The cumulative buckets, count and sum of every series."""
        family = self.describe()[0]
        for key, series in list(self._series.items()):
            with series.lock:
                counts, total = list(series.counts), series.sum
            running, buckets = 0, []
            for le, count in zip(self._les, counts, strict=True):
                running += count
                buckets.append((le, float(running)))
            family.add_metric(list(key), buckets, total)
        return [family]

FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
SLOW = (0.001, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)

EXECUTIONS_STARTED = Counter("wfaas_executions_started", "Workflow executions started.",
                             registry=REGISTRY)
EXECUTIONS_FINISHED = Counter("wfaas_executions_finished",
                              "Workflow executions that reached a final state, by state.",
                              ["state"], registry=REGISTRY)
TASK_SECONDS = Histogram("wfaas_task_duration_seconds",
                         "Task execution time from start to final state, by final state.",
                         ["state"], buckets=SLOW, registry=REGISTRY)
ACTION_SECONDS = Histogram("wfaas_action_duration_seconds",
                           "Time spent running one action (by an executor, or inside the "
                           "engine step for the folded std actions), by outcome.",
                           ["outcome"], buckets=SLOW, registry=REGISTRY)
STEP_SECONDS = Histogram("wfaas_engine_step_seconds",
                         "Engine step time: load, decide and persist one batch.",
                         buckets=FAST, registry=REGISTRY)
COMMIT_SECONDS = Histogram("wfaas_db_commit_seconds", "Time of one database commit.",
                           buckets=FAST, registry=REGISTRY)
SCHEDULER_LAG = Histogram("wfaas_scheduler_lag_seconds",
                          "How late a delayed call or cron trigger fired after its due time.",
                          ["kind"], buckets=FAST + (5.0, 30.0), registry=REGISTRY)
LIMIT_BREACHES = Counter("wfaas_limit_breaches", "Limits and budgets that stopped work, by limit.",
                         ["limit"], registry=REGISTRY)
QUEUE_DEPTH = Gauge("wfaas_queue_depth", "Work waiting in an in-process queue.", ["queue"],
                    registry=REGISTRY)

_server_lock = threading.Lock()
_server_started = False
#: the labelled child of each (metric, label value) already used: ``labels()`` costs more
#: than the ``inc()``/``observe()`` it precedes, and every label set here is bounded
_children: dict[tuple[Any, str], Any] = {}


def _child(metric: Any, value: str) -> Any:
    """``metric.labels(value)``, looked up once per value."""
    key = (metric, value)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(value)
    return child


def execution_started() -> None:
    """One workflow execution was stored and handed to the engine."""
    EXECUTIONS_STARTED.inc()


def execution_finished(state: str) -> None:
    """A workflow execution reached ``state`` (SUCCESS, ERROR, CANCELLED)."""
    _child(EXECUTIONS_FINISHED, state).inc()


def task_finished(state: str, seconds: float | None) -> None:
    """A task reached a final ``state`` after ``seconds`` (None: unknown)."""
    if seconds is not None and seconds >= 0:
        _child(TASK_SECONDS, state).observe(seconds)


def action_ran(outcome: str, seconds: float) -> None:
    """An executor finished one action (``outcome``: success, error, cancelled)."""
    _child(ACTION_SECONDS, outcome).observe(max(0.0, seconds))


def scheduler_lag(kind: str, seconds: float) -> None:
    """A delayed call (``kind`` = delayed_call) or cron trigger fired ``seconds`` late."""
    _child(SCHEDULER_LAG, kind).observe(max(0.0, seconds))


#: the most distinct ``limit`` labels of wfaas_limit_breaches_total; a new one past it
#: is counted as ``other``. Labels are option names the shell writes (about 15), never a
#: tenant's text, but a message parsed wrongly must not become a new series per tenant.
MAX_LIMIT_LABELS = 64
_limit_labels: set[str] = set()
_limit_labels_lock = threading.Lock()


def limit_breached(limit: str) -> None:
    """A limit or budget (its option name, e.g. ``limits.max_nesting_depth``) stopped work."""
    if limit not in _limit_labels:
        with _limit_labels_lock:
            if limit not in _limit_labels:
                if len(_limit_labels) >= MAX_LIMIT_LABELS:
                    limit = "other"
                else:
                    _limit_labels.add(limit)
    LIMIT_BREACHES.labels(limit).inc()


def watch_queue(name: str, size: Callable[[], float]) -> None:
    """Report ``size()`` as the depth of queue ``name`` at every scrape (NaN if it fails)."""
    def read() -> float:
        try:
            return float(size())
        except Exception:  # noqa: BLE001 - a scrape must never fail on one gauge
            return float("nan")

    QUEUE_DEPTH.labels(name).set_function(read)


@contextmanager
def timed(histogram: Histogram) -> Iterator[None]:
    """Observe the time of the ``with`` block in ``histogram`` (STEP_SECONDS, COMMIT_SECONDS)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        histogram.observe(time.perf_counter() - start)


def exposition() -> tuple[bytes, str]:
    """The text the ``/metrics`` endpoint answers, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def serve(port: int, host: str = "127.0.0.1") -> bool:
    """Serve ``/metrics`` on its own port (roles without the API); once per process."""
    global _server_started
    with _server_lock:
        if _server_started or port <= 0:
            return False
        start_http_server(port, addr=host, registry=REGISTRY)
        _server_started = True
        return True
