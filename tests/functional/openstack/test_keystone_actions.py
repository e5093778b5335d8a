"""Generated OpenStack actions against a real Keystone and Placement (tools/keystone/up.sh)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.functional.client.server import free_port
from wfaas.actions.base import ActionContext, Result, SecurityContext
from wfaas.actions.openstack.auth import OpenStackSettings
from wfaas.actions.openstack.provider import OpenStackProvider
from wfaas.actions.runner import run_action

from .conftest import Stack

pytestmark = pytest.mark.keystone


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _ok(provider: Any, name: str, input: dict[str, Any],
        context: ActionContext | None = None) -> Any:
    result = run_action(provider, name, input, context or ActionContext())
    assert result.is_success(), f"{name}: {result.error}"
    return result.data


def test_projects_lifecycle_with_configured_credentials(keystone: Stack) -> None:
    admin = keystone.provider("wfaas-admin")
    name = _unique("proj")
    created = _ok(admin, "identity.create_project",
                  {"name": name, "domain_id": "default", "description": "by wfaas",
                   "tags": ["wfaas"]})
    assert created["name"] == name and created["is_enabled"] is True
    listed = _ok(admin, "keystone.projects_list", {"name": name})
    assert [p["id"] for p in listed] == [created["id"]]
    updated = _ok(admin, "keystone.projects_update",
                  {"project": created["id"], "description": "changed", "enabled": False})
    assert updated["description"] == "changed" and updated["is_enabled"] is False
    fetched = _ok(admin, "identity.get_project", {"project": created["id"]})
    assert fetched["description"] == "changed" and fetched["tags"] == ["wfaas"]
    assert _ok(admin, "identity.delete_project", {"project": created["id"]}) is None
    assert _ok(admin, "identity.projects", {"name": name}) == []
    # delete_* does not ignore a missing object unless asked to
    again = run_action(admin, "identity.delete_project", {"project": created["id"]},
                       ActionContext())
    assert again.is_error() and "HTTP 404" in again.error and created["id"] in again.error
    assert _ok(admin, "identity.delete_project",
               {"project": created["id"], "ignore_missing": True}) is None


def test_users_lifecycle_through_mistral_aliases(keystone: Stack) -> None:
    admin = keystone.provider("wfaas-admin")
    name = _unique("user")
    user = _ok(admin, "keystone.users_create",
               {"name": name, "domain": "default", "password": "pw-1", "email": "a@b.c"})
    assert user["name"] == name and user["domain_id"] == "default"
    assert "password" not in user  # the echoed secret is not in the output
    names = {u["name"] for u in _ok(admin, "keystone.users_list", {"domain": "default"})}
    assert name in names
    updated = _ok(admin, "identity.update_user", {"user": user["id"], "email": "x@y.z"})
    assert updated["email"] == "x@y.z"
    assert _ok(admin, "keystone.users_delete", {"user": user["id"]}) is None
    assert _ok(admin, "identity.find_user", {"name_or_id": name}) is None


def test_resource_providers_in_placement(keystone: Stack) -> None:
    admin = keystone.provider("wfaas-admin")
    name = _unique("rp")
    rp = _ok(admin, "placement.create_resource_provider", {"name": name})
    assert rp["name"] == name and rp["generation"] == 0
    listed = _ok(admin, "placement.resource_providers", {"name": name})
    assert [r["id"] for r in listed] == [rp["id"]]
    renamed = _ok(admin, "placement.update_resource_provider",
                  {"resource_provider": rp["id"], "name": name + "-x"})
    assert renamed["name"] == name + "-x"
    assert _ok(admin, "placement.delete_resource_provider",
               {"resource_provider": rp["id"]}) is None
    assert _ok(admin, "placement.resource_providers", {"name": name + "-x"}) == []


def test_runs_as_the_caller_from_token_and_catalog(keystone: Stack) -> None:
    # no configured credentials at all: only the caller's token and catalog
    provider = OpenStackProvider(OpenStackSettings())
    context = keystone.caller_context("admin", "secret", "admin")
    projects = _ok(provider, "identity.projects", {}, context)
    assert {"admin", "demo", "service"} <= {p["name"] for p in projects}
    assert isinstance(_ok(provider, "placement.resource_providers", {}, context), list)
    # an invalid token is a 401 from the service, reported as such
    bad = ActionContext(security=SecurityContext(
        auth_token="not-a-token", service_catalog=context.security.service_catalog,
        auth_uri=context.security.auth_uri, region_name="RegionOne"))
    result = run_action(provider, "identity.projects", {}, bad)
    assert result.is_error() and "HTTP 401" in result.error


def test_members_403_is_a_clear_error(keystone: Stack) -> None:
    provider = OpenStackProvider(OpenStackSettings())
    member = keystone.caller_context("demo", "demo-secret", "demo")
    result = run_action(provider, "identity.create_project", {"name": _unique("nope")}, member)
    assert isinstance(result, Result) and result.is_error()
    assert result.error.startswith("identity.create_project failed: HTTP 403: ")
    assert "not authorized" in result.error
    placement = run_action(provider, "placement.resource_providers", {}, member)
    assert placement.error == ("placement.resource_providers failed: HTTP 403: Access was "
                               "denied to this resource. Policy does not allow "
                               "placement:resource_providers:list to be performed.")
    # what the member may do works
    mine = _ok(provider, "identity.get_project", {"project": member.security.project_id},
               member)
    assert mine["name"] == "demo"


def test_missing_service_in_the_real_catalog(keystone: Stack) -> None:
    admin = keystone.provider("wfaas-admin")
    result = run_action(admin, "nova.servers_list", {}, ActionContext())
    assert result.error == ("nova.servers_list failed: service compute is not in the catalog "
                            "of region RegionOne")
    other = run_action(admin, "identity.projects", {"action_region": "RegionTwo"},
                       ActionContext())
    assert other.error == ("identity.projects failed: service identity is not in the catalog "
                           "of region RegionTwo")


def test_action_through_a_trust(keystone: Stack) -> None:
    admin = keystone.provider("wfaas-admin")
    admin_ctx = keystone.caller_context("admin", "secret", "admin")
    trustee = _ok(admin, "identity.find_user", {"name_or_id": "workflow"})
    trust = _ok(admin, "identity.create_trust", {
        "trustor_user_id": admin_ctx.security.user_id, "trustee_user_id": trustee["id"],
        "project_id": admin_ctx.security.project_id, "roles": [{"name": "admin"}],
        "is_impersonation": True})
    try:
        # wfaas's own service user is the trustee; it only has the 'service' role itself
        as_workflow = keystone.provider("wfaas-workflow")
        context = ActionContext(security=SecurityContext(
            trust_id=trust["id"], project_id=admin_ctx.security.project_id,
            region_name="RegionOne"))
        name = _unique("trusted")
        created = _ok(as_workflow, "identity.create_project",
                      {"name": name, "domain_id": "default"}, context)
        assert created["name"] == name
        _ok(as_workflow, "identity.delete_project", {"project": created["id"]}, context)
        # without the trust, the service user may not do that
        denied = run_action(as_workflow, "identity.create_project", {"name": _unique("x")},
                            ActionContext())
        assert denied.is_error() and "HTTP 403" in denied.error
    finally:
        _ok(admin, "identity.delete_trust", {"trust": trust["id"]})


def test_session_reaches_only_keystone_and_its_catalog(keystone: Stack) -> None:
    """Keystone and Placement on loopback work by default; any other loopback port does not."""
    from wfaas.actions.egress import EgressDenied, EgressPolicy
    from wfaas.actions.openstack import auth

    auth.clear_session_cache()
    session = auth.make_session(None, OpenStackSettings(cloud="wfaas-admin",
                                                      region_name="RegionOne"))
    assert session.get("http://127.0.0.1:5000/v3", authenticated=True).status_code == 200
    placement = session.get_endpoint(service_type="placement", interface="public")
    assert session.get(placement, authenticated=True).status_code == 200
    for url in (f"http://127.0.0.1:{free_port()}/", "http://localhost:5000/v3",
                "http://[::ffff:127.0.0.1]:8778/", "http://169.254.169.254/latest/"):
        with pytest.raises(EgressDenied, match="refusing to connect to"):
            session.get(url, authenticated=False)
    only_443 = auth.make_session(None, OpenStackSettings(cloud="wfaas-admin"),
                                 EgressPolicy(allowed_ports=(443,)))
    assert only_443.get("http://127.0.0.1:5000/v3", authenticated=True).status_code == 200
    with pytest.raises(EgressDenied, match="port 8080: the port is not in"):
        only_443.get("http://8.8.8.8:8080/", authenticated=False)
    auth.clear_session_cache()


def test_create_inputs_are_writable_fields_and_required_ones_are_checked(
        keystone: Stack) -> None:
    admin = keystone.provider("wfaas-admin")
    missing = run_action(admin, "identity.create_project", {"description": "no name"},
                         ActionContext())
    assert missing.error.startswith(
        "Invalid input for action identity.create_project: missing [name]. "
        "Signature: name, description=null, ")
    name = _unique("rp")
    rp = _ok(admin, "placement.create_resource_provider", {"name": name})
    assert rp["generation"] == 0          # set by Placement, not an input any more
    refused = run_action(admin, "placement.create_resource_provider",
                         {"name": name + "-2", "generation": 5}, ActionContext())
    assert "unexpected [generation]" in refused.error
    assert _ok(admin, "placement.delete_resource_provider", {"resource_provider": rp["id"]}) \
        is None
