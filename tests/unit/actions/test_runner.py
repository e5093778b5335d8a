"""run_action: every failure is an error Result with a clear message."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from wfaas.actions.base import (
    Action,
    ActionContext,
    ActionException,
    DictProvider,
    ExecutionContext,
    PythonActionDescriptor,
    Result,
)
from wfaas.actions.registry import CompositeProvider, StdProvider
from wfaas.actions.runner import run_action

RELEASE = threading.Event()


class Blocking(Action):
    """Waits until released."""

    def run(self, context: ActionContext) -> Any:
        RELEASE.wait(10)
        return "released"


class Boom(Action):
    """Raises a plain Python error."""

    def __init__(self, kind: str = "value") -> None:
        if kind == "ctor":
            raise RuntimeError("bad constructor")
        self.kind = kind

    def run(self, context: ActionContext) -> Any:
        if self.kind == "action":
            raise ActionException("explicit failure")
        raise ValueError("bad value")


class Ctx(Action):
    """Returns the execution id it was given."""

    def run(self, context: ActionContext) -> Any:
        return context.execution.workflow_execution_id


@pytest.fixture(scope="module")
def provider() -> CompositeProvider:
    extra = DictProvider([PythonActionDescriptor("t.block", Blocking),
                          PythonActionDescriptor("t.boom", Boom),
                          PythonActionDescriptor("t.ctx", Ctx)])
    return CompositeProvider([StdProvider(include_resources=False), extra])


def test_success_and_context(provider: CompositeProvider) -> None:
    assert run_action(provider, "std.echo", {"output": [1, 2]}) == Result(data=[1, 2])
    ctx = ActionContext(execution=ExecutionContext(workflow_execution_id="wf-1"))
    assert run_action(provider, "t.ctx", {}, ctx).data == "wf-1"


def test_not_found(provider: CompositeProvider) -> None:
    res = run_action(provider, "nope.x", {}, namespace="ns1")
    assert res.error == "Failed to find action [action_name=nope.x, namespace=ns1]"


def test_input_error(provider: CompositeProvider) -> None:
    res = run_action(provider, "std.echo", {"outptu": 1})
    assert res.error == ("Invalid input for action std.echo: missing [output]; "
                         "unexpected [outptu]. Signature: output, delay=0")


def test_exceptions_become_errors(provider: CompositeProvider) -> None:
    assert run_action(provider, "t.boom", {}).error == \
        "The action raised an exception [action=t.boom, action_ex_id=None, msg='bad value']"
    assert run_action(provider, "t.boom", {"kind": "action"}).error == \
        ("The action raised an exception [action=t.boom, action_ex_id=None, "
         "msg='explicit failure']")
    assert run_action(provider, "t.boom", {"kind": "ctor"}).error == \
        "Failed to create action t.boom: RuntimeError: bad constructor"
    assert run_action(provider, "std.fail", {}).error == \
        ("The action raised an exception [action=Fail action, action_ex_id=None, "
         "msg='Fail action expected exception.']")
    assert run_action(provider, "std.fail", {"error_data": {"x": 1}}).error == {"x": 1}
    assert "delay must be a number" in run_action(
        provider, "std.echo", {"output": 1, "delay": "soon"}).error


def test_timeout(provider: CompositeProvider) -> None:
    RELEASE.clear()
    try:
        res = run_action(provider, "t.block", {}, timeout=0.05)
        assert res.error == "Action t.block timed out after 0.05 s"
    finally:
        RELEASE.set()
    assert run_action(provider, "t.block", {}, timeout=5).data == "released"


def test_async_action_is_flagged(provider: CompositeProvider) -> None:
    res = run_action(provider, "std.async_noop", {})
    assert res.sync is False and res.is_success() and res.data is None
    assert run_action(provider, "std.noop", {}).sync is True


def test_broken_provider_does_not_raise() -> None:
    class Broken:
        def find(self, name: str, namespace: str = "") -> None:
            raise RuntimeError("db down")

        def find_all(self, namespace: str = "") -> list[Any]:
            return []

    res = run_action(Broken(), "std.echo", {"output": 1})
    assert res.error == ("Failed to find action [action_name=std.echo, namespace=]: "
                         "RuntimeError: db down")


class Wrapped(Action):
    """Refused by the egress policy, the way std.ssh and std.email report it."""

    def __init__(self, wrap: bool = True) -> None:
        self.wrap = wrap

    def run(self, context: ActionContext) -> Any:
        from wfaas.actions.egress import EgressDenied

        try:
            raise EgressDenied("10.0.0.1: address is in denied network 10.0.0.0/8")
        except EgressDenied as exc:
            if self.wrap:
                raise ActionException(f"Failed to execute ssh cmd: {exc}") from exc
            raise


def test_an_egress_refusal_marks_the_result_with_its_limit() -> None:
    provider = DictProvider([PythonActionDescriptor("t.wrapped", Wrapped),
                             PythonActionDescriptor("t.boom", Boom)])
    for wrap in (True, False):
        result = run_action(provider, "t.wrapped", {"wrap": wrap}, ActionContext())
        assert result.is_error() and "denied network" in str(result.error)
        assert result.limit == "egress"
    other = run_action(provider, "t.boom", {}, ActionContext())
    assert other.is_error() and other.limit is None
