"""Cron triggers: validation, next times, creation rules and the firing plan."""

from __future__ import annotations

import datetime as _dt
import json

import pytest
from sqlalchemy import Engine

from tests.unit.triggers.helpers import NOINPUT_TEXT, add_workflow, sessions_of, utc
from wfaas.db import models as m
from wfaas.exceptions import ClientError, Conflict, InputError, NotFound
from wfaas.triggers import cron

NOW = utc("2026-03-10 12:00:30")


@pytest.mark.parametrize("pattern", ["* * * *", "* * * * * *", "61 * * * *", "a b c d e",
                                     "* * 32 * *", ""])
def test_invalid_patterns_are_client_errors(pattern: str) -> None:
    with pytest.raises(ClientError) as err:
        cron.validate_pattern(pattern)
    assert err.value.http_code == 400
    assert "pattern" in str(err.value)


def test_valid_pattern_is_normalised() -> None:
    assert cron.validate_pattern("  */5   * * * 1-5 ") == "*/5 * * * 1-5"


def test_next_execution_time_utc_and_time_zone() -> None:
    assert cron.next_execution_time("*/5 * * * *", NOW) == utc("2026-03-10 12:05")
    assert cron.next_execution_time("0 9 * * *", NOW) == utc("2026-03-11 09:00")
    # 09:00 in Paris is 08:00 UTC in winter (CET) ...
    assert cron.next_execution_time("0 9 * * *", NOW, "Europe/Paris") == utc("2026-03-11 08:00")
    # ... and 07:00 UTC after the switch to summer time (29 March 2026).
    after_dst = utc("2026-03-30 12:00")
    assert cron.next_execution_time("0 9 * * *", after_dst,
                                    "Europe/Paris") == utc("2026-03-31 07:00")


def test_timing_needs_pattern_or_first_time() -> None:
    with pytest.raises(ClientError, match="pattern.*first_execution_time"):
        cron.plan_timing(pattern=None, first_execution_time=None, remaining_executions=None,
                         timezone=None, now=NOW)


def test_first_time_must_be_in_the_future_and_parsable() -> None:
    with pytest.raises(ClientError, match="future"):
        cron.plan_timing(pattern=None, first_execution_time="2026-03-10 12:00",
                         remaining_executions=None, timezone=None, now=NOW)
    with pytest.raises(ClientError, match="first_execution_time"):
        cron.plan_timing(pattern=None, first_execution_time="tomorrow",
                         remaining_executions=None, timezone=None, now=NOW)
    with pytest.raises(ClientError, match="future"):
        cron.plan_timing(pattern=None, first_execution_time="2026-03-10 12:01",
                         remaining_executions=None, timezone=None, now=NOW,
                         min_first_delay=60)


def test_first_time_only_runs_once() -> None:
    t = cron.plan_timing(pattern=None, first_execution_time="2026-03-10 12:01",
                         remaining_executions=None, timezone=None, now=NOW)
    assert t["next_execution_time"] == utc("2026-03-10 12:01")
    assert t["remaining_executions"] == 1 and t["pattern"] is None


def test_first_time_then_pattern() -> None:
    t = cron.plan_timing(pattern="0 * * * *", first_execution_time="2026-03-10 12:20",
                         remaining_executions=3, timezone=None, now=NOW)
    assert t["next_execution_time"] == utc("2026-03-10 12:20")
    assert t["first_execution_time"] == utc("2026-03-10 12:20")


@pytest.mark.parametrize("count", [0, -1, "2", True, 1.5])
def test_bad_counts(count: object) -> None:
    with pytest.raises(ClientError, match="remaining_executions"):
        cron.plan_timing(pattern="* * * * *", first_execution_time=None,
                         remaining_executions=count, timezone=None, now=NOW)  # type: ignore[arg-type]


def test_count_above_one_needs_pattern() -> None:
    with pytest.raises(ClientError, match="Pattern must be provided"):
        cron.plan_timing(pattern=None, first_execution_time="2026-03-10 13:00",
                         remaining_executions=2, timezone=None, now=NOW)


def test_unknown_time_zone() -> None:
    with pytest.raises(ClientError, match="Mars/Olympus"):
        cron.plan_timing(pattern="* * * * *", first_execution_time=None,
                         remaining_executions=None, timezone="Mars/Olympus", now=NOW)


def _trigger(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {"id": "t1", "name": "n", "pattern": "*/10 * * * *",
                               "timezone": None, "remaining_executions": None,
                               "catch_up": False,
                               "next_execution_time": utc("2026-03-10 12:00")}
    base.update(kw)
    return base


def test_plan_on_time_fires_and_advances() -> None:
    plan = cron.plan_fire(_trigger(), utc("2026-03-10 12:00:00"), 60)
    assert plan.fire and not plan.delete and not plan.missed
    assert plan.next_time == utc("2026-03-10 12:10")
    assert plan.remaining is None


def test_plan_counts_down_and_deletes_at_zero() -> None:
    plan = cron.plan_fire(_trigger(remaining_executions=2), utc("2026-03-10 12:00:01"), 60)
    assert plan.fire and plan.remaining == 1 and not plan.delete
    plan = cron.plan_fire(_trigger(remaining_executions=1), utc("2026-03-10 12:00:01"), 60)
    assert plan.fire and plan.delete


def test_plan_missed_run_is_skipped_not_backfilled() -> None:
    now = utc("2026-03-10 14:03")  # down for two hours: 12 runs missed
    plan = cron.plan_fire(_trigger(remaining_executions=5), now, 60)
    assert plan.missed and not plan.fire
    assert plan.next_time == utc("2026-03-10 14:10")
    assert plan.remaining == 5


def test_plan_missed_run_with_catch_up_fires_once() -> None:
    now = utc("2026-03-10 14:03")
    plan = cron.plan_fire(_trigger(catch_up=True, remaining_executions=5), now, 60)
    assert plan.missed and plan.fire
    assert plan.next_time == utc("2026-03-10 14:10")
    assert plan.remaining == 4


def test_run_ids_are_stable_per_scheduled_time() -> None:
    a = cron.run_execution_id("t1", utc("2026-03-10 12:00"))
    assert a == cron.run_execution_id("t1", utc("2026-03-10 12:00"))
    assert a != cron.run_execution_id("t1", utc("2026-03-10 12:10"))
    assert a != cron.run_execution_id("t2", utc("2026-03-10 12:00"))


def test_run_description_is_mistral_json() -> None:
    data = json.loads(cron.run_description({"id": "t1", "name": "nightly"}))
    assert data["triggered_by"] == {"type": "cron_trigger", "id": "t1", "name": "nightly"}
    assert "t1" in data["description"]


# ---------------------------------------------------------------- creation (SQLite)


def test_create_stores_trigger(engine: Engine) -> None:
    session = sessions_of(engine)
    with session() as s:
        wf = add_workflow(s)
        row = cron.create_cron_trigger(
            s, name="every5", pattern="*/5 * * * *", workflow_identifier="greet",
            workflow_input={"name": "x"}, workflow_params={"env": {"a": 1}}, now=NOW,
            timezone="UTC", catch_up=True, trust_id="trust-1")
        data = row.to_dict()
    assert data["workflow_id"] == wf.id and data["workflow_name"] == "greet"
    assert data["next_execution_time"] == utc("2026-03-10 12:05")
    assert data["workflow_input"] == {"name": "x"}
    assert data["workflow_params"] == {"env": {"a": 1}}
    assert data["catch_up"] is True and data["trust_id"] == "trust-1"
    with session() as s:
        assert s.get(m.CronTrigger, data["id"]).timezone == "UTC"


def test_create_by_workflow_id_and_namespace(engine: Engine) -> None:
    session = sessions_of(engine)
    with session() as s:
        wf = add_workflow(s, NOINPUT_TEXT, name="plain", namespace="ns1")
        row = cron.create_cron_trigger(s, name="a", pattern="0 0 * * *",
                                       workflow_identifier=wf.id, now=NOW)
        assert row.workflow_namespace == "ns1"
        row = cron.create_cron_trigger(s, name="b", pattern="0 0 * * *",
                                       workflow_identifier="plain", namespace="ns1", now=NOW)
        assert row.workflow_id == wf.id


def test_create_checks_workflow_and_input(engine: Engine) -> None:
    session = sessions_of(engine)
    with session() as s:
        add_workflow(s)
    with session() as s, pytest.raises(NotFound):
        cron.create_cron_trigger(s, name="x", pattern="* * * * *",
                                 workflow_identifier="nope", now=NOW)
    with session() as s, pytest.raises(InputError, match=r"missing.*'name'"):
        cron.create_cron_trigger(s, name="x", pattern="* * * * *",
                                 workflow_identifier="greet", now=NOW)
    with session() as s, pytest.raises(InputError, match=r"unexpected.*'zzz'"):
        cron.create_cron_trigger(s, name="x", pattern="* * * * *", workflow_identifier="greet",
                                 workflow_input={"name": 1, "zzz": 2}, now=NOW)


def test_duplicate_name_in_project_conflicts(engine: Engine) -> None:
    session = sessions_of(engine)
    with session() as s:
        add_workflow(s, NOINPUT_TEXT, name="plain").scope = "public"
        cron.create_cron_trigger(s, name="dup", pattern="* * * * *",
                                 workflow_identifier="plain", now=NOW)
    with session() as s, pytest.raises(Conflict) as err:
        cron.create_cron_trigger(s, name="dup", pattern="* * * * *",
                                 workflow_identifier="plain", now=NOW)
    assert err.value.http_code == 409
    with session() as s:  # another project may use the name
        cron.create_cron_trigger(s, name="dup", pattern="* * * * *",
                                 workflow_identifier="plain", now=NOW, project_id="p2")


def test_apply_plan_is_compare_and_set(engine: Engine) -> None:
    session = sessions_of(engine)
    with session() as s:
        add_workflow(s, NOINPUT_TEXT, name="plain")
        tid = cron.create_cron_trigger(s, name="cas", pattern="*/10 * * * *",
                                       workflow_identifier="plain", now=NOW).id
        trig = s.get(m.CronTrigger, tid).to_dict()
    due = trig["next_execution_time"]
    plan = cron.plan_fire(trig, due + _dt.timedelta(seconds=1), 60)
    with session() as s:
        assert cron.apply_plan(s, plan, due) is True
    with session() as s:
        assert cron.apply_plan(s, plan, due) is False  # the same claim a second time loses
        assert s.get(m.CronTrigger, tid).next_execution_time == plan.next_time
