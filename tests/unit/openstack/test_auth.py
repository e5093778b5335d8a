"""Credentials of OpenStack actions: caller token, trust, configuration; never OS_* env."""

from __future__ import annotations

from pathlib import Path

import pytest
from keystoneauth1.identity import v3
from keystoneauth1.identity.access import AccessInfoPlugin
from oslo_config import cfg

from wfaas.actions.base import SecurityContext
from wfaas.actions.openstack import auth
from wfaas.actions.openstack.auth import CredentialsError, OpenStackSettings

CATALOG = [{"type": "compute", "name": "nova", "id": "c",
            "endpoints": [{"interface": "public", "region": "RegionOne",
                           "region_id": "RegionOne", "url": "http://127.0.0.1:1/v2.1",
                           "id": "e"}]}]


def test_settings_from_config() -> None:
    from wfaas import config

    conf = cfg.ConfigOpts()
    config.register_opts(conf)
    conf([], default_config_files=[])
    conf.set_override("enabled_services", ["identity"], group="openstack_actions")
    conf.set_override("cloud", "mine", group="openstack_actions")
    settings = OpenStackSettings.from_config(conf)
    assert settings.enabled_services == ("identity",)
    assert settings.cloud == "mine" and settings.interface == "public"
    assert settings.user_domain_name == "Default"
    assert ("openstack_actions", config.openstack_actions_opts) in [
        (g, o) for g, o in config.list_opts()]


def test_no_credentials_is_clear_and_ignores_os_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {"OS_AUTH_URL": "http://127.0.0.1:1/v3", "OS_USERNAME": "admin",
                       "OS_PASSWORD": "secret", "OS_PROJECT_NAME": "admin",
                       "OS_CLOUD": "devstack"}.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(CredentialsError, match="no credentials"):
        auth.make_session(SecurityContext(), OpenStackSettings())


def test_configured_password_credentials() -> None:
    settings = OpenStackSettings(auth_url="http://127.0.0.1:1/v3", username="wf",
                                 password="pw", project_name="service")
    session = auth.make_session(None, settings)
    assert isinstance(session.auth, v3.Password)
    assert session.auth.auth_url == "http://127.0.0.1:1/v3"
    assert session.auth.project_name == "service"


def test_cloud_from_clouds_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text("clouds:\n  lab:\n    auth: {auth_url: 'http://127.0.0.1:1/v3', "
                      "username: u, password: p, project_name: pr, user_domain_name: Default, "
                      "project_domain_name: Default}\n    region_name: RegionTwo\n")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    settings = OpenStackSettings(cloud="lab")
    session = auth.make_session(SecurityContext(), settings)
    assert isinstance(session.auth, v3.Password) and session.auth.project_name == "pr"
    assert auth.default_region(settings, None) == "RegionTwo"
    with pytest.raises(CredentialsError, match="'nope'"):
        auth.make_session(SecurityContext(), OpenStackSettings(cloud="nope"))


def test_caller_token_with_catalog_needs_no_keystone_call() -> None:
    security = SecurityContext(auth_token="tok", service_catalog=CATALOG, project_id="p",
                               user_id="u", auth_uri="http://127.0.0.1:1/v3")
    session = auth.make_session(security, OpenStackSettings())
    assert isinstance(session.auth, AccessInfoPlugin)
    # served from the catalog in the context: no HTTP request happens here
    assert session.get_token() == "tok"
    assert session.get_endpoint(service_type="compute", interface="public",
                                region_name="RegionOne") == "http://127.0.0.1:1/v2.1"
    assert session.get_project_id() == "p"


def test_catalog_shapes() -> None:
    import json

    for catalog in (CATALOG, json.dumps(CATALOG), {"catalog": CATALOG},
                    {"token": {"catalog": CATALOG, "expires_at": "2999-01-01T00:00:00Z"}}):
        body = auth._catalog_body(SecurityContext(service_catalog=catalog))
        assert body is not None and body["token"]["catalog"] == CATALOG
        assert body["token"]["expires_at"]
    assert auth._catalog_body(SecurityContext(service_catalog=None)) is None


def test_caller_token_without_catalog_rescopes() -> None:
    security = SecurityContext(auth_token="tok", project_id="p",
                               auth_uri="http://127.0.0.1:1/v3")
    session = auth.make_session(security, OpenStackSettings())
    assert isinstance(session.auth, v3.Token) and session.auth.project_id == "p"
    with pytest.raises(CredentialsError, match="auth_url"):
        auth.make_session(SecurityContext(auth_token="tok"), OpenStackSettings())


def test_trust_uses_the_service_user_without_project_scope() -> None:
    settings = OpenStackSettings(auth_url="http://127.0.0.1:1/v3", username="workflow",
                                 password="pw", project_name="service")
    security = SecurityContext(trust_id="t-1", auth_token="old", project_id="p")
    session = auth.make_session(security, settings)
    plugin = session.auth
    assert isinstance(plugin, v3.Password)
    assert plugin.trust_id == "t-1"
    assert plugin.project_name is None and plugin.project_id is None
    method = plugin.auth_methods[0]
    assert method.username == "workflow"


def test_keystonemiddleware_headers_with_a_v2_catalog() -> None:
    import json

    v2 = [{"type": "compute", "name": "nova", "endpoints": [
        {"region": "RegionOne", "publicURL": "http://127.0.0.1:1/v2.1",
         "internalURL": "http://127.0.0.1:2/v2.1"}]}]
    security = auth.security_from_headers(
        {"X-Auth-Token": "tok", "X-Service-Catalog": json.dumps(v2), "X-Project-Id": "p",
         "X-User-Id": "u", "X-User-Name": "alice"}, auth_uri="http://127.0.0.1:1/v3",
        region_name="RegionOne")
    assert security.auth_token == "tok" and security.project_id == "p"
    assert security.user_name == "alice" and security.trust_id is None
    session = auth.make_session(security, OpenStackSettings())
    assert isinstance(session.auth, AccessInfoPlugin)
    assert session.get_endpoint(service_type="compute", interface="internal",
                                region_name="RegionOne") == "http://127.0.0.1:2/v2.1"
    assert session.get_endpoint(service_type="compute", interface="public",
                                region_name="RegionOne") == "http://127.0.0.1:1/v2.1"


def test_configured_and_trust_sessions_are_reused() -> None:
    auth.clear_session_cache()
    settings = OpenStackSettings(auth_url="http://127.0.0.1:1/v3", username="wf", password="pw")
    first = auth.make_session(None, settings)
    assert auth.make_session(SecurityContext(), settings) is first
    other = OpenStackSettings(auth_url="http://127.0.0.1:1/v3", username="wf", password="pw2")
    assert auth.make_session(None, other) is not first
    t1 = auth.make_session(SecurityContext(trust_id="t1"), settings)
    assert auth.make_session(SecurityContext(trust_id="t1"), settings) is t1
    assert auth.make_session(SecurityContext(trust_id="t2"), settings) is not t1
    caller = SecurityContext(auth_token="tok", service_catalog=CATALOG)
    assert auth.make_session(caller, settings) is not auth.make_session(caller, settings)
    auth.clear_session_cache()
    assert auth.make_session(None, settings) is not first
