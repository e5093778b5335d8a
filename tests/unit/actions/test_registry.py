"""Providers: std / pack entry points, broken packs, the composite, default_providers."""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from typing import Any

import pytest
from stevedore.extension import Extension, ExtensionManager

from wfaas.actions.base import Action, ActionContext, DictProvider, PythonActionDescriptor
from wfaas.actions.registry import (
    CompositeProvider,
    PackProvider,
    StdProvider,
    default_providers,
)
from wfaas.exceptions import PluginLoadError

GOOD_MODULE = '''
from wfaas.actions.base import Action

class Hello(Action):
    """Says hello."""

    def __init__(self, who="world"):
        self.who = who

    def run(self, context):
        return "hello " + self.who
'''


class Local(Action):
    """A test action."""

    def __init__(self, x: int) -> None:
        self.x = x

    def run(self, context: ActionContext) -> Any:
        return self.x


def _ext(name: str, value: str, plugin: Any) -> Extension:
    ep = metadata.EntryPoint(name=name, value=value, group="wfaas.actions")
    return Extension(name, ep, plugin, None)


def test_std_and_pack_split_with_test_manager() -> None:
    mgr = ExtensionManager.make_test_instance([
        _ext("std.echo", "wfaas.actions.std:EchoAction",
             __import__("wfaas.actions.std", fromlist=["EchoAction"]).EchoAction),
        _ext("mine.local", "tests.unit.actions.test_registry:Local", Local),
    ])
    std = StdProvider(mgr, include_resources=False)
    packs = PackProvider(mgr)
    assert [d.name for d in std.find_all()] == ["std.echo"]
    assert [d.name for d in packs.find_all()] == ["mine.local"]
    local = packs.find("mine.local")
    assert local is not None and local.input_string == "x"
    assert local.source.startswith("pack:")


def test_entry_point_that_is_not_an_action_is_refused() -> None:
    mgr = ExtensionManager.make_test_instance([_ext("bad.thing", "x:y", object)])
    with pytest.raises(PluginLoadError, match="not an Action subclass"):
        PackProvider(mgr)


def test_real_pack_distribution_is_found_with_its_source(
        fake_dists: Callable[..., None]) -> None:
    fake_dists("wfaas-pack-hello", {"hello.say": "hello_pack_mod:Hello"},
               {"hello_pack_mod": GOOD_MODULE})
    provider = default_providers(openstack=False)
    d = provider.find("hello.say")
    assert d is not None
    assert d.source == "pack:wfaas-pack-hello"
    assert d.input_string == 'who="world"' and d.description == "Says hello."
    assert provider.find("std.echo") is not None  # std still there


def test_broken_pack_raises_naming_distribution_and_entry_point(
        fake_dists: Callable[..., None]) -> None:
    fake_dists("wfaas-pack-broken", {"broken.act": "no_such_module_xyz:Thing"})
    with pytest.raises(PluginLoadError) as err:
        PackProvider()
    text = str(err.value)
    assert "wfaas-pack-broken" in text and "broken.act" in text
    assert "ModuleNotFoundError" in text
    # std actions do not depend on third-party packs loading
    assert StdProvider(include_resources=False).find("std.noop") is not None


def test_composite_first_wins_and_find_all_shadows() -> None:
    first = DictProvider([PythonActionDescriptor("a.x", Local, source="first")])
    second = DictProvider([PythonActionDescriptor("a.x", Local, source="second"),
                           PythonActionDescriptor("a.y", Local, source="second")])
    comp = CompositeProvider([first, second])
    found = comp.find("a.x")
    assert found is not None and found.source == "first"
    assert comp.find("a.z") is None
    assert [(d.name, d.source) for d in comp.find_all()] == [("a.x", "first"),
                                                              ("a.y", "second")]


def test_default_providers_has_all_std_actions() -> None:
    names = {d.name for d in default_providers(openstack=False).find_all()}
    assert {"std.echo", "std.http", "std.ssh", "std.email", "std.js", "std.javascript",
            "std.mistral_http", "std.noop", "std.async_noop", "std.fail", "std.sleep",
            "std.test_dict", "std.ssh_proxied"} <= names
