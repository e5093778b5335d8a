"""keystoneauth1 sessions for OpenStack actions: as the caller, through a trust, or from config.

Which credentials an action uses, in order:

1. ``trust_id`` in the security context: the configured service user (the
   trustee; ``[openstack_actions] cloud`` or ``username``/``password``)
   authenticates with that trust and acts as the trustor. For work that
   outlives the caller's token.
2. ``auth_token`` in the security context: the caller's own token. With the
   service catalog (a token body, or the X-Service-Catalog list) the session is
   built without any Keystone call (``AccessInfoPlugin``); without it, the token
   is re-scoped once (``v3.Token``).
3. Otherwise (the API runs without auth): the configured credentials, from a
   clouds.yaml cloud or explicit options.

The server process's ``OS_*`` environment variables are never used as
credentials (only ``OS_CLIENT_CONFIG_FILE`` to locate clouds.yaml).

Every session connects through the ``[egress]`` policy
(:mod:`wfaas.actions.egress`): the host:port of Keystone's URL and of each
endpoint of the service catalog Keystone returned are reachable (the operator's
and Keystone's choice); any other address (a redirect elsewhere, a URL outside the catalog) is
checked against the policy, and the socket always goes to the resolved address.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from keystoneauth1 import session as ks_session

from wfaas.actions.base import SecurityContext
from wfaas.actions.egress import EgressPolicy, canonical_host
from wfaas.exceptions import ActionError

#: Keys of a clouds.yaml ``auth`` section that scope a token to a project.
_SCOPE_KEYS = ("project_id", "project_name", "project_domain_id", "project_domain_name",
               "domain_id", "domain_name", "system_scope", "tenant_id", "tenant_name")


class CredentialsError(ActionError):
    """OpenStack actions have no usable credentials for this call."""


@dataclass(frozen=True)
class OpenStackSettings:
    """The ``[openstack_actions]`` options as plain values (the pure layers read no cfg)."""

    enabled_services: tuple[str, ...] = ()
    region_name: str = ""
    interface: str = "public"
    cloud: str = ""
    auth_url: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    project_name: str = ""
    user_domain_name: str = "Default"
    project_domain_name: str = "Default"
    mapping_file: str = ""

    @classmethod
    def from_config(cls, conf: Any = None) -> OpenStackSettings:
        """Read ``[openstack_actions]`` from an oslo.config object (default:
        ``wfaas.config.CONF``, the process's one configuration object)."""
        if conf is None:
            from wfaas.config import CONF as conf
        group = conf.openstack_actions
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = getattr(group, f.name)
            values[f.name] = tuple(value or ()) if f.name == "enabled_services" else (value or "")
        values["interface"] = values["interface"] or "public"
        return cls(**values)


def _cloud_auth(settings: OpenStackSettings) -> tuple[dict[str, Any], dict[str, Any]]:
    """(auth dict, cloud options) of the configured clouds.yaml cloud, no env vars."""
    from openstack.config import loader

    files = list(loader.CONFIG_FILES)
    override = os.environ.get("OS_CLIENT_CONFIG_FILE")
    if override:
        files.insert(0, override)
    try:
        region = loader.OpenStackConfig(config_files=files, load_envvars=False).get_one(
            cloud=settings.cloud)
    except Exception as exc:  # noqa: BLE001 - openstacksdk raises several config errors
        raise CredentialsError(
            f"clouds.yaml cloud {settings.cloud!r} ([openstack_actions] cloud) can not be "
            f"loaded: {exc}") from exc
    config = dict(region.config)
    return dict(config.get("auth") or {}), config


def _configured_auth(settings: OpenStackSettings) -> dict[str, Any]:
    """The service credentials as a v3 password auth dict."""
    if settings.cloud:
        return _cloud_auth(settings)[0]
    if not (settings.auth_url and settings.username):
        raise CredentialsError(
            "OpenStack actions have no credentials: the request carries no token and "
            "[openstack_actions] sets neither 'cloud' nor 'auth_url' + 'username'")
    return {"auth_url": settings.auth_url, "username": settings.username,
            "password": settings.password, "project_name": settings.project_name or None,
            "user_domain_name": settings.user_domain_name,
            "project_domain_name": settings.project_domain_name}


def _password_plugin(auth: Mapping[str, Any]) -> Any:
    from keystoneauth1.identity import v3

    allowed = ("auth_url", "username", "user_id", "password", "user_domain_name",
               "user_domain_id", "trust_id", *_SCOPE_KEYS)
    kwargs = {k: v for k, v in auth.items() if k in allowed and v not in (None, "")}
    if "system_scope" in kwargs:
        kwargs["system_scope"] = str(kwargs["system_scope"])
    return v3.Password(**kwargs)


_V2_INTERFACES = (("publicURL", "public"), ("internalURL", "internal"), ("adminURL", "admin"))


def v3_catalog(catalog: list[Any]) -> list[Any]:
    """A catalog in v3 form; keystonemiddleware's X-Service-Catalog is in v2 form (xxxURL)."""
    out = []
    for service in catalog:
        if not isinstance(service, Mapping):
            continue
        endpoints = []
        for ep in service.get("endpoints") or ():
            if not isinstance(ep, Mapping):
                continue
            if "url" in ep:
                endpoints.append(dict(ep))
                continue
            region = ep.get("region") or ep.get("region_id")
            for key, interface in _V2_INTERFACES:
                if ep.get(key):
                    endpoints.append({"interface": interface, "url": ep[key], "region": region,
                                      "region_id": region, "id": ep.get("id")})
        out.append({**service, "endpoints": endpoints})
    return out


def security_from_headers(headers: Mapping[str, str], *, auth_uri: str | None = None,
                          region_name: str | None = None) -> SecurityContext:
    """The security context of a request that passed keystonemiddleware's auth_token.

    Uses X-Auth-Token, X-Service-Catalog, X-Project-Id/-Name, X-User-Id/-Name
    and X-Trust-Id (header names are matched case-insensitively).
    """
    h = {k.lower(): v for k, v in headers.items()}
    catalog: Any = h.get("x-service-catalog")
    if catalog:
        try:
            catalog = json.loads(catalog)
        except ValueError:
            catalog = None
    return SecurityContext(
        auth_token=h.get("x-auth-token"), service_catalog=catalog, auth_uri=auth_uri,
        project_id=h.get("x-project-id"), project_name=h.get("x-project-name"),
        user_id=h.get("x-user-id"), user_name=h.get("x-user-name"),
        trust_id=h.get("x-trust-id"), is_trust_scoped=bool(h.get("x-trust-id")),
        region_name=region_name)


def _catalog_body(security: SecurityContext) -> dict[str, Any] | None:
    """A v3 token body from the context's service catalog (None when there is none)."""
    catalog: Any = security.service_catalog
    if isinstance(catalog, str) and catalog.strip():
        try:
            catalog = json.loads(catalog)
        except ValueError:
            return None
    if isinstance(catalog, Mapping) and isinstance(catalog.get("token"), Mapping):
        body = {"token": dict(catalog["token"])}
    elif isinstance(catalog, Mapping) and isinstance(catalog.get("catalog"), list):
        body = {"token": {"catalog": catalog["catalog"]}}
    elif isinstance(catalog, list):
        body = {"token": {"catalog": catalog}}
    else:
        return None
    token = body["token"]
    token["catalog"] = v3_catalog(list(token.get("catalog") or ()))
    if not token.get("expires_at"):
        later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
        token["expires_at"] = security.expires_at or later.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    token.setdefault("methods", ["token"])
    if security.project_id and "project" not in token:
        token["project"] = {"id": security.project_id, "name": security.project_name,
                            "domain": {"id": "default"}}
    if security.user_id and "user" not in token:
        token["user"] = {"id": security.user_id, "name": security.user_name,
                         "domain": {"id": "default"}}
    return body


def _caller_plugin(security: SecurityContext, settings: OpenStackSettings) -> Any:
    from keystoneauth1 import access
    from keystoneauth1.identity import v3
    from keystoneauth1.identity.access import AccessInfoPlugin

    auth_url = security.auth_uri or settings.auth_url or None
    body = _catalog_body(security)
    if body is not None:
        ref = access.create(body=body, auth_token=security.auth_token)
        return AccessInfoPlugin(auth_ref=ref, auth_url=auth_url)
    if not auth_url:
        raise CredentialsError("the caller's token has no service catalog and no auth_uri "
                               "to re-scope it: set [openstack_actions] auth_url")
    return v3.Token(auth_url=auth_url, token=security.auth_token or "",
                    project_id=security.project_id or None)


#: Sessions of the configured user and of trusts, reused so their tokens are too.
_SESSIONS: collections.OrderedDict[tuple[Any, ...], Any] = collections.OrderedDict()
_SESSIONS_LOCK = threading.Lock()
_SESSIONS_MAX = 64


def _catalog_hosts(plugin: Any) -> set[tuple[str, int]]:
    """(host, port) of Keystone's URL and of every endpoint in the plugin's catalog."""
    urls = [getattr(plugin, "auth_url", None)]
    ref = getattr(plugin, "auth_ref", None)  # set once authenticated; never triggers auth
    catalog = getattr(getattr(ref, "service_catalog", None), "catalog", None) or []
    for service in catalog:
        for ep in service.get("endpoints") or () if isinstance(service, Mapping) else ():
            if isinstance(ep, Mapping):
                urls += [ep.get("url"), *(ep.get(k) for k, _ in _V2_INTERFACES)]
    found = set()
    for url in urls:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is not None and parts.hostname:
            try:
                port = parts.port or (443 if parts.scheme == "https" else 80)
            except ValueError:
                continue
            found.add((canonical_host(parts.hostname), port))
    return found


def _new_session(plugin: Any, security: SecurityContext, policy: EgressPolicy) -> Any:
    verify: bool | str = not security.insecure
    if verify and security.auth_cacert:
        verify = security.auth_cacert
    trusted = dataclasses.replace(
        policy, trusted=lambda host, port: (host, port) in _catalog_hosts(plugin))
    return ks_session.Session(auth=plugin, verify=verify, app_name="wfaas",
                              session=trusted.http_session())


def _reused(key: tuple[Any, ...], build: Any) -> Any:
    """The cached session for ``key`` (keystoneauth re-authenticates when the token expires)."""
    with _SESSIONS_LOCK:
        found = _SESSIONS.get(key)
        if found is not None:
            _SESSIONS.move_to_end(key)
            return found
    made = build()
    with _SESSIONS_LOCK:
        _SESSIONS[key] = made
        while len(_SESSIONS) > _SESSIONS_MAX:
            _SESSIONS.popitem(last=False)
    return made


def clear_session_cache() -> None:
    """Forget every reused session (tests, credential changes)."""
    with _SESSIONS_LOCK:
        _SESSIONS.clear()


def make_session(security: SecurityContext | None, settings: OpenStackSettings,
                 policy: EgressPolicy | None = None) -> Any:
    """A keystoneauth1 Session acting for the caller (or the configured user).

    ``policy`` defaults to the ``[egress]`` policy of the global configuration.
    """
    sec = security or SecurityContext()
    policy = policy if policy is not None else EgressPolicy.from_conf()
    tls = (sec.insecure, sec.auth_cacert, policy)
    if sec.trust_id:
        def trust() -> Any:
            auth = {k: v for k, v in _configured_auth(settings).items() if k not in _SCOPE_KEYS}
            auth["trust_id"] = sec.trust_id
            if sec.auth_uri and not auth.get("auth_url"):
                auth["auth_url"] = sec.auth_uri
            return _new_session(_password_plugin(auth), sec, policy)
        return _reused(("trust", settings, sec.trust_id, sec.auth_uri, tls), trust)
    if sec.auth_token:
        return _new_session(_caller_plugin(sec, settings), sec, policy)
    return _reused(("configured", settings, tls),
                   lambda: _new_session(_password_plugin(_configured_auth(settings)), sec,
                                        policy))


def default_region(settings: OpenStackSettings, security: SecurityContext | None) -> str | None:
    """The region a call uses when it does not name one."""
    if settings.region_name:
        return settings.region_name
    if security is not None and security.region_name:
        return security.region_name
    if settings.cloud:
        try:
            return _cloud_auth(settings)[1].get("region_name") or None
        except CredentialsError:
            return None
    return None
