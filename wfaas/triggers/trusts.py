"""Keystone trusts: a trigger created with auth enabled runs later as its owner.

At creation the caller (trustor, authenticated by its token) delegates its
roles on its project to the wfaas service user (trustee: ``[openstack_actions]``
``username``/``password``/``auth_url`` or ``cloud``) with impersonation. The
trust id is stored on the trigger and passed to the started execution's
security context (``trust_id``), from which OpenStack actions authenticate as
the service user scoped by the trust (:mod:`wfaas.actions.openstack.auth`).
Deleting the trigger deletes its trust.

Without auth (``[pecan] auth_enable = False``) no trust is made and
:func:`create_trust` returns None.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from wfaas.exceptions import ClientError, Unauthorized

LOG = logging.getLogger(__name__)
TRUSTS_PATH = "/OS-TRUST/trusts"
IDENTITY = {"service_type": "identity", "interface": "public"}


@dataclass(frozen=True)
class TrustSettings:
    """Where Keystone is and who the trustee (the wfaas service user) is."""

    auth_url: str = ""
    username: str = ""
    password: str = ""
    project_name: str = ""
    user_domain_name: str = "Default"
    project_domain_name: str = "Default"
    cloud: str = ""

    @classmethod
    def from_conf(cls, conf: Any) -> TrustSettings:
        """From ``[openstack_actions]`` (the same service user as OpenStack actions)."""
        g = conf.openstack_actions
        return cls(auth_url=g.auth_url, username=g.username, password=g.password,
                   project_name=g.project_name, user_domain_name=g.user_domain_name,
                   project_domain_name=g.project_domain_name, cloud=g.cloud)


def _trustee_session(settings: TrustSettings, trust_id: str | None = None) -> Any:
    from keystoneauth1 import session as ks_session
    from keystoneauth1.identity import v3

    if settings.cloud and not trust_id:
        import openstack.config

        region = openstack.config.OpenStackConfig().get_one(cloud=settings.cloud)
        return region.get_session()
    if not (settings.auth_url and settings.username):
        raise ClientError("Auth is enabled but no trustee is configured: set "
                          "[openstack_actions] auth_url/username/password or cloud")
    scope: dict[str, Any] = ({"trust_id": trust_id} if trust_id else
                             {"project_name": settings.project_name or None,
                              "project_domain_name": settings.project_domain_name})
    auth = v3.Password(auth_url=settings.auth_url, username=settings.username,
                       password=settings.password, user_domain_name=settings.user_domain_name,
                       **scope)
    return ks_session.Session(auth=auth, app_name="wfaas")


def _caller_session(token: str, project_id: str, auth_url: str) -> Any:
    from keystoneauth1 import session as ks_session
    from keystoneauth1.identity import v3

    return ks_session.Session(auth=v3.Token(auth_url=auth_url, token=token,
                                            project_id=project_id), app_name="wfaas")


def create_trust(*, token: str | None, user_id: str | None, project_id: str,
                 settings: TrustSettings, auth_enabled: bool) -> str | None:
    """A trust from the caller to the trustee for ``project_id`` (None without auth)."""
    if not auth_enabled:
        return None
    if not token or not user_id:
        raise Unauthorized("A trigger needs the caller's token to create its Keystone trust")
    trustee = _trustee_session(settings)
    auth_url = settings.auth_url or trustee.auth.auth_url
    caller = _caller_session(token, project_id, auth_url)
    roles = caller.auth.get_access(caller).role_names
    body = {"trust": {"trustor_user_id": user_id, "trustee_user_id": trustee.get_user_id(),
                      "project_id": project_id, "impersonation": True,
                      "roles": [{"name": r} for r in roles]}}
    resp = caller.post(TRUSTS_PATH, json=body, endpoint_filter=IDENTITY)
    trust_id: str = resp.json()["trust"]["id"]
    LOG.info("Created trust %s for user %s on project %s", trust_id, user_id, project_id)
    return trust_id


def delete_trust(trust_id: str | None, settings: TrustSettings) -> None:
    """Delete a trigger's trust through a trust-scoped session of the trustee
    (impersonating the trustor); errors are logged, not raised."""
    if not trust_id:
        return
    try:
        session = _trustee_session(settings, trust_id)
        session.delete(f"{TRUSTS_PATH}/{trust_id}", endpoint_filter=IDENTITY)
    except Exception as exc:  # noqa: BLE001 - a leftover trust must not fail a delete
        LOG.warning("Could not delete trust %s: %s", trust_id, exc)


def security_context(trust_id: str | None, project_id: str | None) -> dict[str, Any] | None:
    """The security context of an execution started by a trigger with a trust."""
    if not trust_id:
        return None
    return {"trust_id": trust_id, "project_id": project_id, "is_trust_scoped": True}
