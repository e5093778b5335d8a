"""wfaas.utils.periodic: the daemon thread behind the shell's background checks."""

from __future__ import annotations

import logging
import threading

import pytest

from wfaas.utils.periodic import PeriodicThread


def _threads(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name]


def test_work_repeats_until_stop_and_stop_wakes_a_long_wait() -> None:
    calls: list[int] = []
    third = threading.Event()

    def work() -> None:
        calls.append(1)
        if len(calls) == 3:
            third.set()

    loop = PeriodicThread("test-periodic-repeat", work, 0.01)
    loop.start()
    assert third.wait(30)
    loop.interval = 3600.0  # the next wait is an hour: only stop() ends it
    loop.stop(30)
    assert not loop.running and not _threads("test-periodic-repeat")
    done = len(calls)
    loop.stop()  # stopping twice is harmless
    assert len(calls) == done


def test_at_start_runs_at_once_and_start_twice_is_one_thread() -> None:
    ran = threading.Event()
    loop = PeriodicThread("test-periodic-start", ran.set, 3600.0, at_start=True)
    loop.start()
    loop.start()
    try:
        assert ran.wait(30)
        threads = _threads("test-periodic-start")
        assert len(threads) == 1 and threads[0].daemon
    finally:
        loop.stop(30)
    assert not _threads("test-periodic-start")


def test_a_failing_round_is_logged_and_the_next_one_runs(
        caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []
    second = threading.Event()
    log = logging.getLogger("wfaas.test.periodic")

    def work() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("first round broke")
        second.set()

    loop = PeriodicThread("test-periodic-fail", work, 0.01, log=log,
                          failure="Test round failed", level=logging.WARNING)
    with caplog.at_level(logging.WARNING, logger="wfaas.test.periodic"):
        loop.start()
        try:
            assert second.wait(30)
        finally:
            loop.stop(30)
    failed = [r for r in caplog.records if r.name == "wfaas.test.periodic"]
    assert failed[0].levelno == logging.WARNING and failed[0].getMessage() == "Test round failed"
    assert failed[0].exc_info is not None and "first round broke" in str(failed[0].exc_info[1])


def test_stop_from_the_work_itself_does_not_join_its_own_thread() -> None:
    stopped = threading.Event()
    holder: list[PeriodicThread] = []

    def work() -> None:
        holder[0].stop()
        stopped.set()

    loop = PeriodicThread("test-periodic-self", work, 0.01)
    holder.append(loop)
    loop.start()
    assert stopped.wait(30)
    for thread in _threads("test-periodic-self"):
        thread.join(30)
    assert not _threads("test-periodic-self") and not loop.running
