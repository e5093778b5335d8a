"""An executor's results published in batches (wfaas.executors.sender), real RabbitMQ."""

from __future__ import annotations

import pytest

from tests.functional.distributed.test_kombu_transport import Inbox, _transport
from wfaas.executors.outbox import Outbox
from wfaas.executors.sender import ResultSender

pytestmark = pytest.mark.rabbit


def _result(i: int) -> dict[str, object]:
    return {"execution_id": f"ex-{i % 3}", "event": {"kind": "action_completed", "n": i}}


def test_results_queued_together_share_one_publish_and_all_arrive(rabbit_url: str) -> None:
    server, client = _transport(rabbit_url), _transport(rabbit_url)
    inbox = Inbox()
    server.serve_engine(inbox)
    server.start()
    outbox = Outbox(client)
    sender = ResultSender(client, outbox)
    try:
        assert server.wait_connected()
        with sender._cond:  # the sender's thread takes them only once all are queued
            for i in range(100):
                sender.put(f"a{i}", _result(i))
            assert len(sender) == 100 and "a7" in sender.pending_ids()
        assert sender.flush(30)
        assert (sender.batches, sender.sent) == (1, 100)  # one confirm wait for 100
        got = inbox.wait(100, timeout=30)
        assert sorted(m["event"]["n"] for m in got) == list(range(100))
        assert len(sender) == 0 and len(outbox) == 0
        sender.put("lone", _result(100))  # a lone result goes on its own, at once
        assert sender.flush(30) and (sender.batches, sender.sent) == (2, 101)
        assert inbox.wait(101, timeout=30)[-1]["event"]["n"] == 100
    finally:
        sender.stop()
        outbox.stop()
        server.stop()
        client.stop()


def test_results_the_broker_does_not_take_go_to_the_outbox() -> None:
    away = _transport("rabbit://guest:guest@127.0.0.1:9/?queue_prefix=nobody.")
    outbox = Outbox(away, first_try=0.2, retry_interval=5, retry_max=5)
    sender = ResultSender(away, outbox)
    try:
        sender.put("a1", _result(1))
        sender.put("a2", _result(2))
        assert sender.flush(30)
        assert outbox.pending_ids() == {"a1", "a2"}  # kept, heartbeats go on, retried
        assert sender.sent == 0 and len(sender) == 0
    finally:
        sender.stop()
        outbox.stop()


def test_engine_partitions_take_a_larger_window_than_other_consumers(rabbit_url: str) -> None:
    from wfaas.rpc.kombu_transport import PARTITIONS_KEY

    default, seven = _transport(rabbit_url), _transport(rabbit_url + "&engine_prefetch=7")
    for transport, window in ((default, 128), (seven, 7)):
        transport.serve_engine(Inbox())
        consumers = transport._consumers
        assert consumers[PARTITIONS_KEY].limit == window  # events applied per step, at most
        assert consumers["engine"].limit == transport.prefetch == 16
