"""Partition routing of engine events through the real RabbitMQ on 127.0.0.1:5672:
an execution's events reach only the engine consuming its partition, wait in the
partition's queue while nobody does, and one engine at a time receives them."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.functional.distributed.test_kombu_transport import Inbox, _transport
from wfaas.rpc.partitions import PARTITIONS, partition_of

pytestmark = pytest.mark.rabbit

LOW, HIGH = list(range(PARTITIONS // 2)), list(range(PARTITIONS // 2, PARTITIONS))


def _ids_in(partitions: list[int], count: int) -> list[str]:
    wanted = set(partitions)
    ids = (f"ex-{i}" for i in range(100_000))
    return [i for i in ids if partition_of(i) in wanted][:count]


def _send(url: str, ids: list[str]) -> None:
    client = _transport(url)
    try:
        for n, ex_id in enumerate(ids):
            client.send_to_engine({"execution_id": ex_id, "event": {"n": n}})
    finally:
        client.stop()


def test_events_reach_only_the_engine_owning_their_partition(rabbit_url: str) -> None:
    a, b = _transport(rabbit_url), _transport(rabbit_url)
    got_a, got_b = Inbox(), Inbox()
    a.serve_engine(got_a)
    b.serve_engine(got_b)
    a.engine_partitions(LOW)
    b.engine_partitions(HIGH)
    a.start()
    b.start()
    try:
        assert a.wait_connected() and b.wait_connected()
        assert (a.consumed_partitions(), b.consumed_partitions()) == (LOW, HIGH)
        ids = [f"ex-{i}" for i in range(200)]
        _send(rabbit_url, ids)
        client = _transport(rabbit_url)  # no execution: the shared queue, any engine
        client.send_to_engine({"execution_id": None, "event": {"kind": "beat"}})
        client.stop()
        deadline = time.monotonic() + 20
        while len(got_a.items) + len(got_b.items) < 201 and time.monotonic() < deadline:
            time.sleep(0.05)
        mine = [m["execution_id"] for m in got_a.items if m["execution_id"]]
        theirs = [m["execution_id"] for m in got_b.items if m["execution_id"]]
        assert sorted(mine + theirs) == sorted(ids)
        assert all(partition_of(i) < PARTITIONS // 2 for i in mine)
        assert all(partition_of(i) >= PARTITIONS // 2 for i in theirs)
        assert 40 < len(mine) < 160
        beats = [m for m in got_a.items + got_b.items if m["execution_id"] is None]
        assert len(beats) == 1
    finally:
        a.stop()
        b.stop()


def test_events_of_an_unowned_partition_wait_for_the_engine_taking_it_over(
        rabbit_url: str) -> None:
    a = _transport(rabbit_url)
    got_a = Inbox()
    a.serve_engine(got_a)
    a.engine_partitions(LOW)
    a.start()
    b = _transport(rabbit_url)
    got_b = Inbox()
    try:
        assert a.wait_connected()
        low, high = _ids_in(LOW, 30), _ids_in(HIGH, 30)
        _send(rabbit_url, low + high)
        assert sorted(m["execution_id"] for m in got_a.wait(30)) == sorted(low)
        time.sleep(0.5)
        assert len(got_a.items) == 30  # the other half waits in its queues
        b.serve_engine(got_b)
        b.engine_partitions(HIGH)  # e.g. the new owner after an engine died
        b.start()
        assert sorted(m["execution_id"] for m in got_b.wait(30)) == sorted(high)
        assert len(got_a.items) == 30
    finally:
        a.stop()
        b.stop()


def test_one_engine_at_a_time_receives_a_partition(rabbit_url: str) -> None:
    a, b = _transport(rabbit_url), _transport(rabbit_url)
    got_a, got_b = Inbox(), Inbox()
    for t, inbox in ((a, got_a), (b, got_b)):
        t.serve_engine(inbox)
        t.engine_partitions([5])  # both think they own it (membership views differ)
    a.start()
    try:
        assert a.wait_connected()
        b.start()
        assert b.wait_connected()
        first, second = _ids_in([5], 40)[:20], _ids_in([5], 40)[20:]
        _send(rabbit_url, first)
        assert len(got_a.wait(20)) == 20
        assert got_b.items == []  # a subscribed first: the single active consumer
        a.engine_partitions([])  # a lets it go: b receives the next ones at once
        deadline = time.monotonic() + 10
        while not a.wait_connected(0.1) and time.monotonic() < deadline:
            pass
        _send(rabbit_url, second)
        assert sorted(m["execution_id"] for m in got_b.wait(20)) == sorted(second)
        assert len(got_a.items) == 20
    finally:
        a.stop()
        b.stop()


def test_messages_waiting_when_an_engine_lets_a_partition_go_reach_the_next_one(
        rabbit_url: str) -> None:
    """RabbitMQ (up to 3.13) hands a single-active-consumer queue to its next consumer
    on ``basic.cancel`` without delivering the messages already waiting there; with
    no later message to the partition they would wait forever. The engine letting the
    partition go nudges it."""
    url = rabbit_url + "&engine_prefetch=1"
    a, b = _transport(url), _transport(url)
    release = threading.Event()
    got_a, got_b = Inbox(), Inbox()

    def slow(msg: dict[str, Any]) -> None:  # holds its one message: the rest waits
        got_a(msg)
        release.wait(20)

    a.serve_engine(slow)
    b.serve_engine(got_b)
    for t in (a, b):
        t.engine_partitions([5])
    a.start()
    try:
        assert a.wait_connected()
        b.start()
        assert b.wait_connected()
        ids = _ids_in([5], 10)
        _send(rabbit_url, ids)
        assert len(got_a.wait(1)) == 1
        a.engine_partitions([])  # b is the single active consumer from now on
        deadline = time.monotonic() + 10
        while not a.wait_connected(0.1) and time.monotonic() < deadline:
            pass
        release.set()
        got = got_b.wait(9, timeout=15)
        assert sorted(m["execution_id"] for m in got) == sorted(ids[1:])
        assert [m["execution_id"] for m in got_a.items] == ids[:1]
    finally:
        release.set()
        a.stop()
        b.stop()
