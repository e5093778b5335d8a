"""The aliases/renames/hide data file of OpenStack actions."""

from __future__ import annotations

from pathlib import Path

import pytest

from wfaas.actions.openstack import generator
from wfaas.actions.openstack.auth import OpenStackSettings
from wfaas.actions.openstack.provider import OpenStackProvider, load_mapping
from wfaas.exceptions import ActionError


@pytest.fixture(scope="module")
def provider() -> OpenStackProvider:
    return OpenStackProvider(OpenStackSettings())


def test_every_packaged_alias_points_at_real_parameters() -> None:
    mapping = load_mapping()
    assert len(mapping.aliases) >= 11
    for name, alias in mapping.aliases.items():
        spec = generator.find_method(alias.target)
        assert spec is not None, f"{name} -> {alias.target}"
        target_params = {p.name for p in spec.params}
        for alias_param, target_param in alias.params.items():
            assert target_param in target_params, f"{name}: {alias_param} -> {target_param}"


@pytest.mark.parametrize("alias, target", [
    ("nova.servers_create", "compute.create_server"),
    ("nova.servers_get", "compute.get_server"),
    ("nova.servers_delete", "compute.delete_server"),
    ("nova.servers_list", "compute.servers"),
    ("glance.images_list", "image.images"),
    ("keystone.projects_list", "identity.projects"),
    ("keystone.projects_create", "identity.create_project"),
    ("keystone.users_list", "identity.users"),
    ("neutron.list_networks", "network.networks"),
    ("cinder.volumes_create", "block_storage.create_volume"),
    ("heat.stacks_create", "orchestration.create_stack"),
])
def test_mistral_aliases(provider: OpenStackProvider, alias: str, target: str) -> None:
    d = provider.find(alias)
    assert d is not None
    assert d.spec.name == target
    assert f"alias of {target}" in d.description


def test_servers_create_renames_mistral_parameters(provider: OpenStackProvider) -> None:
    d = provider.find("nova.servers_create")
    assert d is not None
    assert d.input_string.startswith("name, image, flavor, ")
    assert "image_id" not in d.input_string and "nics=null" in d.input_string
    kwargs, options = d.call_kwargs({"name": "vm", "image": "img", "flavor": "1",
                                     "nics": [{"uuid": "net"}], "meta": {"a": "b"},
                                     "action_region": "RegionTwo"})
    assert kwargs == {"name": "vm", "image_id": "img", "flavor_id": "1",
                      "networks": [{"uuid": "net"}], "metadata": {"a": "b"}}
    assert options == {"region": "RegionTwo", "interface": None}


def test_alias_defaults_and_spread(provider: OpenStackProvider) -> None:
    reboot = provider.find("nova.servers_reboot")
    assert reboot is not None
    assert 'reboot_type="SOFT"' in reboot.input_string
    assert reboot.call_kwargs({"server": "s"})[0] == {"server": "s", "reboot_type": "SOFT"}
    servers = provider.find("nova.servers_list")
    assert servers is not None
    kwargs, _ = servers.call_kwargs({"detailed": False, "search_opts": {"status": "ERROR"}})
    assert kwargs == {"details": False, "status": "ERROR"}


def test_delete_alias_keeps_ignore_missing_false(provider: OpenStackProvider) -> None:
    d = provider.find("keystone.projects_delete")
    assert d is not None
    assert d.call_kwargs({"project": "p"})[0] == {"ignore_missing": False, "project": "p"}
    assert d.call_kwargs({"project": "p", "ignore_missing": True})[0]["ignore_missing"] is True


def test_null_means_not_given(provider: OpenStackProvider) -> None:
    d = provider.find("keystone.projects_create")
    assert d is not None
    kwargs, _ = d.call_kwargs({"name": "p", "description": None, "domain": "default"})
    assert kwargs == {"name": "p", "domain_id": "default"}


def test_user_mapping_file_hides_renames_and_removes(tmp_path: Path) -> None:
    extra = tmp_path / "mapping.yaml"
    extra.write_text(
        "hide: ['placement.*']\n"
        "rename: {identity.projects: identity.list_projects}\n"
        "aliases:\n"
        "  nova.servers_get: null\n"
        "  my.projects: {action: identity.projects, params: {enabled: is_enabled}}\n")
    p = OpenStackProvider(OpenStackSettings(mapping_file=str(extra)))
    assert p.find("placement.resource_providers") is None
    assert p.find("identity.projects") is None
    renamed = p.find("identity.list_projects")
    assert renamed is not None and renamed.spec.name == "identity.projects"
    assert p.find("nova.servers_get") is None
    mine = p.find("my.projects")
    assert mine is not None and "enabled=null" in mine.input_string
    names = {d.name for d in p.find_all()}
    assert "identity.list_projects" in names and "identity.projects" not in names
    assert not any(n.startswith("placement.") for n in names)


def test_bad_mapping_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("aliases:\n  x.y: {params: {a: b}}\n")
    with pytest.raises(ActionError, match=r"aliases.x.y: 'action'"):
        load_mapping(bad)
    with pytest.raises(ActionError, match="can not be read"):
        load_mapping(tmp_path / "missing.yaml")
