"""Following an execution: snapshot diffs and their printing."""

from __future__ import annotations

import io

from wfaas.client.watch import Event, Follower, Printer, bar, items_done, items_total


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def task(tid: str, name: str, state: str, **extra: object) -> dict:
    return {"id": tid, "name": name, "state": state, "created_at": "2026-01-01 00:00:00",
            **extra}


def test_start_end_and_local_duration_for_coarse_timestamps() -> None:
    clock = Clock()
    follower = Follower(clock)
    ex = {"workflow_name": "wf", "state": "RUNNING"}
    events = follower.update(ex, [task("1", "a", "RUNNING")])
    assert [e.kind for e in events] == ["start", "state"]
    clock.now += 2.5
    done = task("1", "a", "SUCCESS", started_at="2026-01-01 00:00:00",
                finished_at="2026-01-01 00:00:03")
    events = follower.update({**ex, "state": "SUCCESS"}, [done])
    end = events[0]
    assert (end.kind, end.state, end.seconds, end.approx) == ("end", "SUCCESS", 2.5, False)
    assert events[1] == Event("state", "wf", "SUCCESS")
    assert follower.update({**ex, "state": "SUCCESS"}, [done]) == []


def test_task_seen_only_finished_uses_the_server_times() -> None:
    follower = Follower(Clock())
    done = task("1", "a", "ERROR", state_info="bad", started_at="2026-01-01 00:00:00",
                finished_at="2026-01-01 00:00:00.500000")
    events = follower.update({"state": "ERROR"}, [done])
    end = [e for e in events if e.kind == "end"][0]
    assert (end.seconds, end.approx, end.info) == (0.5, False, "bad")


def test_rank_orders_tasks_created_in_the_same_second() -> None:
    follower = Follower(Clock(), rank={"first": 0, "boom": 1})
    events = follower.update({"state": "RUNNING"}, [task("2", "boom", "RUNNING"),
                                                    task("1", "first", "SUCCESS")])
    assert [e.name for e in events if e.kind == "start"] == ["first", "boom"]


def test_seeded_tasks_are_not_reported_again() -> None:
    follower = Follower(Clock())
    follower.seed([task("1", "a", "SUCCESS")])
    events = follower.update({"state": "RUNNING"}, [task("1", "a", "SUCCESS"),
                                                    task("2", "b", "RUNNING")])
    assert [(e.kind, e.name) for e in events] == [("start", "b"), ("state", "")]


def test_progress_events_and_item_counts() -> None:
    follower = Follower(Clock())
    t = task("1", "loop", "RUNNING", runtime_context={"wi": {"count": 4, "ok": 1, "err": 1}})
    assert items_total(t) == 4 and items_done(t) == 2
    assert items_total({"runtime_context": {"with_items": {"count": 3}}}) == 3
    assert items_done({"runtime_context": {"with_items": {"count": 3}}}) is None
    events = follower.update({"state": "RUNNING"}, [t], {"1": (2, 4)})
    assert Event("progress", "loop", "RUNNING", done=2, total=4) in events
    assert all(e.kind != "progress" for e in follower.update({"state": "RUNNING"}, [t],
                                                             {"1": (2, 4)}))


def test_printer_lines_and_bar() -> None:
    out = io.StringIO()
    printer = Printer(out)
    printer.show(Event("start", "a"))
    printer.show(Event("progress", "a", done=1, total=2))      # not a tty: no bar
    printer.show(Event("end", "a", "ERROR", 0.25, 2, 2, "kaboom\ntrace"))
    printer.show(Event("end", "b", "SUCCESS", 0.4, approx=True))
    printer.show(Event("state", "wf", "ERROR"))
    assert out.getvalue().splitlines() == ["▶ a started", "✘ a ERROR in 0.25s (2 items): kaboom",
                                           "✔ b SUCCESS in <1s", "workflow wf ERROR"]
    tty = io.StringIO()
    Printer(tty, tty=True).show(Event("progress", "a", done=1, total=4))
    assert tty.getvalue() == "  a [######------------------] 1/4"
    assert bar(0, 0, 4) == "[----] 0/0"
