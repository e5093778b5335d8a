"""A consumer the broker cancels (``basic.cancel``: its queue was deleted) subscribes
again on the same connection, against the real RabbitMQ on 127.0.0.1:5672."""

from __future__ import annotations

import time

import pytest

from tests.functional.distributed.test_kombu_transport import Inbox, _transport

pytestmark = pytest.mark.rabbit


@pytest.mark.parametrize("role", ["engine", "executor"])
def test_a_consumer_cancelled_by_the_broker_subscribes_again(rabbit_url: str,
                                                             role: str) -> None:
    server, client, admin = _transport(rabbit_url), _transport(rabbit_url), _transport(
        rabbit_url)
    inbox = Inbox()
    if role == "engine":
        server.serve_engine(inbox)
        queue, send = server.engine_queue(), client.send_to_engine
        consumer = server._consumers["engine"]
    else:
        server.serve_executor(inbox, capacity=4)
        queue = server.executor_queue("")
        consumer = server._consumers["executor.default"]

        def send(message: dict) -> None:  # type: ignore[type-arg]
            client.send_to_executor(message, None)
    server.start()
    try:
        assert server.wait_connected()
        send({"execution_id": None, "n": 1})
        assert len(inbox.wait(1)) == 1
        admin.purge_and_delete([queue.name], exchange=False)  # the broker cancels us
        client._drop_producers()  # the next publish declares the queue again
        send({"execution_id": None, "n": 2})
        got = inbox.wait(2)
        assert [m["n"] for m in got] == [1, 2]
        assert consumer._generation == 1  # no reconnect: subscribed again in place
    finally:
        for t in (server, client, admin):
            t.stop()


def test_a_broker_cancel_while_subscribing_starts_over_on_a_new_connection(
        rabbit_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``basic.cancel`` from the broker (a partition queue crashed) that py-amqp reads
    while it waits for a ``consume-ok`` interrupts that wait: the new consumer exists on
    the broker, but its callback was never registered, so every message the broker
    delivers to it is rejected and delivered again, forever. The consumer thread must
    start over on a new connection instead. Reproduced by leaving py-amqp in exactly
    that state once."""
    from amqp.exceptions import ConsumerCancelled
    from kombu.messaging import Consumer

    from tests.functional.distributed.test_partitions import _ids_in, _send

    real = Consumer.consume
    broken: list[str] = []

    def consume_interrupted(self: Consumer, no_ack: bool | None = None) -> None:
        real(self, no_ack)  # type: ignore[no-untyped-call]
        if not broken and len(self._active_tags) > 1:
            (_, crashed), (name, last) = sorted(self._active_tags.items())[-2:]
            callbacks = self.channel.callbacks  # type: ignore[union-attr]
            callbacks.pop(last)  # its consume-ok wait never finished
            callbacks.pop(crashed)  # py-amqp forgets a consumer the broker cancelled
            broken.append(name)
            raise ConsumerCancelled(crashed, 60)

    monkeypatch.setattr(Consumer, "consume", consume_interrupted)
    server = _transport(rabbit_url)
    inbox = Inbox()
    server.serve_engine(inbox)
    server.engine_partitions([3])
    server.start()
    try:
        assert server.wait_connected(20)
        server.engine_partitions([3, 7])  # a hand-over: subscribed while consuming
        assert server.wait_connected(20)
        deadline = time.monotonic() + 10
        while not broken and time.monotonic() < deadline:
            time.sleep(0.05)
        assert broken and broken[0].endswith(".p07")
        ids = _ids_in([7], 5)
        _send(rabbit_url, ids)
        assert sorted(m["execution_id"] for m in inbox.wait(5)) == sorted(ids)
        assert server._consumers["engine.partitions"]._generation == 2
    finally:
        server.stop()
