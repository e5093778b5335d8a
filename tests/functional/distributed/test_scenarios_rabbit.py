"""Every engine scenario fixture end to end over the real RabbitMQ transport.

The scenario harness (tests/functional/engine/harness.py) drives virtual time
inside one process; here its Runtime talks through RabbitMQ (durable queues
with a unique prefix) instead of the in-process transport, so that every
event and action request goes through the broker and back, on SQLite and on
PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.functional.engine import harness
from tests.unit.db.dbutil import migrated_engine
from tests.unit.engine.scenario_runner import load_scenarios
from tests.unit.engine.test_scenarios import _as_list, _check
from wfaas.rpc.kombu_transport import KombuTransport
from wfaas.services.runtime import Runtime

pytestmark = pytest.mark.rabbit
SCENARIOS = load_scenarios()
# On PostgreSQL (a private schema per scenario, slower to set up) a representative
# subset: joins, with-items, sub-workflows, operations, timers, routing.
PG_SUBSET = {"direct_fork", "join_all", "join_one", "many_branches_join", "with_items_basic",
             "with_items_concurrency", "with_items_subworkflow", "subworkflow_output",
             "subworkflow_cancel_propagates", "op_pause_resume", "op_rerun_failed_task",
             "op_async_action_completed_later", "retry_until_success", "timeout_fails_task",
             "safe_rerun_and_target"}
CASES = [pytest.param(s, "sqlite", id=f"{s['name']}-sqlite") for s in SCENARIOS] + [
    pytest.param(s, "postgres", id=f"{s['name']}-postgres", marks=pytest.mark.postgres)
    for s in SCENARIOS if s["name"] in PG_SUBSET]


@pytest.mark.parametrize(("scenario", "db_kind"), CASES)
def test_scenario_over_rabbitmq(scenario: dict[str, Any], db_kind: str, tmp_path: Path,
                                rabbit_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    transports: list[KombuTransport] = []

    def runtime_on_rabbit(*args: Any, **kwargs: Any) -> Runtime:
        transport = KombuTransport(rabbit_url)
        transports.append(transport)
        rt = Runtime(*args, transport=transport, **kwargs)
        # Executor groups a task targets wait in their own queue until an executor of
        # that group subscribes: this process serves them too.
        for group in _target_groups(scenario):
            transport.serve_executor(rt.executor._on_request, group)
        return rt

    monkeypatch.setattr(harness, "Runtime", runtime_on_rabbit)
    with migrated_engine(db_kind, tmp_path) as engine:
        run = harness.ScenarioRun(scenario, engine)
        run.run()
    assert transports and transports[0].in_flight() == 0
    if run.start_error is not None:
        exp = scenario["expect"]
        assert exp["state"] == "ERROR", run.start_error
        for part in _as_list(exp.get("state_info_contains")):
            assert part in run.start_error
        return
    _check(run, scenario["expect"])  # type: ignore[arg-type]


def _target_groups(scenario: dict[str, Any]) -> set[str]:
    fields = (scenario.get("expect") or {}).get("action_fields") or {}
    return {str(f["target"]) for f in fields.values() if isinstance(f, dict) and f.get("target")}
