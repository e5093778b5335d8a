"""TriggerService.from_runtime reads [cron_trigger] and [event_engine] (no threads started)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from oslo_config import cfg
from sqlalchemy import Engine

from tests.unit.triggers.helpers import sessions_of
from wfaas.config import register_opts
from wfaas.triggers.service import TriggerService, listener_url


def _conf(**overrides: object) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    register_opts(conf)
    conf([], project="wfaas")
    for key, value in overrides.items():
        group, _, name = key.rpartition(".")
        conf.set_override(name, value, group=group or None)
    return conf


def _runtime(engine: Engine) -> SimpleNamespace:
    return SimpleNamespace(session=sessions_of(engine), start_workflow=lambda *a, **k: {},
                           clock=lambda: 0.0, db=engine)


def test_defaults_embedded(engine: Engine) -> None:
    svc = TriggerService.from_runtime(_runtime(engine), _conf())
    assert svc.listener is None and svc.changes is None  # local transport, SQLite
    assert svc.max_sleep == 30.0 and svc.misfire_grace == 60.0 and svc.cron_enabled
    assert svc.definitions == []


def test_rabbit_url_and_options(engine: Engine, tmp_path: Path) -> None:
    defs = tmp_path / "defs.yaml"
    defs.write_text("- event_types: a.*\n  properties: {x: <% $.payload %>}\n")
    conf = _conf(transport_url="rabbit://u:p@mq:5672/", **{
        "cron_trigger.max_sleep": 5.0, "cron_trigger.misfire_grace_time": 10,
        "cron_trigger.enabled": False, "event_engine.listener_pool_name": "pool-x",
        "event_engine.priorities": ["info"], "event_engine.event_definitions_file": str(defs)})
    svc = TriggerService.from_runtime(_runtime(engine), conf)
    assert svc.listener is not None
    assert svc.listener.url == "amqp://u:p@mq:5672/"
    assert (svc.listener.pool, svc.listener.priorities) == ("pool-x", ("info",))
    assert svc.listener.handler == svc.on_notification
    assert (svc.max_sleep, svc.misfire_grace, svc.cron_enabled) == (5.0, 10.0, False)
    assert svc.definitions[0].matches("a.b")


def test_listener_url_choice() -> None:
    assert listener_url(_conf()) is None
    assert listener_url(_conf(**{"event_engine.transport_url": "amqp://g:g@h//"})) == \
        "amqp://g:g@h//"
    assert listener_url(_conf(**{"event_engine.enabled": True,
                                 "transport_url": "local:/"})) is None
