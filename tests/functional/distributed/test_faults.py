"""The short fault suite of issue 20 (the long one: ``tools/distributed/faults.py``).

One cluster of real ``wfaas-server`` processes (2 engines, 2 executors, API,
scheduler on PostgreSQL + RabbitMQ, heartbeats every second) serves the module;
every killed process is started again before the next test. Each test runs
executions whose actions are ``std.http`` calls to a counter that records every
real run, injects one fault a few seconds in and checks the guarantees of
docs/distributed.md: nothing stuck, no action of a task that is not
``safe-rerun`` run twice, no failure of an action that never ran or that
finished on a live executor: ERROR only for actions that were running on a
killed executor.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functional.distributed.conftest import _wait_port, ensure_rabbit_app_running
from tools.distributed.cluster import Cluster
from tools.distributed.faults import Outcome, fault_cluster, run_on, start_cluster

pytestmark = [pytest.mark.rabbit, pytest.mark.postgres]


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The module's cluster, torn down whatever happens."""
    if not _wait_port(5672, 5) or not _wait_port(5432, 5):
        pytest.skip("needs RabbitMQ on 127.0.0.1:5672 and PostgreSQL on 127.0.0.1:5432")
    cluster = fault_cluster(tmp_path_factory.mktemp("faults"), short_heartbeats=True)
    try:
        start_cluster(cluster)
        yield cluster
    finally:
        cluster.down()


def _shared_partitions(log: Path, timeout: float) -> bool:
    """True once the last "consumes N of 64 partitions" line of the engine's ``log``
    has N < 64 (another engine owns the rest)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.findall(rb"consumes (\d+) of 64 partitions",
                           log.read_bytes() if log.exists() else b"")
        if found and int(found[-1]) < 64:
            return True
        time.sleep(0.5)
    return False


def _run(cluster: Cluster, scenario: str, workload: str, count: int) -> Outcome:
    try:
        out = run_on(cluster, scenario, workload, count, wait=120)
    finally:
        ensure_rabbit_app_running()
    if not out.ok():
        print(cluster.logs(tail=40))
    return out


def test_broker_restart_fails_nothing_and_runs_nothing_twice(faulty: Cluster) -> None:
    out = _run(faulty, "broker", "safe", 40)
    assert (out.success, out.stuck, out.error) == (40, 0, 0), out.errors
    # even the safe-rerun task ran once: a redelivered request is dropped, not re-run
    assert (out.twice, out.twice_safe) == (0, 0), out.details


def test_kill_9_of_an_engine_and_an_executor_during_with_items(faulty: Cluster) -> None:
    out = _run(faulty, "both", "items", 30)
    assert out.stuck == 0 and out.twice == 0, out.details
    assert out.error_never_ran == 0 and out.error_live == 0, out.details
    assert out.success + out.error_killed + out.error_accepted_killed >= 30


def test_kill_9_and_restart_during_sub_workflows(faulty: Cluster) -> None:
    out = _run(faulty, "both-restart", "sub", 30)
    assert out.stuck == 0 and out.twice == 0, out.details
    assert out.error_never_ran == 0 and out.error_live == 0, out.details
    assert out.success + out.error_killed + out.error_accepted_killed >= 30


def test_kill_9_of_an_engine_hands_its_partitions_over_and_loses_nothing(
        faulty: Cluster) -> None:
    """Each engine consumes the partitions it owns; engine1 dies with executions of
    its partitions mid-way: after its lease (5 s here) engine2 consumes them, and every
    execution ends with exactly its three tasks, each action run once."""
    survivor = faulty.procs["engine2"].log
    # the previous test restarted the engines: wait until engine1 is back and owns its
    # share (else engine2 already consumes all 64 and there is nothing to hand over)
    assert _shared_partitions(survivor, 60), "engine1 never took its partitions back"
    mark = survivor.stat().st_size
    out = _run(faulty, "engine", "seq", 60)
    assert (out.success, out.error, out.stuck, out.twice) == (60, 0, 0, 0), out.details
    assert out.wrong_tasks == 0, out.details  # each SUCCESS has exactly t1, t2, t3
    assert out.runs == 180, out.details  # every action ran once: none lost, none twice
    # engine2 logs "consumes 64 of 64 partitions" when it takes engine1's share over;
    # when the harness has engine1 back before its lease ends there is no hand-over to
    # log (seen in CI), so the log is shown, not asserted: the guarantees are above
    with survivor.open("rb") as f:
        f.seek(mark)
        print(f.read().decode(errors="replace")[-2000:])
