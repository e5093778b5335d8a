"""Every scenario fixture, driven through decide() with mocked actions."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from tests.unit.engine.scenario_runner import START, Sim, load_scenarios, run_scenario
from wfaas.exceptions import NotAllowed, NotFound

SCENARIOS = load_scenarios()


def _last(sim: Sim, name: str) -> Any:
    st = sim.execs["root"].state
    ids = st.by_name.get(name)
    assert ids, f"task {name} never ran; ran: {list(st.by_name)}"
    return st.tasks[ids[-1]]


def _check(sim: Sim, exp: dict[str, Any]) -> None:
    st = sim.execs["root"].state
    info = f"state_info={st.state_info!r}"
    if "state" in exp:
        assert st.state == exp["state"], info
    if "state_info" in exp:
        assert st.state_info == exp["state_info"]
    for part in _as_list(exp.get("state_info_contains")):
        assert part in (st.state_info or ""), info
    if "output" in exp:
        assert st.output == exp["output"]
    for key, value in (exp.get("output_contains") or {}).items():
        assert st.output[key] == value
    if "task_sequence" in exp:
        assert [t.name for t in st.tasks.values()] == exp["task_sequence"]
    if "not_run" in exp:
        ran = set(st.by_name)
        assert not ran & set(exp["not_run"]), ran
    for name, state in (exp.get("tasks") or {}).items():
        assert _last(sim, name).state == state, (name, _last(sim, name).state_info)
    for name, value in (exp.get("published") or {}).items():
        assert _last(sim, name).published == value, name
    for name, value in (exp.get("results") or {}).items():
        assert _last(sim, name).result == value, name
    for name, part in (exp.get("task_state_info") or {}).items():
        assert part in (_last(sim, name).state_info or ""), (name, _last(sim, name).state_info)
    for name, count in (exp.get("executions") or {}).items():
        assert len(st.by_name.get(name, [])) == count, name
    for name, count in (exp.get("action_calls") or {}).items():
        assert sum(1 for r in sim.run_actions if r.task_name == name) == count, name
    for name, inputs in (exp.get("action_inputs") or {}).items():
        got = [r.input for r in sim.run_actions if r.task_name == name]
        assert got == inputs, name
    for name, fields in (exp.get("action_fields") or {}).items():
        run = next(r for r in sim.run_actions if r.task_name == name)
        for key, value in fields.items():
            assert getattr(run, key) == value, (name, key)
    if "elapsed" in exp:
        assert st.updated_at - START == pytest.approx(exp["elapsed"])
    if "errors" in exp:
        assert sim.errors == exp["errors"]
    if "context" in exp:
        for key, value in exp["context"].items():
            assert st.context.get(key) == value, key
    if "children" in exp:
        kids = [x.state for k, x in sim.execs.items() if k != "root"]
        assert [k.state for k in kids] == exp["children"]


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_scenario(scenario: dict[str, Any]) -> None:
    sim = run_scenario(scenario)
    _check(sim, scenario["expect"])
    # Nothing may be left running once the workflow is finished.
    st = sim.execs["root"].state
    if st.state in ("SUCCESS", "ERROR", "CANCELLED"):
        assert not [st.tasks[t].name for t in st.active
                    if st.tasks[t].state in ("RUNNING", "RUNNING_DELAYED")], st.state


def test_there_are_many_scenarios() -> None:
    assert len(SCENARIOS) >= 60


class _RandomOutcomes(dict):  # type: ignore[type-arg]
    """Mocks that answer every action with a random success, error, cancel or delay."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.rnd = random.Random(seed)

    def get(self, key: Any, default: Any = None) -> Any:
        r = self.rnd.random()
        if r < 0.3:
            return {"error": "random failure"}
        if r < 0.35:
            return {"cancel": True}
        if r < 0.45:
            return {"result": None, "delay": self.rnd.randint(1, 20)}
        return {"result": self.rnd.choice([None, 1, "x", [1, 2], {"k": "v"}])}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_outcomes_never_break_the_engine(seed: int) -> None:
    """Whatever the actions return, no engine error and nothing is left RUNNING."""
    for scenario in SCENARIOS:
        sc = copy.deepcopy(scenario)
        sc["actions"] = _RandomOutcomes(seed)
        try:
            sim = run_scenario(sc)
        except (NotAllowed, NotFound, StopIteration):
            continue  # an operation of the scenario no longer applies
        st = sim.execs["root"].state
        assert st.state not in ("IDLE", "RUNNING"), scenario["name"]
        if st.state != "PAUSED":
            running = [st.tasks[t].name for t in st.active
                       if st.tasks[t].state in ("RUNNING", "RUNNING_DELAYED", "WAITING")]
            assert not running, (scenario["name"], st.state)


def test_replaying_the_same_events_gives_the_same_state() -> None:
    """Ids, timers and contexts are derived, never random: a replay is identical."""
    for scenario in SCENARIOS[::3]:
        first = run_scenario(scenario).execs["root"].state.to_dict()
        again = run_scenario(scenario).execs["root"].state.to_dict()
        assert first == again, scenario["name"]


@pytest.mark.parametrize("seed", [7, 8])
def test_random_operations_never_break_the_engine(seed: int) -> None:
    """Random results plus random pause / resume / stop: no engine error, nothing stuck."""
    rnd = random.Random(seed)
    for scenario in SCENARIOS:
        sc = copy.deepcopy(scenario)
        sc["actions"] = _RandomOutcomes(seed)
        ops: list[dict[str, Any]] = []
        for _ in range(rnd.randint(1, 3)):
            at = rnd.randint(0, 25)
            if rnd.random() < 0.6:
                ops += [{"at": at, "op": "pause"}, {"at": at + rnd.randint(0, 10), "op": "resume"}]
            else:
                ops.append({"at": at, "op": "stop",
                            "state": rnd.choice(["CANCELLED", "ERROR", "SUCCESS"])})
        sc["operations"] = [{**op, "expect_error": True} for op in ops]
        try:
            sim = run_scenario(sc)
        except StopIteration:
            continue
        st = sim.execs["root"].state
        assert st.state not in ("IDLE", "RUNNING"), (scenario["name"], ops)
        if st.state == "PAUSED":
            continue
        assert not [t for t in st.active if st.tasks[t].state != "IDLE"], (scenario["name"], ops)
        kids = [x.state.state for k, x in sim.execs.items() if k != "root"]
        assert "RUNNING" not in kids, (scenario["name"], ops)
