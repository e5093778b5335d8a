"""Read-only and required inputs of the generated create_* / update_* actions
(fields.yaml), checked against openstacksdk's resource classes."""

from __future__ import annotations

import inspect

import pytest

from wfaas.actions.openstack import generator, resource_fields
from wfaas.actions.openstack.auth import OpenStackSettings
from wfaas.actions.openstack.provider import OpenStackProvider
from wfaas.exceptions import InputError

SERVER_SET = ("status", "power_state", "launched_at", "terminated_at", "task_state",
              "vm_state", "progress", "addresses", "fault", "host_id", "hypervisor_hostname",
              "created_at", "updated_at", "links", "id")


def _spec(name: str) -> generator.MethodSpec:
    spec = generator.find_method(name)
    assert spec is not None, name
    return spec


def _resource_classes() -> dict[str, type]:
    """``compute.Server`` -> class, for every resource a create_* method returns."""
    found: dict[str, type] = {}
    for prefix, info in generator.services().items():
        for name, func in generator.public_methods(info.proxy_class):
            if not name.startswith(("create_", "update_")):
                continue
            annotation = inspect.signature(func).return_annotation
            for cls in generator._resource_classes(annotation):
                found[resource_fields.resource_key(prefix, cls)] = cls
    return found


def test_every_attribute_named_in_fields_yaml_exists() -> None:
    from openstack import fields

    classes = _resource_classes()
    table = resource_fields.rules()
    for key, entry in table.resources.items():
        assert key in classes, f"fields.yaml: no create/update action returns {key}"
        attrs = {n for n, _ in classes[key]._attributes_iterator((fields.Body, fields.Header))}
        named = entry.read_only | set(entry.required) | entry.writable | entry.create_only
        assert not named - attrs, f"fields.yaml {key}: not attributes: {named - attrs}"
        assert not set(entry.required) & entry.read_only, key


def test_create_server_takes_no_server_set_field_and_requires_name_and_flavor() -> None:
    spec = _spec("compute.create_server")
    params = {p.name: p for p in spec.params}
    assert not set(SERVER_SET) & set(params)
    assert [p.name for p in spec.params if p.required] == ["name", "flavor_id"]
    assert {"image_id", "networks", "key_name", "user_data", "block_device_mapping",
            "security_groups", "metadata"} <= set(params)
    assert not params["image_id"].required and params["networks"].default is None


@pytest.mark.parametrize(("action", "required"), [
    ("block_storage.create_volume", ["size"]),
    ("network.create_port", ["network_id"]),
    ("network.create_subnet", ["ip_version", "network_id"]),
    ("identity.create_project", ["name"]),
    ("identity.create_endpoint", ["interface", "service_id", "url"]),
    ("placement.create_resource_provider", ["name"]),
    ("compute.create_flavor", ["disk", "name", "ram", "vcpus"]),
    ("orchestration.create_stack", ["name"]),
])
def test_create_actions_mark_required_inputs(action: str, required: list[str]) -> None:
    spec = _spec(action)
    assert sorted(p.name for p in spec.params if p.required) == required
    names = {p.name for p in spec.params}
    assert not {"status", "created_at", "updated_at", "revision_number", "tenant_id"} & names


def test_every_create_action_drops_the_server_set_fields() -> None:
    for spec in generator.all_methods():
        if spec.method.startswith("create_"):
            names = {p.name for p in spec.params}
            assert not {"status", "created_at", "updated_at", "links", "location",
                        "provisioning_status", "operating_status"} & names, spec.name


def test_ids_a_caller_may_choose_stay() -> None:
    assert "id" in {p.name for p in _spec("compute.create_flavor").params}
    assert "id" in {p.name for p in _spec("placement.create_resource_provider").params}
    assert "id" not in {p.name for p in _spec("network.create_network").params}


def test_update_takes_what_the_api_updates() -> None:
    names = [p.name for p in _spec("compute.update_server").params]
    assert names[0] == "server" and "name" in names and "description" in names
    assert not {"status", "flavor_id", "networks", "launched_at", "id"} & set(names)
    assert not [p.name for p in _spec("compute.update_server").params if p.required][1:]
    # a resource without rules keeps its fields (compute services can be disabled)
    assert "status" in {p.name for p in _spec("compute.update_service").params}


def test_action_input_and_schema_show_it() -> None:
    provider = OpenStackProvider(OpenStackSettings())
    descriptor = provider.find("compute.create_server")
    assert descriptor is not None
    assert descriptor.input_string.startswith("name, flavor_id, access_ipv4=null, ")
    assert "power_state" not in descriptor.input_string
    assert descriptor.params_json_schema()["required"] == ["name", "flavor_id"]
    with pytest.raises(InputError) as err:
        descriptor.check_parameters({"name": "vm", "flavor_id": "f", "status": "ACTIVE"})
    assert "status" in str(err.value)
    with pytest.raises(InputError) as err:
        descriptor.check_parameters({"name": "vm"})
    assert "flavor_id" in str(err.value)
    # the Mistral-style alias keeps its own required inputs
    alias = provider.find("nova.servers_create")
    assert alias is not None
    assert alias.input_string.startswith("name, image, flavor, ")
    assert "power_state" not in alias.input_string
