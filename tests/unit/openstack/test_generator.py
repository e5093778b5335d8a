"""Generation of OpenStack actions from openstacksdk's proxy classes."""

from __future__ import annotations

import time

import pytest

from wfaas.actions.base import ActionDescriptor, ActionProvider
from wfaas.actions.openstack import generator
from wfaas.actions.openstack.auth import OpenStackSettings
from wfaas.actions.openstack.provider import OpenStackProvider


@pytest.fixture(scope="module")
def provider() -> OpenStackProvider:
    return OpenStackProvider(OpenStackSettings())


def _params(name: str) -> dict[str, object]:
    spec = generator.find_method(name)
    assert spec is not None, name
    return {p.name: p for p in spec.params}


def test_services_cover_the_main_openstack_services() -> None:
    names = set(generator.services())
    for expected in ("compute", "identity", "image", "network", "block_storage", "placement",
                     "orchestration", "object_store", "load_balancer", "dns", "baremetal",
                     "shared_file_system", "key_manager"):
        assert expected in names
    assert generator.services()["block_storage"].service_type == "block-storage"
    assert generator.services()["identity"].version == "3"


def test_more_than_a_thousand_actions_quickly(provider: OpenStackProvider) -> None:
    start = time.perf_counter()
    descriptors = provider.find_all()
    elapsed = time.perf_counter() - start
    assert len(descriptors) > 1000
    assert elapsed < 20
    names = {d.name for d in descriptors}
    assert {"compute.create_server", "identity.projects", "placement.resource_providers",
            "nova.servers_create"} <= names
    assert all(d.source == "openstack" and d.is_system for d in descriptors)
    assert isinstance(provider, ActionProvider)
    assert all(isinstance(d, ActionDescriptor) for d in descriptors[:10])


def test_create_server_shows_the_server_attributes() -> None:
    params = _params("compute.create_server")
    for name in ("name", "flavor_id", "image_id", "networks", "key_name", "user_data",
                 "availability_zone", "metadata", "action_region", "action_interface"):
        assert name in params
    assert "created_at" not in params and "links" not in params
    assert list(params)[0] == "name"
    assert not any(p.var_keyword for p in params.values())  # type: ignore[attr-defined]


def test_list_methods_expose_the_query_filters() -> None:
    params = _params("compute.servers")
    assert params["details"].default is True  # type: ignore[attr-defined]
    assert {"all_projects", "name", "status", "limit", "marker"} <= set(params)
    assert {"name", "domain_id", "is_enabled", "parent_id"} <= set(_params("identity.projects"))


def test_delete_defaults_to_ignore_missing_false() -> None:
    spec = generator.find_method("compute.delete_server")
    assert spec is not None
    params = {p.name: p for p in spec.params}
    assert params["server"].required
    assert params["ignore_missing"].default is False
    assert ("ignore_missing", False) in spec.call_defaults
    find = generator.find_method("compute.find_server")
    assert find is not None and find.call_defaults == ()


def test_description_and_return_kinds() -> None:
    spec = generator.find_method("compute.reboot_server")
    assert spec is not None
    assert spec.description == "Reboot a server"
    assert [p.name for p in spec.params if p.required] == ["server", "reboot_type"]
    assert spec.returns == "none"
    assert generator.find_method("identity.projects").returns == "generator"  # type: ignore[union-attr]
    assert generator.find_method("identity.get_project").returns == "resource"  # type: ignore[union-attr]


def test_open_ended_resources_keep_kwargs() -> None:
    # identity projects accept unknown body attributes: explicit ones plus **attrs
    params = _params("identity.create_project")
    assert "name" in params and "domain_id" in params
    assert params["attrs"].var_keyword  # type: ignore[attr-defined]


def test_input_string_renders_like_mistral(provider: OpenStackProvider) -> None:
    d = provider.find("compute.delete_server")
    assert d is not None
    assert d.input_string.startswith("server, ignore_missing=false, force=false")
    schema = d.params_json_schema()
    assert schema["required"] == ["server"]
    assert schema["additionalProperties"] is False


def test_hidden_and_unknown_names(provider: OpenStackProvider) -> None:
    assert generator.find_method("compute.wait_for_server") is not None
    assert provider.find("compute.wait_for_server") is None  # hidden by the mapping
    assert provider.find("std.echo") is None
    assert provider.find("compute.no_such_method") is None
    assert provider.find("nonsense") is None


def test_enabled_services_limit_generation() -> None:
    p = OpenStackProvider(OpenStackSettings(enabled_services=("identity", "placement")))
    names = {d.name for d in p.find_all()}
    assert "identity.projects" in names and "placement.resource_providers" in names
    assert "keystone.projects_list" in names  # alias of an enabled service
    assert not any(n.startswith(("compute.", "nova.")) for n in names)
    assert p.find("compute.servers") is None
    # service types with dashes are accepted too
    q = OpenStackProvider(OpenStackSettings(enabled_services=("block-storage",)))
    assert q.find("block_storage.volumes") is not None
    assert q.find("identity.projects") is None


def test_unknown_parameter_is_an_input_error(provider: OpenStackProvider) -> None:
    from wfaas.exceptions import InputError

    d = provider.find("compute.reboot_server")
    assert d is not None
    with pytest.raises(InputError) as err:
        d.check_parameters({"server": "x", "typo": 1})
    assert "typo" in str(err.value) and "reboot_type" in str(err.value)


def test_descriptor_rows_are_plain_json(provider: OpenStackProvider) -> None:
    # populate compares stored rows with fresh ones: they must survive a JSON round trip
    import json

    for d in provider.find_all():
        row = d.to_dict()
        assert json.loads(json.dumps(row)) == row, d.name


def test_registry_builds_the_provider_from_config() -> None:
    from wfaas.actions.registry import default_providers, openstack_provider
    from wfaas.config import CONF

    CONF.set_override("enabled_services", ["placement"], group="openstack_actions")
    try:
        built = openstack_provider()
        assert isinstance(built, OpenStackProvider)
        assert built.find("placement.traits") is not None
        assert built.find("identity.projects") is None
        composite = default_providers()
        found = composite.find("placement.resource_providers")
        assert found is not None and found.source == "openstack"
        assert composite.find("std.echo") is not None
    finally:
        CONF.clear_override("enabled_services", group="openstack_actions")
