"""Who is calling: the request context every API service call receives, and the scoping rule.

:class:`RequestContext` is built once per request from the identity headers
keystonemiddleware sets (``[pecan] auth_enable``); without authentication every
caller is the admin of ``<default-project>``. :func:`project_filter` is the one
place that decides which project's rows a caller sees (``wfaas.db.scoping``
turns that project into SQL), :func:`may_change` who may change a visible row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from oslo_config import cfg

DEFAULT_PROJECT = "<default-project>"


@dataclass(frozen=True)
class RequestContext:
    """The caller of one API request: project, user, roles and credentials."""

    project_id: str = DEFAULT_PROJECT
    user_id: str | None = None
    roles: tuple[str, ...] = ()
    is_admin: bool = True
    auth_enabled: bool = False
    #: an admin's ``?all_projects=true``: every project's rows
    all_projects: bool = False
    auth_token: str | None = None
    #: the security context (token, catalog, project, user, trust) the caller's
    #: workflows and actions run with; None without authentication
    security: Mapping[str, Any] | None = None

    def with_all_projects(self, all_projects: bool) -> RequestContext:
        """This context asking (or not) for every project's rows."""
        return RequestContext(self.project_id, self.user_id, self.roles, self.is_admin,
                              self.auth_enabled, all_projects, self.auth_token, self.security)


def project_filter(ctx: RequestContext) -> str | None:
    """The project whose rows ``ctx`` sees (see ``wfaas.db.scoping.visible``); None when
    it sees every row: authentication off, or an admin asking ``all_projects=true``."""
    if not ctx.auth_enabled or (ctx.is_admin and ctx.all_projects):
        return None
    return ctx.project_id


def may_change(ctx: RequestContext, row: Any) -> bool:
    """Whether ``ctx`` may change or delete a row it can see: its own project's, or any
    as admin (public and shared rows of other projects are read-only)."""
    return not ctx.auth_enabled or ctx.is_admin or row.project_id == ctx.project_id


def context_from_headers(headers: Mapping[str, str], *, auth_enabled: bool,
                         all_projects: bool = False,
                         conf: cfg.ConfigOpts | None = None) -> RequestContext:
    """The caller from keystonemiddleware's headers (the default caller without auth)."""
    if not auth_enabled:
        return RequestContext()
    roles = tuple(r.strip().lower() for r in (headers.get("X-Roles") or "").split(",")
                  if r.strip())
    project = headers.get("X-Project-Id") or headers.get("X-Tenant-Id") or ""
    return RequestContext(project_id=project, user_id=headers.get("X-User-Id"), roles=roles,
                          is_admin="admin" in roles, auth_enabled=True,
                          all_projects=all_projects, auth_token=headers.get("X-Auth-Token"),
                          security=_security(headers, project, conf))


def _option(conf: cfg.ConfigOpts | None, group: str, name: str) -> Any:
    try:
        return getattr(getattr(conf, group), name) or None
    except (AttributeError, cfg.NoSuchOptError):  # options not registered
        return None


def _security(headers: Mapping[str, str], project: str, conf: cfg.ConfigOpts | None
              ) -> dict[str, Any]:
    from wfaas.actions.openstack.auth import security_from_headers

    security = security_from_headers(
        headers, auth_uri=_option(conf, "keystone_authtoken", "www_authenticate_uri"),
        region_name=_option(conf, "openstack_actions", "region_name")).to_dict()
    security["project_id"] = project
    return {k: v for k, v in security.items() if v is not None}
