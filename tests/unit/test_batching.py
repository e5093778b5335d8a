"""Batcher: concurrent submissions share a batch; a lone one runs at once."""

from __future__ import annotations

import threading

import pytest

from wfaas.utils.batching import Batcher


def test_a_lone_item_runs_at_once_in_the_submitting_thread() -> None:
    seen: list[tuple[list[int], str]] = []

    def run(items: list[int]) -> list[int]:
        seen.append((items, threading.current_thread().name))
        return [i * 2 for i in items]

    batcher: Batcher[int, int] = Batcher(run)
    assert batcher.submit(21) == 42
    assert seen == [([21], threading.current_thread().name)]


def test_items_submitted_while_a_batch_runs_share_the_next_batch() -> None:
    first_running, release = threading.Event(), threading.Event()
    batches: list[list[int]] = []

    def run(items: list[int]) -> list[int]:
        batches.append(items)
        if items == [0]:
            first_running.set()
            release.wait(10)
        return items

    batcher: Batcher[int, int] = Batcher(run)
    results: dict[int, int] = {}

    def submit(i: int) -> None:
        results[i] = batcher.submit(i)

    leader = threading.Thread(target=submit, args=(0,))
    leader.start()
    assert first_running.wait(10)
    others = [threading.Thread(target=submit, args=(i,)) for i in range(1, 6)]
    for t in others:
        t.start()
    while True:  # all five queued behind the running batch
        with batcher._cond:
            if len(batcher._queue) == 5:
                break
        threading.Event().wait(0.001)
    release.set()
    for t in [leader, *others]:
        t.join(10)
    assert results == {i: i for i in range(6)}
    assert batches[0] == [0] and sorted(batches[1]) == [1, 2, 3, 4, 5] and len(batches) == 2
    assert (batcher.batches, batcher.items) == (2, 6)


def test_each_item_gets_its_own_outcome_and_a_failed_batch_fails_every_item() -> None:
    def run(items: list[int]) -> list[int | BaseException]:
        if 99 in items:
            raise RuntimeError("database away")
        return [ValueError(f"bad {i}") if i < 0 else i for i in items]

    batcher: Batcher[int, int] = Batcher(run)
    assert batcher.submit(3) == 3
    with pytest.raises(ValueError, match="bad -1"):
        batcher.submit(-1)
    with pytest.raises(RuntimeError, match="database away"):
        batcher.submit(99)
    assert batcher.submit(4) == 4  # not stuck after a failure


def test_a_batch_never_holds_more_than_max_batch_items() -> None:
    gate = threading.Event()
    sizes: list[int] = []

    def run(items: list[int]) -> list[int]:
        sizes.append(len(items))
        gate.wait(10)
        return items

    batcher: Batcher[int, int] = Batcher(run, max_batch=3)
    threads = [threading.Thread(target=batcher.submit, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    while True:
        with batcher._cond:
            if len(batcher._queue) + (sizes[-1] if batcher._busy else 0) >= 10:
                break
        threading.Event().wait(0.001)
    gate.set()
    for t in threads:
        t.join(10)
    assert max(sizes) <= 3 and sum(sizes) == 10


def test_concurrency_lets_that_many_batches_run_at_once_and_no_more() -> None:
    gate = threading.Event()
    running: list[list[int]] = []

    def run(items: list[int]) -> list[int]:
        running.append(items)
        gate.wait(10)
        return items

    batcher: Batcher[int, int] = Batcher(run, concurrency=2)
    threads = [threading.Thread(target=batcher.submit, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    while len(running) < 2:  # both lone items run at once, each as its own batch
        threading.Event().wait(0.001)
    late = [threading.Thread(target=batcher.submit, args=(i,)) for i in (2, 3)]
    for t in late:
        t.start()
    while True:
        with batcher._cond:
            if len(batcher._queue) == 2:
                break
        threading.Event().wait(0.001)
    assert len(running) == 2  # the late ones wait for a free batch
    gate.set()
    for t in threads + late:
        t.join(10)
    assert sorted(i for batch in running for i in batch) == [0, 1, 2, 3]
    assert batcher.items == 4 and batcher.batches == len(running) <= 4
