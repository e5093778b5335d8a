"""Keystone authentication for the wfaas client (keystoneauth1).

:class:`AuthOptions` holds what the command line and the standard ``OS_*``
variables give; :func:`authenticate` turns it into a token and, when no URL
was given, the ``workflowv2`` endpoint of the service catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wfaas.client.errors import AuthError, ConnectionFailed
from wfaas.client.http import short_reason

SERVICE_TYPE = "workflowv2"


@dataclass
class AuthOptions:
    """Keystone credentials; empty fields are not sent."""

    auth_url: str = ""
    username: str = ""
    user_id: str = ""
    password: str = ""
    project_name: str = ""
    project_id: str = ""
    user_domain_name: str = ""
    user_domain_id: str = ""
    project_domain_name: str = ""
    project_domain_id: str = ""
    token: str = ""
    region_name: str = ""
    interface: str = "public"
    cacert: str = ""
    insecure: bool = False

    @property
    def enabled(self) -> bool:
        """True when a Keystone call is needed (an auth URL is set)."""
        return bool(self.auth_url)


def _plugin(opts: AuthOptions) -> Any:
    from keystoneauth1 import identity

    scope: dict[str, Any] = {}
    for key in ("project_name", "project_id", "project_domain_name", "project_domain_id"):
        value = getattr(opts, key)
        if value:
            scope[key] = value
    if opts.token:
        return identity.Token(auth_url=opts.auth_url, token=opts.token, **scope)
    user: dict[str, Any] = {}
    for key in ("username", "user_id", "user_domain_name", "user_domain_id"):
        value = getattr(opts, key)
        if value:
            user[key] = value
    return identity.Password(auth_url=opts.auth_url, password=opts.password, **user, **scope)


def authenticate(opts: AuthOptions, *, want_endpoint: bool) -> tuple[str, str | None]:
    """``(token, endpoint)`` from Keystone; ``endpoint`` is None unless wanted and found.

    Raises :class:`AuthError` when Keystone refuses the credentials and
    :class:`ConnectionFailed` when it cannot be reached.
    """
    from keystoneauth1 import exceptions as ks_exc
    from keystoneauth1 import session as ks_session

    verify: bool | str = opts.cacert or not opts.insecure
    session = ks_session.Session(auth=_plugin(opts), verify=verify)
    try:
        token = session.get_token()
        endpoint = None
        if want_endpoint:
            try:
                endpoint = session.get_endpoint(service_type=SERVICE_TYPE,
                                                interface=opts.interface,
                                                region_name=opts.region_name or None)
            except ks_exc.EndpointNotFound:
                endpoint = None
    except ks_exc.ConnectFailure as exc:
        raise ConnectionFailed(opts.auth_url, f"Keystone unreachable ({short_reason(exc)})") \
            from None
    except ks_exc.Unauthorized as exc:
        raise AuthError(401, f"Keystone refused the credentials: {exc}") from None
    except ks_exc.ClientException as exc:
        raise AuthError(getattr(exc, "http_status", None) or 401,
                        f"Keystone authentication failed: {exc}") from None
    if not token:
        raise AuthError(401, "Keystone returned no token")
    return str(token), str(endpoint).rstrip("/") if endpoint else None
