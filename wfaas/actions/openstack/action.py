"""The runnable OpenStack action: one openstacksdk proxy call, its result as JSON.

Results: a Resource becomes a dict (``to_dict(computed=False)``), a generator
or list becomes a list, ``None`` becomes null, bytes become text, a
``requests.Response`` becomes ``{"status_code", "headers", "body"}``.
Failures are ``Result(error=...)`` strings: a service missing from the catalog
(``service compute is not in the catalog of region RegionOne``), an HTTP error
with its status code and the service's message, a credentials problem.
"""

from __future__ import annotations

import base64
import datetime
import enum
import inspect
import re
from collections.abc import Mapping
from typing import Any

from wfaas.actions.base import Action, ActionContext, Result
from wfaas.actions.egress import EgressPolicy
from wfaas.actions.openstack import auth
from wfaas.actions.openstack.generator import MethodSpec
from wfaas.exceptions import ActionError


def to_json(value: Any) -> Any:
    """A JSON-serialisable copy of whatever an openstacksdk call returned."""
    from openstack import resource

    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, resource.Resource):
        return to_json(value.to_dict(computed=False))
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset) or inspect.isgenerator(value):
        return [to_json(v) for v in value]
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return to_json(value.value)
    if hasattr(value, "status_code") and hasattr(value, "headers"):  # requests.Response
        return _response_json(value)
    if hasattr(value, "__iter__") and not isinstance(value, str):
        return [to_json(v) for v in value]
    return str(value)


def _response_json(response: Any) -> dict[str, Any]:
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    return {"status_code": response.status_code, "headers": dict(response.headers),
            "body": to_json(body)}


#: Request values an action result must not echo back (keystone never returns them).
_SECRET_KEYS = ("password", "admin_password", "secret")
_PREFIX_RE = re.compile(r"^\w+(Exception|Error): \d{3}(: |$)")


_REASONS = frozenset({"Bad Request", "Unauthorized", "Forbidden", "Not Found", "Conflict",
                      "Internal Server Error", "Service Unavailable"})


def _body_detail(response: Any) -> str:
    """The human message of an OpenStack error body, whatever service wrote it."""
    try:
        body = response.json()
    except Exception:  # noqa: BLE001 - no response, not JSON, ...
        return ""
    if isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"]:
        first = body["errors"][0]  # placement, and the API-SIG error format
        if isinstance(first, dict):
            body = first
    if isinstance(body, dict) and len(body) == 1:
        only = next(iter(body.values()))  # {"forbidden": {"message": ...}} (nova, cinder)
        if isinstance(only, dict):
            body = only
    if isinstance(body, dict):
        for key in ("detail", "message", "description", "faultstring", "title"):
            if isinstance(body.get(key), str) and body[key].strip():
                return " ".join(body[key].split())
    return ""


def http_error_message(name: str, exc: Any) -> str:
    """``<action> failed: HTTP 403: <the service's message>`` from an HTTP error."""
    status = getattr(exc, "status_code", None) or getattr(exc, "http_status", None)
    message = str(getattr(exc, "message", None) or exc)
    message = _PREFIX_RE.sub("", message).strip()  # "NotFoundException: 404" repeats the status
    if message == "Error":
        message = ""
    details = str(getattr(exc, "details", None) or "").strip()
    if not details or details == message or details in _REASONS:
        details = _body_detail(getattr(exc, "response", None)) or details
    if message in _REASONS and details:
        message = ""
    if details and details not in message:
        message = f"{message}: {details}" if message else details
    message = message or type(exc).__name__
    return f"{name} failed: HTTP {status}: {message}" if status else f"{name} failed: {message}"


class ServiceNotInCatalog(ActionError):
    """The catalog of the chosen region has no endpoint for the action's service."""


class OpenStackAction(Action):
    """Calls ``conn.<service>.<method>(**kwargs)`` with a session acting for the caller."""

    def __init__(self, spec: MethodSpec, kwargs: dict[str, Any],
                 settings: auth.OpenStackSettings, *, region: str | None = None,
                 interface: str | None = None, action_name: str | None = None) -> None:
        self.spec = spec
        self.kwargs = kwargs
        self.settings = settings
        self.region = region
        self.interface = interface
        self.action_name = action_name or spec.name

    def run(self, context: ActionContext) -> Result:
        """Authenticate, check the catalog, call the proxy method, convert its result."""
        from keystoneauth1 import exceptions as ks_exc
        from openstack import exceptions as sdk_exc

        name = self.action_name
        try:
            conn = self.connect(context)
            method = getattr(getattr(conn, self.spec.service), self.spec.method)
            value = method(**self.kwargs)
            return Result(data=self._without_echoed_secrets(to_json(value)))
        except (auth.CredentialsError, ServiceNotInCatalog) as exc:
            return Result(error=f"{name} failed: {exc}")
        except (sdk_exc.HttpException, ks_exc.HttpError) as exc:
            return Result(error=http_error_message(name, exc))
        except sdk_exc.ServiceDisabledException:
            return Result(error=f"{name} failed: {self._missing_message()}")
        except ks_exc.ClientException as exc:
            return Result(error=f"{name} failed: {type(exc).__name__}: {exc}")
        except sdk_exc.SDKException as exc:
            return Result(error=f"{name} failed: {exc}")
        except (TypeError, ValueError) as exc:
            return Result(error=f"{name} failed: {type(exc).__name__}: {exc}")

    def _without_echoed_secrets(self, data: Any) -> Any:
        """Drop secrets openstacksdk copies from the request into the returned resource."""
        if isinstance(data, dict):
            for key in _SECRET_KEYS:
                if key in self.kwargs and key in data and data[key] == self.kwargs[key]:
                    del data[key]
        return data

    def _missing_message(self) -> str:
        where = f"region {self.region}" if self.region else "any region"
        return f"service {self.spec.service_type} is not in the catalog of {where}"

    def configure(self, conf: Any) -> None:
        """Take the ``[egress]`` policy from the executor's configuration."""
        self.policy = EgressPolicy.from_conf(conf)

    def connect(self, context: ActionContext) -> Any:
        """An openstacksdk Connection for this call, after checking the service's endpoint."""
        from keystoneauth1 import exceptions as ks_exc
        from openstack import connection

        security = context.security if context is not None else None
        if self.region is None:
            self.region = auth.default_region(self.settings, security)
        interface = self.interface or self.settings.interface or "public"
        session = auth.make_session(security, self.settings, getattr(self, "policy", None))
        try:
            endpoint = session.get_endpoint(service_type=self.spec.service_type,
                                            interface=interface, region_name=self.region)
        except ks_exc.EndpointNotFound:
            endpoint = None
        if not endpoint:
            raise ServiceNotInCatalog(self._missing_message())
        return connection.Connection(session=session, region_name=self.region,
                                     interface=interface, strict_proxies=False)
