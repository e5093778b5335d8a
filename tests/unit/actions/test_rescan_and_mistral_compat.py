"""Packs re-scanned on a miss (rate limited), broken packs listed, the mistral-lib adapter."""

from __future__ import annotations

from typing import Any

import pytest

from wfaas.actions.base import (
    ActionContext,
    ActionDescriptor,
    ExecutionContext,
    PythonActionDescriptor,
    Result,
    SecurityContext,
)
from wfaas.actions.registry import CompositeProvider, RescanningProvider
from wfaas.actions.runner import run_descriptor
from wfaas.actions.std import EchoAction
from wfaas.exceptions import PluginLoadError


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _installed(names: list[str], broken: list[str]) -> Any:
    calls = []

    def loader(on_error: Any) -> list[ActionDescriptor]:
        calls.append(1)
        for b in broken:
            on_error(PluginLoadError(f"Failed to load actions [distribution={b}]", pack=b))
        return [PythonActionDescriptor(n, EchoAction, source="pack:x") for n in names]
    loader.calls = calls  # type: ignore[attr-defined]
    return loader


def test_a_miss_rescans_at_most_once_per_interval() -> None:
    names: list[str] = []
    loader = _installed(names, [])
    clock = Clock()
    comp = CompositeProvider([RescanningProvider(loader, strict=False)], rescan_interval=2.0,
                             clock=clock)
    assert comp.find("new.act") is None and len(loader.calls) == 1  # too soon after start
    names.append("new.act")  # "pip install" happens
    clock.now += 2.5
    assert comp.find("new.act") is not None and len(loader.calls) == 2
    assert comp.find("other.act") is None and len(loader.calls) == 2  # rate limited
    clock.now += 2.5
    assert comp.find("other.act") is None and len(loader.calls) == 3


def test_no_rescan_when_disabled() -> None:
    loader = _installed([], [])
    clock = Clock()
    comp = CompositeProvider([RescanningProvider(loader, strict=False)], clock=clock)
    clock.now += 100
    assert comp.find("x") is None and len(loader.calls) == 1


def test_broken_pack_listed_or_raised() -> None:
    lenient = RescanningProvider(_installed(["ok.act"], ["bad-pack"]), strict=False)
    assert lenient.find("ok.act") is not None
    assert [e.details["pack"] for e in lenient.broken] == ["bad-pack"]
    assert [e.details["pack"] for e in CompositeProvider([lenient]).broken()] == ["bad-pack"]
    with pytest.raises(PluginLoadError, match="bad-pack"):
        RescanningProvider(_installed(["ok.act"], ["bad-pack"]), strict=True)


mistral_lib = pytest.importorskip("mistral_lib")


def _mistral_descriptor(cls: type) -> Any:
    from wfaas.actions.mistral_compat import MistralActionDescriptor

    return MistralActionDescriptor("m.act", cls, source="mistral-plugin:demo")


def test_mistral_context_and_result() -> None:
    from mistral_lib import actions

    class Probe(actions.Action):
        """Looks at its context."""

        def __init__(self, x: int, y: int = 2) -> None:
            self.x, self.y = x, y

        def run(self, context: Any) -> Any:
            return actions.Result(data={
                "sum": self.x + self.y, "wf": context.execution.workflow_name,
                "task": context.execution.task_execution_id,
                "index": context.execution.with_items_index,
                "trust": context.security.trust_id, "token": context.security.auth_token})

    d = _mistral_descriptor(Probe)
    assert d.input_string == "x, y=2" and d.description == "Looks at its context."
    ctx = ActionContext(security=SecurityContext(trust_id="t1", auth_token="tok"),
                        execution=ExecutionContext(workflow_name="wf", task_execution_id="k",
                                                   with_items_index=3))
    assert run_descriptor(d, {"x": 1}, ctx) == Result(data={
        "sum": 3, "wf": "wf", "task": "k", "index": 3, "trust": "t1", "token": "tok"})


def test_mistral_errors_and_async() -> None:
    from mistral_lib import actions, exceptions

    class Fails(actions.Action):
        def run(self, context: Any) -> Any:
            raise exceptions.ActionException("nope")

    class ErrorResult(actions.Action):
        def run(self, context: Any) -> Any:
            return actions.Result(error="bad input")

    class Later(actions.Action):
        def run(self, context: Any) -> Any:
            return None

        def is_sync(self) -> bool:
            return False

    failed = run_descriptor(_mistral_descriptor(Fails), {}, ActionContext())
    assert failed.is_error() and "nope" in str(failed.error)
    assert run_descriptor(_mistral_descriptor(ErrorResult), {}, ActionContext()).error == \
        "bad input"
    later = run_descriptor(_mistral_descriptor(Later), {}, ActionContext())
    assert later.sync is False and later.data is None
