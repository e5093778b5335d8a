"""Trusts against a real Keystone (tools/keystone): a trigger's owner delegates to wfaas."""

from __future__ import annotations

import pytest

from tests.functional.openstack.conftest import AUTH_URL, Stack, keystone  # noqa: F401
from wfaas.triggers import trusts

pytestmark = [pytest.mark.keystone, pytest.mark.slow]

SETTINGS = trusts.TrustSettings(auth_url=AUTH_URL, username="workflow",
                                password="workflow-secret", project_name="service")


def _trust_scoped(trust_id: str):  # type: ignore[no-untyped-def]
    from keystoneauth1 import session
    from keystoneauth1.identity import v3

    sess = session.Session(auth=v3.Password(
        auth_url=AUTH_URL, username="workflow", password="workflow-secret",
        user_domain_name="Default", trust_id=trust_id))
    return sess.auth.get_access(sess)


def test_trust_lets_wfaas_act_as_the_owner(keystone: Stack) -> None:  # noqa: F811
    owner = keystone.password_session("demo", "demo-secret", "demo")
    ref = owner.auth.get_access(owner)
    trust_id = trusts.create_trust(token=owner.get_token(), user_id=ref.user_id,
                                   project_id=ref.project_id, settings=SETTINGS,
                                   auth_enabled=True)
    assert trust_id
    try:
        scoped = _trust_scoped(trust_id)
        assert scoped.project_id == ref.project_id
        assert scoped.user_id == ref.user_id  # impersonation: runs as the owner
        assert set(scoped.role_names) == set(ref.role_names)
    finally:
        trusts.delete_trust(trust_id, SETTINGS)
    from keystoneauth1 import exceptions

    with pytest.raises(exceptions.Unauthorized):
        _trust_scoped(trust_id)


def test_no_trust_without_auth() -> None:
    assert trusts.create_trust(token=None, user_id=None, project_id="p", settings=SETTINGS,
                               auth_enabled=False) is None
    assert trusts.security_context(None, "p") is None
    assert trusts.security_context("t1", "p") == {"trust_id": "t1", "project_id": "p",
                                                  "is_trust_scoped": True}
