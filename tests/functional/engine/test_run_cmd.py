"""``wfaas run``: the seed examples, failure reporting, and resuming after SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wfaas.db import api
from wfaas.db import models as m
from wfaas.db.session import make_engine, sqlite_url
from wfaas.services.runtime import Runtime

EXAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "workflows" / "examples"
WFAAS = [sys.executable, "-m", "wfaas.cmd.cli"]


def wfaas_run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WFAAS, "run", *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.mark.parametrize("example, extra, output", [
    ("sequence.yaml", [], {"greeting": "Hello, World!", "length": 13}),
    ("sequence.yaml", ["-i", "name=wfaas"], {"greeting": "Hello, wfaas!", "length": 13}),
    ("fork_join.yaml", [], {"all": "LMR", "partial": "two"}),
    ("reverse.yaml", ["--task-name", "report"], {"report": "report of clean data"}),
    ("retry.yaml", [], {"handled": "recovered"}),
    ("workbook.yaml", ["main", "-i", "word=hi"], {"result": "hi!"}),
])
def test_examples_run(example: str, extra: list[str], output: dict[str, object]) -> None:
    res = wfaas_run(str(EXAMPLES / example), *extra)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == output
    assert "SUCCESS" in res.stderr.splitlines()[-1]


def test_progress_lines_show_each_task_with_duration() -> None:
    res = wfaas_run(str(EXAMPLES / "sequence.yaml"))
    lines = [ln.strip() for ln in res.stderr.splitlines()]
    assert lines[0] == "Workflow sequence"
    # std.echo runs inside the engine step (folding): no RUNNING moment is seen, so
    # a task may show only its finished line; a [run] line always comes before it
    done = [ln for ln in lines if ln.startswith("[ok] ")]
    assert [ln.split()[1] for ln in done] == ["a", "b", "c"]
    assert all(ln.endswith(" s)") and " (" in ln for ln in done)
    for name in "abc":
        if f"[run]  {name}" in lines:
            assert lines.index(f"[run]  {name}") < lines.index(next(
                ln for ln in done if ln.split()[1] == name))


def test_retry_attempts_are_shown() -> None:
    res = wfaas_run(str(EXAMPLES / "retry.yaml"))
    assert "flaky (retry 2)" in res.stderr


def test_failure_exits_non_zero_with_the_task_error() -> None:
    res = wfaas_run(str(EXAMPLES / "fail.yaml"))
    assert res.returncode == 1
    assert "Task broken failed: something broke" in res.stderr
    assert "Workflow fail ERROR" in res.stderr


def test_usage_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: '2.0'\nwf:\n  tasks:\n    a:\n      on-success: [nowhere]\n")
    res = wfaas_run(str(bad))
    assert res.returncode == 2 and "invalid definition" in res.stderr
    assert "nowhere" in res.stderr and "Traceback" not in res.stderr
    res = wfaas_run(str(EXAMPLES / "sequence.yaml"), "--input", "[1]")
    assert res.returncode == 2 and "--input must be a JSON object" in res.stderr
    res = wfaas_run(str(EXAMPLES / "sequence.yaml"), "-i", "nope=1")
    assert res.returncode == 2 and "unexpected=['nope']" in res.stderr
    res = wfaas_run(str(EXAMPLES / "sequence.yaml"), "other")
    assert res.returncode == 2 and "'other' is not in the file" in res.stderr
    res = wfaas_run("--resume")
    assert res.returncode == 2 and "--resume needs --db" in res.stderr


WAITING = """version: '2.0'
waiting:
  output: {{r: <% $.r %>}}
  tasks:
    first:
      action: std.echo output=one
      on-success: [later]
    later:
      action: std.echo output=two
      wait-before: {wait}
      publish: {{r: <% task().result %>}}
"""


def _start_waiting(tmp_path: Path, wait: int) -> tuple[subprocess.Popen[str], Path]:
    """``wfaas run`` of a workflow whose task waits ``wait`` s, once it is waiting."""
    wf = tmp_path / "waiting.yaml"
    wf.write_text(WAITING.format(wait=wait))
    db = tmp_path / "state.db"
    proc = subprocess.Popen([*WFAAS, "run", str(wf), "--db", str(db)],
                            stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.strip() == "[wait] later":
            return proc, db
    proc.kill()
    proc.wait()
    pytest.fail("the task never started waiting")


def _start_and_kill_while_waiting(tmp_path: Path, wait: int) -> Path:
    proc, db = _start_waiting(tmp_path, wait)
    try:
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return db


def test_killed_run_is_completed_by_a_runtime_on_the_same_file(tmp_path: Path) -> None:
    db = _start_and_kill_while_waiting(tmp_path, 3600)
    engine = make_engine(sqlite_url(str(db)))
    rt = Runtime(engine, clock=lambda: time.time() + 7200)  # the wait is over
    with rt.session() as s:
        (ex,) = api.executions_in_states(s, ["RUNNING"])
        assert api.count(s, m.DelayedCall) == 1
    rt.start()
    try:
        done = rt.wait_execution(ex.id, 30)
        assert done["state"] == "SUCCESS", done["state_info"]
        assert done["output"] == {"r": "two"}
    finally:
        rt.close()


def test_killed_run_is_resumed_by_wfaas_run_resume(tmp_path: Path) -> None:
    db = _start_and_kill_while_waiting(tmp_path, 2)
    res = wfaas_run("--db", str(db), "--resume")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == {"r": "two"}
    assert "[ok] later" in res.stderr


def test_ctrl_c_cancels_the_execution(tmp_path: Path) -> None:
    proc, db = _start_waiting(tmp_path, 3600)
    try:
        assert proc.stderr is not None
        proc.send_signal(signal.SIGINT)
        rest = proc.stderr.read()
        assert proc.wait(timeout=60) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "wfaas run: cancelled" in rest
    engine = make_engine(sqlite_url(str(db)))
    try:
        with engine.connect() as conn:
            states = [r[0] for r in conn.exec_driver_sql(
                "SELECT state FROM workflow_executions")]
            timers = conn.exec_driver_sql("SELECT count(*) FROM delayed_calls").scalar()
        assert states == ["CANCELLED"]
        assert timers == 0
    finally:
        engine.dispose()
