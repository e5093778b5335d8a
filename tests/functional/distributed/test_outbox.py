"""The executor's outbox: results the broker did not take are kept and re-sent."""

from __future__ import annotations

import threading
import time
from typing import Any

from wfaas.executors.outbox import Outbox
from wfaas.rpc.local import LocalTransport


class FlakyBroker(LocalTransport):
    """Refuses the first ``failures`` publishes (a broker outage), then records them."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.sent: list[dict[str, Any]] = []
        self.delivered = threading.Event()

    def send_to_engine_within(self, message: dict[str, Any], timeout: float) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionRefusedError("broker down")
        self.sent.append(message)
        self.delivered.set()


def test_results_are_kept_until_the_broker_is_back_in_order() -> None:
    broker = FlakyBroker(failures=3)
    seen: list[str] = []
    box = Outbox(broker, retry_interval=0.05, retry_max=0.1, on_sent=seen.append)
    try:
        box.put("a1", {"n": 1})
        box.put("a2", {"n": 2})
        assert box.pending_ids() == {"a1", "a2"}  # their heartbeats go on meanwhile
        deadline = time.monotonic() + 10
        while len(broker.sent) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [m["n"] for m in broker.sent] == [1, 2] and seen == ["a1", "a2"]
        assert box.pending_ids() == set() and len(box) == 0
    finally:
        box.stop()
