"""Fixtures for the distributed suite: a unique RabbitMQ queue prefix per test, clean-up."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from tools.distributed.cluster import Cluster
from wfaas.rpc.kombu_transport import KombuTransport, unique_prefix

BROKER = "rabbit://guest:guest@127.0.0.1:5672/"


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


_PREFIXES: list[str] = []


@pytest.fixture(scope="session", autouse=True)
def _delete_leftover_queues() -> Iterator[None]:
    """At the end, delete every queue of this session's prefixes (e.g. of target groups a
    scenario named); ``queue_expires`` removes them anyway after 10 idle minutes."""
    yield
    if not _PREFIXES or not _port_open(5672):
        return
    listing = subprocess.run(["rabbitmqctl", "-q", "list_queues", "name"], check=False,
                             capture_output=True, text=True, timeout=60).stdout.split()
    names = [n for n in listing if n.startswith(tuple(_PREFIXES))]
    if names:
        KombuTransport(BROKER).purge_and_delete(names, exchange=False)


def _wait_port(port: int, timeout: float = 30.0) -> bool:
    """Whether the port answers within ``timeout`` s (RabbitMQ may be restarting: some
    tests stop it on purpose)."""
    deadline = time.monotonic() + timeout
    while not _port_open(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


@pytest.fixture
def rabbit_url() -> Iterator[str]:
    """A transport URL whose queues are unique to this test and deleted afterwards."""
    if not _wait_port(5672):
        pytest.skip("RabbitMQ is not running on 127.0.0.1:5672")
    prefix = unique_prefix("test")
    _PREFIXES.append(prefix)
    url = f"{BROKER}?queue_prefix={prefix}&queue_expires=600"
    yield url
    cleaner = KombuTransport(url)
    names = [q.name for q in cleaner.engine_queues()] + [
        cleaner.executor_queue(g).name for g in ("", "other", "blue", "red", "reply")]
    try:
        cleaner.purge_and_delete(names)
    except Exception:  # noqa: BLE001 - x-expires removes them anyway
        pass


def ensure_rabbit_app_running() -> None:
    """Start the RabbitMQ application if a test stopped it (idempotent)."""
    subprocess.run(["rabbitmqctl", "start_app"], check=False, capture_output=True, timeout=120)
    subprocess.run(["rabbitmqctl", "await_startup"], check=False, capture_output=True,
                   timeout=120)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failing test that uses the cluster gets the tails of the process logs (and
    where the whole logs are) in its report."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    cluster = getattr(item, "funcargs", {}).get("cluster")
    if report.failed and report.when == "call" and isinstance(cluster, Cluster):
        report.sections.append((f"cluster logs (all of them in {cluster.workdir})",
                                cluster.logs(tail=80)))


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Separate processes (2 engines, 2 executors, 1 API, 1 scheduler and one executor
    of group ``blue``) on a fresh PostgreSQL database and RabbitMQ queues of their own;
    torn down (database dropped, queues deleted) after the session, whatever happens."""
    if not _wait_port(5672) or not _wait_port(5432):
        pytest.skip("needs RabbitMQ on 127.0.0.1:5672 and PostgreSQL on 127.0.0.1:5432")
    c = Cluster(Path(tmp_path_factory.mktemp("cluster")), executor_groups={"blue": 1},
                extra_conf={"action_heartbeat": {
                    # a process restart on a loaded 2-core machine takes several s
                    "check_interval": 1, "max_missed_heartbeats": 6,
                    "first_heartbeat_timeout": 30, "stuck_execution_timeout": 30},
                    # std.noop / std.echo go through RabbitMQ and the executors here (not
                    # run inside the engine step): these tests are about that path
                    "engine": {"pure_actions_per_step": 0}})
    try:
        c.up(timeout=120)
        yield c
    except BaseException:
        print(c.logs())
        raise
    finally:
        c.down()


@pytest.fixture(scope="session")
def db(cluster: Cluster) -> Iterator[Engine]:
    """An engine on the cluster's database (for assertions)."""
    engine = create_engine(cluster.db_url)
    yield engine
    engine.dispose()
