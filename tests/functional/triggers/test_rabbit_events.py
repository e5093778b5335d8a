"""An oslo.messaging-style notification published to the real RabbitMQ starts a workflow."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import kombu
import pytest
from oslo_config import cfg

from tests.functional.triggers.conftest import wait_executions
from wfaas.triggers import events
from wfaas.triggers.listener import queue_for
from wfaas.triggers.service import TriggerService

pytestmark = pytest.mark.rabbit
URL = "amqp://guest:guest@127.0.0.1:5672//"


def _rabbit_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
        return True
    except OSError:
        return False


@pytest.fixture
def names() -> Iterator[tuple[str, str]]:
    if not _rabbit_up():
        pytest.skip("RabbitMQ not reachable on 127.0.0.1:5672")
    tag = uuid.uuid4().hex[:10]
    exchange, topic = f"wfaas-test-{tag}", f"notifications-{tag}"
    yield exchange, topic
    with kombu.Connection(URL) as conn:  # leave nothing behind on the broker
        channel = conn.channel()
        queue = queue_for("wfaas-test-pool", exchange, topic)
        queue(channel).delete()
        kombu.Exchange(exchange, type="topic")(channel).delete()
        channel.close()


def _publish(exchange: str, topic: str, event_type: str, payload: Any) -> None:
    """Publish the way oslo.messaging's messagingv2 notifier does."""
    message = {"message_id": str(uuid.uuid4()), "publisher_id": "compute.host-a",
               "event_type": event_type, "priority": "INFO", "payload": payload,
               "timestamp": "2026-03-10 12:00:00.000000", "_context_project_id": "p1",
               "_context_user_id": "u1", "_unique_id": uuid.uuid4().hex}
    body = {"oslo.version": "2.0", "oslo.message": json.dumps(message)}
    with kombu.Connection(URL) as conn:
        producer = conn.Producer(serializer="json")
        producer.publish(body, exchange=kombu.Exchange(exchange, type="topic", durable=False),
                         routing_key=f"{topic}.info", declare=[], retry=True)


@pytest.mark.parametrize("publisher_first", [False, True],
                         ids=["listener-declares", "durable-exchange-exists"])
def test_notification_on_rabbitmq_starts_workflow(runtime: Any, conf: cfg.ConfigOpts,
                                                  workflow_id: str, names: tuple[str, str],
                                                  publisher_first: bool) -> None:
    exchange, topic = names
    if publisher_first:  # a service configured with durable exchanges declared it already
        with kombu.Connection(URL) as conn:
            kombu.Exchange(exchange, type="topic", durable=True)(conn.channel()).declare()
    conf.set_override("transport_url", URL, group="event_engine")
    conf.set_override("listener_pool_name", "wfaas-test-pool", group="event_engine")
    conf.set_override("enabled", False, group="cron_trigger")
    service = TriggerService.from_runtime(runtime, conf)
    assert service.listener is not None
    service.start()
    try:
        with runtime.session() as s:
            tid = events.create_event_trigger(
                s, name="on-boot", workflow_id=workflow_id, exchange=exchange, topic=topic,
                event="compute.instance.create.end",
                workflow_input={"who": "<% $.payload.name %>"}).id
        service.wake()  # binds the new (exchange, topic)
        assert service.listener.wait_ready(15), "listener did not bind its queue"
        _publish(exchange, topic, "compute.instance.delete.end", {"name": "ignored"})
        _publish(exchange, topic, "compute.instance.create.end", {"name": "vm-42"})
        [ex] = wait_executions(runtime, 1, timeout=20)
        done = runtime.wait_execution(ex["id"], timeout=20)
    finally:
        service.stop()
    assert done["state"] == "SUCCESS", done
    assert done["output"] == {"who": "vm-42"}
    ev = done["params"]["event_params"]
    assert ev["payload"] == {"name": "vm-42"} and ev["service"] == "compute.host-a"
    assert ev["project_id"] == "p1" and ev["user_id"] == "u1"
    assert json.loads(done["description"])["triggered_by"]["id"] == tid


def _queue_exists(exchange: str, topic: str) -> bool:
    with kombu.Connection(URL) as conn:
        try:
            queue_for("wfaas-test-pool", exchange, topic)(conn.channel()).queue_declare(
                passive=True)
            return True
        except conn.channel_errors:
            return False


def test_two_listeners_share_the_work_and_deleted_trigger_unbinds(
        runtime: Any, conf: cfg.ConfigOpts, workflow_id: str, names: tuple[str, str]) -> None:
    exchange, topic = names
    conf.set_override("transport_url", URL, group="event_engine")
    conf.set_override("listener_pool_name", "wfaas-test-pool", group="event_engine")
    conf.set_override("enabled", False, group="cron_trigger")
    with runtime.session() as s:
        tid = events.create_event_trigger(
            s, name="on-boot", workflow_id=workflow_id, exchange=exchange, topic=topic,
            event="compute.instance.create.end", workflow_input={"who": "<% $.payload.name %>"}
        ).id
    services = [TriggerService.from_runtime(runtime, conf) for _ in range(2)]
    for svc in services:
        svc.start()
    try:
        for svc in services:
            assert svc.listener is not None and svc.listener.wait_ready(15)
        for i in range(6):
            _publish(exchange, topic, "compute.instance.create.end", {"name": f"vm-{i}"})
        done = wait_executions(runtime, 6, timeout=30, state="SUCCESS")
        assert sorted(d["output"]["who"] for d in done) == [f"vm-{i}" for i in range(6)]
        assert _queue_exists(exchange, topic)
        with runtime.session() as s:
            from wfaas.db import models as m

            s.delete(s.get(m.EventTrigger, tid))
        for svc in services:
            svc.wake()
            assert svc.listener is not None and svc.listener.wait_ready(15)
            assert svc.listener.pairs == frozenset()
        assert not _queue_exists(exchange, topic)
    finally:
        for svc in services:
            svc.stop()
