"""Measure RabbitMQ transports on this machine: kombu (wfaas.rpc.kombu_transport) vs oslo.messaging.

    /work/venv/bin/python tools/distributed/bench_transports.py \\
        [--url rabbit://guest:guest@127.0.0.1:5672/] [--messages 2000] [--round-trips 300]

For each transport it reports, for small JSON messages (~150 bytes):

- ``msgs/s``: N messages published by 4 threads and consumed by one consumer
  (time from the first publish to the last message handled);
- ``rtt p50/p95 ms``: one request to a server and its reply back, sequentially.

kombu is measured with publisher confirms (the wfaas default: a message the
broker lost would be noticed) and without. oslo.messaging (``pip install
oslo.messaging``) is measured with ``cast`` (throughput) and ``call`` (round
trip) on its threading executor; it is skipped when not installed.
Queues use a unique prefix/topic and are deleted afterwards.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

PAYLOAD = {"execution_id": "00000000-0000-0000-0000-000000000000",
           "event": {"kind": "action_completed", "action_id": "x" * 36, "state": "SUCCESS",
                     "result": {"ok": True, "n": 1}}}


def _percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return (statistics.median(samples) * 1000,
            samples[int(len(samples) * 0.95) - 1] * 1000)


def _parallel_publish(n: int, threads: int, send: Callable[[int], None]) -> None:
    def worker(k: int) -> None:
        for i in range(k, n, threads):
            send(i)

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def bench_kombu(url: str, n: int, rtts: int, confirm: bool) -> dict[str, Any]:
    """Throughput and round trip through two KombuTransport instances."""
    from wfaas.rpc.kombu_transport import KombuTransport

    prefix = f"bench-{uuid.uuid4().hex[:8]}."
    sep = "&" if "?" in url else "?"
    full = f"{url}{sep}queue_prefix={prefix}&queue_expires=120&confirm={int(confirm)}"
    server, client = KombuTransport(full), KombuTransport(full)
    count = [0]
    done = threading.Event()
    lock = threading.Lock()
    reply = threading.Event()
    mode = ["count"]

    def on_engine(msg: dict[str, Any]) -> None:
        if mode[0] == "echo":
            server.send_to_executor(msg, "reply")
            return
        with lock:
            count[0] += 1
            if count[0] >= n:
                done.set()

    server.serve_engine(on_engine)
    client.serve_executor(lambda msg: reply.set(), "reply")
    server.start()
    client.start()
    server.wait_connected()
    client.wait_connected()
    try:
        t0 = time.perf_counter()
        _parallel_publish(n, 4, lambda i: client.send_to_engine(PAYLOAD))
        done.wait(120)
        rate = n / (time.perf_counter() - t0)
        mode[0] = "echo"
        samples = []
        for _ in range(rtts):
            reply.clear()
            t1 = time.perf_counter()
            client.send_to_engine(PAYLOAD)
            reply.wait(10)
            samples.append(time.perf_counter() - t1)
    finally:
        names = server.queue_names() + client.queue_names()
        server.stop()
        client.stop()
        server.purge_and_delete(names)
    p50, p95 = _percentiles(samples)
    return {"transport": f"kombu (confirms {'on' if confirm else 'off'})", "msgs_s": rate,
            "rtt_p50_ms": p50, "rtt_p95_ms": p95}


def bench_oslo(url: str, n: int, rtts: int) -> dict[str, Any] | None:
    """Throughput (cast) and round trip (call) through oslo.messaging RPC."""
    try:
        import oslo_messaging as om
        from oslo_config import cfg
    except ImportError:
        return None
    conf = cfg.CONF  # oslo.messaging registers some options (tracing) on the global CONF only
    conf([], project="bench")
    transport = om.get_rpc_transport(conf, url=url)
    topic = f"bench-{uuid.uuid4().hex[:8]}"
    count = [0]
    done = threading.Event()
    lock = threading.Lock()

    class Endpoint:
        def event(self, ctxt: dict[str, Any], msg: dict[str, Any]) -> None:
            with lock:
                count[0] += 1
                if count[0] >= n:
                    done.set()

        def echo(self, ctxt: dict[str, Any], msg: dict[str, Any]) -> dict[str, Any]:
            return msg

    target = om.Target(topic=topic, server="s1")
    server = om.get_rpc_server(transport, target, [Endpoint()], executor="threading")
    server.start()
    client = om.get_rpc_client(transport, om.Target(topic=topic))
    try:
        client.prepare(timeout=30).call({}, "echo", msg=PAYLOAD)  # warm up, creates reply queue
        t0 = time.perf_counter()
        _parallel_publish(n, 4, lambda i: client.cast({}, "event", msg=PAYLOAD))
        done.wait(120)
        rate = n / (time.perf_counter() - t0)
        samples = []
        for _ in range(rtts):
            t1 = time.perf_counter()
            client.call({}, "echo", msg=PAYLOAD)
            samples.append(time.perf_counter() - t1)
    finally:
        server.stop()
        server.wait()
        transport.cleanup()
    p50, p95 = _percentiles(samples)
    return {"transport": "oslo.messaging (rpc cast/call)", "msgs_s": rate, "rtt_p50_ms": p50,
            "rtt_p95_ms": p95}


def main() -> None:
    """Run every measurement and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="rabbit://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--round-trips", type=int, default=300)
    args = parser.parse_args()
    rows = [bench_kombu(args.url, args.messages, args.round_trips, True),
            bench_kombu(args.url, args.messages, args.round_trips, False)]
    oslo = bench_oslo(args.url, args.messages, args.round_trips)
    if oslo is not None:
        rows.append(oslo)
    print("| transport | msgs/s (4 publishers -> 1 consumer) | round trip p50 ms | p95 ms |")
    print("|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['transport']} | {r['msgs_s']:.0f} | {r['rtt_p50_ms']:.2f} "
              f"| {r['rtt_p95_ms']:.2f} |")


if __name__ == "__main__":
    main()
