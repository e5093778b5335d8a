"""Event triggers: storage rules, notification decoding, matching and starting runs."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine

from tests.unit.triggers.helpers import RecordingStarter, add_workflow, sessions_of
from wfaas.exceptions import ClientError, Conflict, InputError, NotFound
from wfaas.triggers import events
from wfaas.triggers.service import TriggerService

ENVELOPE = {"oslo.version": "2.0", "oslo.message": json.dumps({
    "message_id": "m-1", "publisher_id": "compute.host1",
    "event_type": "compute.instance.create.end", "priority": "INFO",
    "payload": {"instance_id": "i-1", "state": "active"},
    "timestamp": "2026-03-10 12:00:00.000001",
    "_context_project_id": "p1", "_context_user_id": "u1", "_unique_id": "x"})}


def _create(session, **kw):  # type: ignore[no-untyped-def]
    args = {"name": "on-create", "workflow_id": "greet", "exchange": "nova",
            "topic": "notifications", "event": "compute.instance.create.end",
            "workflow_input": {"name": "<% $.payload.instance_id %>"}}
    args.update(kw)
    return events.create_event_trigger(session, **args)


def test_decode_v2_envelope() -> None:
    ev = events.decode_notification("nova", "notifications", ENVELOPE, "notifications.info")
    assert ev.event_type == "compute.instance.create.end"
    assert ev.payload == {"instance_id": "i-1", "state": "active"}
    assert ev.context == {"project_id": "p1", "user_id": "u1"}
    assert ev.publisher == "compute.host1" and ev.priority == "info"
    assert ev.message_id == "m-1"
    assert ev.params() == {"service": "compute.host1", "project_id": "p1", "user_id": "u1",
                           "timestamp": "2026-03-10 12:00:00.000001",
                           "event_type": "compute.instance.create.end",
                           "payload": {"instance_id": "i-1", "state": "active"}}


def test_decode_v1_plain_body_and_priority_from_routing_key() -> None:
    body = json.dumps({"event_type": "e", "payload": [1], "publisher_id": "svc"})
    ev = events.decode_notification("x", "t", body, "t.error")
    assert (ev.event_type, ev.payload, ev.priority) == ("e", [1], "error")


def test_create_validates_fields(engine: Engine) -> None:
    session = sessions_of(engine)
    with session() as s:
        add_workflow(s)
    for missing in ("exchange", "topic", "event", "name"):
        with session() as s, pytest.raises(ClientError, match=missing):
            _create(s, **{missing: ""})
    with session() as s, pytest.raises(NotFound, match="nope"):
        _create(s, workflow_id="nope")
    with session() as s, pytest.raises(InputError, match="unexpected"):
        _create(s, workflow_input={"name": 1, "other": 2})
    with session() as s, pytest.raises(ClientError, match="workflow_params"):
        _create(s, workflow_params="{not json")


def test_create_by_name_stores_id_and_duplicates_conflict(engine: Engine) -> None:
    session = sessions_of(engine)
    with session() as s:
        wf = add_workflow(s)
        row = _create(s, workflow_params='{"env": {"a": 1}}')
        assert row.workflow_id == wf.id and row.workflow_params == {"env": {"a": 1}}
    with session() as s, pytest.raises(Conflict):
        _create(s, name="other-name")


def test_update_allows_workflow_fields_only(engine: Engine) -> None:
    session = sessions_of(engine)
    with session() as s:
        add_workflow(s)
        row = _create(s)
        with pytest.raises(ClientError, match="Can not update"):
            events.update_event_trigger(s, row, {"topic": "other"})
        events.update_event_trigger(s, row, {"name": "renamed", "scope": "public",
                                             "workflow_input": {"name": "fixed"},
                                             "exchange": "nova"})  # unchanged: allowed
        assert (row.name, row.scope, row.workflow_input) == ("renamed", "public",
                                                             {"name": "fixed"})
        with pytest.raises(InputError):
            events.update_event_trigger(s, row, {"workflow_input": {"bad": 1}})


def test_matching_event_starts_workflow_with_event_data(engine: Engine) -> None:
    session = sessions_of(engine)
    with session() as s:
        add_workflow(s)
        tid = _create(s, workflow_params={"env": {"a": 1}}).id
        _create(s, name="other-topic", topic="other")
    starter = RecordingStarter(session)
    svc = TriggerService(session, starter)
    svc.on_notification("nova", "notifications", ENVELOPE, "notifications.info")
    assert len(starter.calls) == 1
    call = starter.calls[0]
    assert call["input"] == {"name": "i-1"}
    assert call["params"]["env"] == {"a": 1}
    assert call["params"]["event_params"]["payload"] == {"instance_id": "i-1",
                                                         "state": "active"}
    desc = json.loads(call["description"])
    assert desc["triggered_by"] == {"type": "event_trigger", "id": tid, "name": "on-create"}
    # Redelivery of the same message (same message_id) does not start a second run.
    svc.on_notification("nova", "notifications", ENVELOPE, "notifications.info")
    assert len(starter.calls) == 1


def test_non_matching_events_start_nothing(engine: Engine) -> None:
    session = sessions_of(engine)
    with session() as s:
        add_workflow(s)
        _create(s)
    starter = RecordingStarter(session)
    svc = TriggerService(session, starter)
    assert svc.post_event("nova", "notifications", "compute.instance.delete.end", {}) == []
    assert svc.post_event("glance", "notifications", "compute.instance.create.end", {}) == []
    started = svc.post_event("nova", "notifications", "compute.instance.create.end",
                             {"instance_id": "i-9"})
    assert [c["input"] for c in starter.calls] == [{"name": "i-9"}]
    assert len(started) == 1


def test_auth_scopes_events_to_project_or_public(engine: Engine) -> None:
    session = sessions_of(engine)
    with session() as s:
        add_workflow(s).scope = "public"
        _create(s, project_id="p1")
        _create(s, name="p2-private", project_id="p2")
        _create(s, name="p3-public", project_id="p3", scope="public")
    starter = RecordingStarter(session)
    svc = TriggerService(session, starter, auth_enabled=True)
    svc.post_event("nova", "notifications", "compute.instance.create.end",
                   {"instance_id": "i"}, context={"project_id": "p1"})
    assert len(starter.calls) == 2


def test_bindings_are_distinct_pairs(engine: Engine) -> None:
    session = sessions_of(engine)
    with session() as s:
        add_workflow(s)
        _create(s)
        _create(s, name="b", event="compute.instance.delete.end")
        _create(s, name="c", exchange="glance", topic="notifications", event="image.x")
        assert events.bindings(s) == {("nova", "notifications"), ("glance", "notifications")}


DEFINITIONS = """
- event_types: compute.instance.*
  properties:
    server: <% $.payload.instance_id %>
    who: <% $.context.user_id %>
- event_types: [compute.instance.delete.end]
  properties:
    gone: <% $.payload.instance_id %>
"""


def test_event_definitions_convert_matching_events() -> None:
    rules = events.load_definitions(DEFINITIONS)
    ev = events.decode_notification("nova", "notifications", ENVELOPE)
    assert events.event_params(ev, rules) == {"server": "i-1", "who": "u1"}
    gone = events.Event("nova", "notifications", "compute.instance.delete.end",
                        {"instance_id": "i-2"})
    assert events.event_params(gone, rules) == {"gone": "i-2"}  # the later entry wins
    other = events.Event("glance", "notifications", "image.update", {"id": "x"})
    assert events.event_params(other, rules) == other.params()


@pytest.mark.parametrize("text", ["{a: 1}", "- {event_types: x}", "- [1]", "[: bad"])
def test_bad_event_definitions_are_client_errors(text: str) -> None:
    with pytest.raises(ClientError):
        events.load_definitions(text)


def test_service_uses_definitions(engine: Engine) -> None:
    session = sessions_of(engine)
    with session() as s:
        add_workflow(s)
        _create(s)
    starter = RecordingStarter(session)
    svc = TriggerService(session, starter, definitions=events.load_definitions(DEFINITIONS))
    svc.on_notification("nova", "notifications", ENVELOPE)
    assert starter.calls[0]["params"]["event_params"] == {"server": "i-1", "who": "u1"}


def test_update_ignores_read_only_fields_and_rejects_unknown(engine: Engine) -> None:
    session = sessions_of(engine)
    with session() as s:
        add_workflow(s)
        row = _create(s)
        events.update_event_trigger(s, row, {"id": row.id, "project_id": "x",
                                             "created_at": "2026-01-01 00:00:00",
                                             "name": "n2"})
        assert row.name == "n2" and row.project_id == "<default-project>"
        with pytest.raises(ClientError, match="colour"):
            events.update_event_trigger(s, row, {"colour": "red"})
