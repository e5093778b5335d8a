"""A message the broker refuses (``basic.nack``: a queue at its limit with
``reject-publish``, or one that crashed) is not delivered: the publisher sends it again
until the broker takes it, or fails loudly. Against the real RabbitMQ on 127.0.0.1:5672,
with a policy that makes the queue refuse every message for a while."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
from kombu.exceptions import OperationalError

from tests.functional.distributed.test_kombu_transport import Inbox, _transport
from wfaas.rpc.kombu_transport import KombuTransport

pytestmark = pytest.mark.rabbit


def _policy(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture
def refusing(rabbit_url: str) -> Iterator[tuple[str, str]]:
    """(url, policy name): the ``red`` executor queue refuses every message while the
    policy exists (cleared at the end)."""
    queue = _transport(rabbit_url).executor_queue("red").name
    name = f"refuse-{queue}"
    _policy("set_policy", "--apply-to", "queues", name, f"^{re.escape(queue)}$",
            '{"max-length": 0, "overflow": "reject-publish"}')
    try:
        yield rabbit_url, name
    finally:
        subprocess.run(["rabbitmqctl", "-q", "clear_policy", name], check=False,
                       capture_output=True, timeout=60)


def test_a_refused_message_is_published_again_until_the_broker_takes_it(
        refusing: tuple[str, str]) -> None:
    url, policy = refusing
    client = KombuTransport(url, publish_timeout=30, retry_interval=0.2, retry_max=0.5)
    server = _transport(url)
    inbox = Inbox()
    server.serve_executor(inbox, "red")
    server.start()
    done: list[float] = []
    try:
        assert server.wait_connected()
        started = time.monotonic()

        def send() -> None:
            client.send_to_executor({"action_id": "refused-first"}, "red")
            done.append(time.monotonic() - started)

        sender = threading.Thread(target=send)
        sender.start()
        time.sleep(1.5)
        assert done == []  # still trying: the broker refused every copy so far
        assert inbox.items == []
        _policy("clear_policy", policy)
        sender.join(20)
        assert done and done[0] >= 1.5
        assert [m["action_id"] for m in inbox.wait(1)] == ["refused-first"]
        time.sleep(0.5)
        assert len(inbox.items) == 1
    finally:
        server.stop()
        client.stop()


def test_a_message_refused_until_the_publish_timeout_fails_the_publish(
        refusing: tuple[str, str]) -> None:
    url, _ = refusing
    client = KombuTransport(url, publish_timeout=1.5, retry_interval=0.2, retry_max=0.5)
    try:
        with pytest.raises(OperationalError, match="refused"):
            client.send_to_executor({"action_id": "never"}, "red")
    finally:
        client.stop()
