"""The RabbitMQ transport against the real broker on 127.0.0.1:5672."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from tests.functional.distributed.conftest import ensure_rabbit_app_running
from wfaas.rpc import get_transport
from wfaas.rpc.kombu_transport import REDELIVERED, KombuTransport, parse_url

pytestmark = pytest.mark.rabbit


class Inbox:
    """Collects handled messages; waits for a count."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.cond = threading.Condition()

    def __call__(self, msg: dict[str, Any]) -> None:
        with self.cond:
            self.items.append(msg)
            self.cond.notify_all()

    def wait(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        with self.cond:
            self.cond.wait_for(lambda: len(self.items) >= count, timeout)
            return list(self.items)


def _transport(url: str) -> KombuTransport:
    t = get_transport(url)
    assert isinstance(t, KombuTransport)
    return t


def test_parse_url_splits_hosts_and_own_options() -> None:
    urls, opts = parse_url("rabbit://a:b@h1:5672,a:b@h2/vh?queue_prefix=t1.&prefetch=4&ssl=1")
    assert urls == ["amqp://a:b@h1:5672/vh?ssl=1", "amqp://a:b@h2/vh?ssl=1"]
    assert opts == {"queue_prefix": "t1.", "prefetch": "4"}
    with pytest.raises(ValueError, match="scheme"):
        parse_url("redis://localhost")


def test_engine_and_executor_groups_route_separately(rabbit_url: str) -> None:
    server, client = _transport(rabbit_url), _transport(rabbit_url)
    engine, default, blue = Inbox(), Inbox(), Inbox()
    server.serve_engine(engine)
    server.serve_executor(default)
    server.serve_executor(blue, "blue")
    server.start()
    try:
        assert server.wait_connected()
        for i in range(20):
            client.send_to_engine({"execution_id": f"e{i}", "event": {"n": i}})
        client.send_to_executor({"action_id": "a1"}, None)
        client.send_to_executor({"action_id": "a2"}, "blue")
        got = engine.wait(20)
        assert sorted(m["event"]["n"] for m in got) == list(range(20))
        assert [m["action_id"] for m in default.wait(1)] == ["a1"]
        assert [m["action_id"] for m in blue.wait(1)] == ["a2"]
        assert all(REDELIVERED not in m for m in got)
    finally:
        server.stop()
        client.stop()


def test_messages_wait_in_durable_queue_for_a_late_consumer(rabbit_url: str) -> None:
    client = _transport(rabbit_url)
    client.send_to_executor({"action_id": "early"}, "red")
    client.stop()
    server = _transport(rabbit_url)
    inbox = Inbox()
    server.serve_executor(inbox, "red")
    server.start()
    try:
        assert [m["action_id"] for m in inbox.wait(1)] == ["early"]
    finally:
        server.stop()


def test_failing_handler_gets_the_message_once_more_then_it_is_dropped(rabbit_url: str) -> None:
    t = _transport(rabbit_url)
    calls: list[dict[str, Any]] = []
    cond = threading.Condition()

    def handler(msg: dict[str, Any]) -> None:
        with cond:
            calls.append(dict(msg))
            cond.notify_all()
        if msg.get("event") == "boom":
            raise RuntimeError("handler failure")

    t.serve_engine(handler)
    t.start()
    try:
        assert t.wait_connected()
        t.send_to_engine({"execution_id": "x", "event": "boom"})
        t.send_to_engine({"execution_id": "x", "event": "fine"})
        with cond:
            assert cond.wait_for(lambda: len(calls) >= 3, 15)
        time.sleep(0.5)  # a third delivery of "boom" would arrive within this
        booms = [c for c in calls if c["event"] == "boom"]
        assert len(booms) == 2
        assert REDELIVERED not in booms[0] and booms[1][REDELIVERED] is True
        assert len([c for c in calls if c["event"] == "fine"]) == 1
    finally:
        t.stop()


CRASHING_CONSUMER = """
import sys, time
from wfaas.rpc.kombu_transport import KombuTransport
t = KombuTransport(sys.argv[1])
def handler(msg):
    print("got", msg["event"], flush=True)
    time.sleep(600)
t.serve_engine(handler)
t.start()
t.wait_connected()
print("ready", flush=True)
time.sleep(600)
"""


def test_message_of_a_killed_consumer_is_redelivered(rabbit_url: str) -> None:
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    proc = subprocess.Popen([sys.executable, "-c", CRASHING_CONSUMER, rabbit_url],
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        client = _transport(rabbit_url)
        client.send_to_engine({"execution_id": "x", "event": "work"})
        assert proc.stdout.readline().strip() == "got work"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        survivor = _transport(rabbit_url)
        inbox = Inbox()
        survivor.serve_engine(inbox)
        survivor.start()
        try:
            got = inbox.wait(1)
            assert got[0]["event"] == "work" and got[0][REDELIVERED] is True
        finally:
            survivor.stop()
            client.stop()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_rabbitmq_restart_delays_but_loses_nothing(rabbit_url: str) -> None:
    server, client = _transport(rabbit_url), _transport(rabbit_url)
    inbox = Inbox()
    server.serve_engine(inbox)
    server.start()
    sent: list[int] = []
    try:
        assert server.wait_connected()

        def publish() -> None:
            for i in range(60):
                client.send_to_engine({"execution_id": "r", "event": i})
                sent.append(i)
                time.sleep(0.05)

        publisher = threading.Thread(target=publish)
        publisher.start()
        time.sleep(0.5)
        subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True, timeout=120)
        time.sleep(2)
        subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True,
                       timeout=120)
        publisher.join(120)
        assert sent == list(range(60))
        got = inbox.wait(60, timeout=60)
        assert set(range(60)) <= {m["event"] for m in got}
    finally:
        ensure_rabbit_app_running()
        server.stop()
        client.stop()


def test_one_failed_publish_drops_every_idle_connection(rabbit_url: str) -> None:
    """After a broker restart every idle publishing connection is dead: the retry must
    open a fresh one at once, not try each dead one through the back-off steps."""
    client = _transport(rabbit_url)
    server = _transport(rabbit_url)
    inbox = Inbox()
    server.serve_executor(inbox, "red")
    server.start()
    try:
        producers = [client._take_producer() for _ in range(5)]  # five idle connections
        for producer in producers:
            producer.connection.connection.sock.close()  # as if the broker had gone away
            client._idle_producers.put(producer)
        started = time.monotonic()
        client.send_to_executor({"action_id": "after-restart"}, "red")
        elapsed = time.monotonic() - started
        assert [m["action_id"] for m in inbox.wait(1)] == ["after-restart"]
        # one back-off step (0.5 s), not 0.5 + 1 + 2 + 4 + 5 s through every dead connection
        assert elapsed < 3.0, elapsed
        assert client._idle_producers.qsize() == 1
    finally:
        server.stop()
        client.stop()


def _ready_unacked(t: KombuTransport, group: str | None) -> tuple[int, int]:
    """(ready, unacknowledged) of an executor queue, from the broker's management CLI."""
    name = t.executor_queue(group).name
    out = subprocess.run(["rabbitmqctl", "list_queues", "-q", "name", "messages_ready",
                          "messages_unacknowledged"], capture_output=True, text=True,
                         timeout=60).stdout
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] == name:
            return int(parts[1]), int(parts[2])
    raise AssertionError(f"queue {name} not listed: {out}")


def test_executor_capacity_holds_no_request_behind_busy_workers(rabbit_url: str) -> None:
    """A capacity-2 consumer runs 2 at once and leaves the other requests in the
    queue, for any executor: none is parked behind its busy workers."""
    server, client = _transport(rabbit_url), _transport(rabbit_url)
    release = threading.Event()
    running: list[str] = []
    peak = [0]
    lock = threading.Lock()

    def handler(msg: dict[str, Any]) -> None:
        with lock:
            running.append(msg["action_id"])
            peak[0] = max(peak[0], len(running) - done[0])
        release.wait(30)
        with lock:
            done[0] += 1

    done = [0]
    server.serve_executor(handler, "blue", capacity=2)
    server.start()
    try:
        assert server.wait_connected()
        for i in range(6):
            client.send_to_executor({"action_id": f"a{i}"}, "blue")
        deadline = time.monotonic() + 15
        while len(running) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # time for the broker to push more, if it would
        assert len(running) == 2
        assert _ready_unacked(server, "blue") == (4, 2)  # the 2 running: acked when done
        release.set()
        deadline = time.monotonic() + 15
        while done[0] < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(running) == [f"a{i}" for i in range(6)] and peak[0] <= 2
    finally:
        release.set()
        server.stop()
        client.stop()


def test_a_batch_of_requests_arrives_once_each_in_order(rabbit_url: str) -> None:
    server, client = _transport(rabbit_url), _transport(rabbit_url)
    inbox = Inbox()
    server.serve_executor(inbox, "batch", capacity=1)  # one at a time: in queue order
    server.start()
    try:
        assert server.wait_connected()
        client.send_many_to_executor([({"action_id": f"a{i}"}, "batch") for i in range(300)]
                                     + [({"action_id": "other"}, "batch-b")])
        got = inbox.wait(300, timeout=60)
        assert [m["action_id"] for m in got] == [f"a{i}" for i in range(300)]
        producer = client._idle_producers.get_nowait()  # every confirm came back
        assert producer.unconfirmed == set()
        assert _ready_unacked(client, "batch-b")[0] == 1
    finally:
        server.stop()
        client.purge_and_delete([client.executor_queue("batch-b").name], exchange=False)
        client.stop()


def test_engine_partitions_take_a_larger_window_than_other_consumers(rabbit_url: str) -> None:
    from wfaas.rpc.kombu_transport import PARTITIONS_KEY

    default, seven = _transport(rabbit_url), _transport(rabbit_url + "&engine_prefetch=7")
    for transport, window in ((default, 128), (seven, 7)):
        transport.serve_engine(Inbox())
        consumers = transport._consumers
        assert consumers[PARTITIONS_KEY].limit == window  # events applied per step, at most
        assert consumers["engine"].limit == transport.prefetch == 16
