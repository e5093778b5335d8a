"""Every engine scenario fixture, end to end through the Runtime, per database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.functional.engine.harness import ScenarioRun
from tests.unit.db.dbutil import DB_PARAMS, migrated_engine
from tests.unit.engine.scenario_runner import load_scenarios
from tests.unit.engine.test_scenarios import _as_list, _check

SCENARIOS = load_scenarios()


@pytest.mark.parametrize("db_kind", DB_PARAMS)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_scenario_end_to_end(scenario: dict[str, Any], db_kind: str, tmp_path: Path) -> None:
    with migrated_engine(db_kind, tmp_path) as engine:
        run = ScenarioRun(scenario, engine)
        run.run()
        if run.start_error is not None:
            # Refused up front by start_workflow: same message as the engine's state_info.
            exp = scenario["expect"]
            assert exp["state"] == "ERROR", run.start_error
            if "state_info" in exp:
                assert run.start_error == exp["state_info"]
            for part in _as_list(exp.get("state_info_contains")):
                assert part in run.start_error
            return
        _check(run, scenario["expect"])  # type: ignore[arg-type]
