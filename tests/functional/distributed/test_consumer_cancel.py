"""A consumer the broker cancels (``basic.cancel``: its queue was deleted) subscribes
again on the same connection, against the real RabbitMQ on 127.0.0.1:5672."""

from __future__ import annotations

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
