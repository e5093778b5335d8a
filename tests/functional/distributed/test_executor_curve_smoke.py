"""tools/distributed/executor_curve.py on a tiny workload: 1 and 2 executors both finish
with every execution in SUCCESS and every task run once (no timing is asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.functional.distributed.conftest import _wait_port
from tools.distributed import executor_curve

pytestmark = [pytest.mark.rabbit, pytest.mark.postgres, pytest.mark.slow]


def test_one_and_two_executors_finish_correctly(tmp_path: Path) -> None:
    if not _wait_port(5672) or not _wait_port(5432):
        pytest.skip("needs RabbitMQ on 127.0.0.1:5672 and PostgreSQL on 127.0.0.1:5432")
    out = tmp_path / "curve.json"
    points = executor_curve.main(["--executors", "1,2", "--engines", "1",
                                  "--executor-workers", "2", "--executions", "3",
                                  "--width", "5", "--timeout", "60", "--json", str(out)])
    assert [p.executors for p in points] == [1, 2]
    for p in points:
        assert p.ok, p.problems
        assert p.actions == 15 and p.wall_s > 0
        assert p.capacity_per_s == p.executors * 2 / executor_curve.SLEEP_S
    saved = json.loads(out.read_text())
    assert [r["executors"] for r in saved["results"]["executors"]] == [1, 2]
