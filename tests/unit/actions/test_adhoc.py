"""Ad-hoc actions: base-input, defaults, output, chains, cycles, namespaces, sync-ness."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from wfaas.actions.adhoc import AdHocActionDescriptor, AdHocProvider
from wfaas.actions.base import WF_CTX_DATA, WF_CTX_FUNCTIONS
from wfaas.actions.registry import CompositeProvider, StdProvider
from wfaas.actions.runner import run_action
from wfaas.actions.std_ssh import SSHAction
from wfaas.expressions import StaticFunctionContext
from wfaas.lang import parse_actions
from wfaas.lang.specs import ActionSpec

DOC = """
version: "2.0"

greet:
  description: Greets someone.
  tags: [demo]
  base: std.echo
  base-input:
    output: "Hello, <% $.name %><% $.punct %>"
  input:
    - name
    - punct: "!"
  output:
    text: <% $ %>

greet_twice:
  base: greet
  base-input:
    name: <% $.who %> and <% $.who %>
  input:
    - who
  output: <% $.text %>

from_env:
  base: std.echo
  base-input:
    output: <% env().greeting %>, <% $.wfvar %>

failing:
  base: std.fail
  base-input:
    error_data: <% $.why %>
  input:
    - why
  output: never applied

bad_base_input:
  base: std.echo
  base-input:
    output: 1
    outptu: 2

async_one:
  base: std.async_noop

missing_base:
  base: no.such.action
"""

# Uploaded separately, so the parser cannot see the cycle; the provider must.
CYCLE_A = 'version: "2.0"\ncyc_a:\n  base: cyc_b\n'
CYCLE_B = 'version: "2.0"\ncyc_b:\n  base: cyc_a\n'

NS_DOC = """
version: "2.0"
greet:
  base: std.echo
  base-input:
    output: namespaced
"""


def _loader(by_ns: dict[str, list[ActionSpec]]):  # type: ignore[no-untyped-def]
    def load(namespace: str, name: str | None) -> Iterable[ActionSpec]:
        return [s for s in by_ns.get(namespace, []) if name is None or s.name == name]
    return load


@pytest.fixture(scope="module")
def provider() -> CompositeProvider:
    loader = _loader({"": parse_actions(DOC) + parse_actions(CYCLE_A) + parse_actions(CYCLE_B),
                      "ns1": parse_actions(NS_DOC)})
    return CompositeProvider([StdProvider(), AdHocProvider(loader)])


def test_descriptor_metadata(provider: CompositeProvider) -> None:
    d = provider.find("greet")
    assert isinstance(d, AdHocActionDescriptor)
    assert d.input_string == 'name, punct="!"'
    assert d.description == "Greets someone." and d.tags == ("demo",)
    assert d.source == "adhoc" and not d.is_system and "base: std.echo" in (d.definition or "")
    assert d.params_json_schema()["required"] == ["name"]


def test_base_input_defaults_and_output(provider: CompositeProvider) -> None:
    res = run_action(provider, "greet", {"name": "Ann"})
    assert res.is_success(), res.error
    assert res.data == {"text": "Hello, Ann!"}
    assert run_action(provider, "greet", {"name": "Bo", "punct": "?"}).data == \
        {"text": "Hello, Bo?"}


def test_chain_outputs_apply_innermost_first(provider: CompositeProvider) -> None:
    res = run_action(provider, "greet_twice", {"who": "Cy"})
    assert res.data == "Hello, Cy and Cy!"


def test_env_and_workflow_data(provider: CompositeProvider) -> None:
    wf_ctx = {WF_CTX_FUNCTIONS: StaticFunctionContext(environment={"greeting": "Hi"}),
              WF_CTX_DATA: {"wfvar": "there"}}
    assert run_action(provider, "from_env", {}, wf_ctx=wf_ctx).data == "Hi, there"


def test_errors_pass_through_without_output(provider: CompositeProvider) -> None:
    res = run_action(provider, "failing", {"why": {"code": 7}})
    assert res.is_error() and res.error == {"code": 7}


def test_input_errors(provider: CompositeProvider) -> None:
    assert run_action(provider, "greet", {"nmae": "x"}).error == (
        'Invalid input for action greet: missing [name]; unexpected [nmae]. '
        'Signature: name, punct="!"')
    assert run_action(provider, "bad_base_input", {}).error == (
        "Invalid input for action std.echo: unexpected [outptu]. Signature: output, delay=0")


def test_cycle_and_missing_base(provider: CompositeProvider) -> None:
    assert run_action(provider, "cyc_a", {}).error == \
        "Found a cycle in an ad-hoc action chain [cyc_a -> cyc_b -> cyc_a]"
    assert run_action(provider, "missing_base", {}).error == (
        "Failed to find action [action_name=no.such.action, namespace=] "
        "(base of ad-hoc action missing_base)")


def test_sync_ness_inherited(provider: CompositeProvider) -> None:
    res = run_action(provider, "async_one", {})
    assert res.sync is False and res.is_success()
    assert run_action(provider, "greet", {"name": "x"}).sync is True


def test_namespaces(provider: CompositeProvider) -> None:
    assert run_action(provider, "greet", {}, namespace="ns1").data == "namespaced"
    fallback = provider.find("greet_twice", "ns1")  # falls back to the default namespace
    assert fallback is not None and fallback.namespace == ""
    assert [d.name for d in provider.providers[1].find_all("ns1")] == ["greet"]


def test_preinstalled_wait_ssh(provider: CompositeProvider) -> None:
    d = provider.find("std.wait_ssh")
    assert d is not None and d.source == "std" and d.is_system
    assert d.input_string == "host, username, password"
    action = d.instantiate({"host": "h", "username": "u", "password": "p"})
    assert isinstance(action, SSHAction)
    assert (action.cmd, action.host, action.username, action.password) == ("ls -l", "h", "u", "p")
    assert "std.wait_ssh" in [x.name for x in provider.find_all()]
