"""Enumerate openstacksdk's typed service proxies into action specifications.

Every public method of a service's newest Proxy CLASS (never a live
connection: a proxy for a service missing from the catalog is a shim that
raises on every attribute) becomes one action named
``<service>.<method>``, where ``<service>`` is the service type with dashes
turned into underscores (``compute.create_server``, ``block_storage.volumes``,
``placement.resource_providers``).

Parameters come from the method signature. ``**attrs`` and ``**query`` are
expanded into explicit optional parameters from the Resource class the method
returns (its body/header attributes for ``create_*``/``update_*``, its query
mapping for list methods). Attributes only the server sets (``status``,
``power_state``, ``launched_at``...) are left out and the inputs a create
requires have no default, as ``fields.yaml`` says (:mod:`.resource_fields`).
The description is the docstring's first paragraph.

Enumeration is cached per service for the life of the process; one service
costs a few milliseconds once its proxy module is imported.
"""

from __future__ import annotations

import collections.abc
import functools
import inspect
import json
import re
import types
import typing
from dataclasses import dataclass
from typing import Any

from wfaas.actions.base import ParamSpec
from wfaas.actions.openstack import resource_fields

#: Parameters every generated action accepts besides its own.
EXTRA_PARAMS = ("action_region", "action_interface")

_VERSION_RE = re.compile(r"\d+")


@dataclass(frozen=True)
class MethodSpec:
    """Everything needed to describe and call one proxy method as an action."""

    name: str  # action name: <service>.<method>
    service: str  # <service> prefix (service type with underscores)
    service_type: str  # the catalog service type, e.g. "block-storage"
    method: str
    params: tuple[ParamSpec, ...]
    description: str
    returns: str  # "generator", "resource", "none", "response", "bytes", "other"
    #: the parameters that are forced for the call unless the caller gives them
    call_defaults: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class ServiceInfo:
    """One service with a typed proxy: its action prefix, catalog type and proxy class."""

    prefix: str
    service_type: str
    version: str
    proxy_class: type


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in _VERSION_RE.findall(version))


@functools.lru_cache(maxsize=1)
def services() -> dict[str, ServiceInfo]:
    """Every service that has a typed proxy, keyed by action prefix (newest version)."""
    from openstack import _services_mixin, service_description

    found: dict[str, ServiceInfo] = {}
    for value in vars(_services_mixin.ServicesMixin).values():
        if not isinstance(value, service_description.ServiceDescription):
            continue
        versions = dict(value.supported_versions or {})
        if not versions:
            continue
        prefix = value.service_type.replace("-", "_")
        if prefix in found:
            continue
        newest = max(versions, key=_version_key)
        found[prefix] = ServiceInfo(prefix, value.service_type, newest, versions[newest])
    return dict(sorted(found.items()))


@functools.lru_cache(maxsize=1)
def _base_names() -> frozenset[str]:
    from openstack import proxy

    return frozenset(dir(proxy.Proxy))


def public_methods(proxy_class: type) -> list[tuple[str, Any]]:
    """The proxy's own public functions (not the ones of ``openstack.proxy.Proxy``)."""
    base = _base_names()
    out = []
    for name in sorted(dir(proxy_class)):
        if name.startswith("_") or name in base:
            continue
        func = inspect.getattr_static(proxy_class, name)
        if isinstance(func, staticmethod | classmethod):
            func = func.__func__
        if inspect.isfunction(func):
            out.append((name, func))
    return out


def first_paragraph(doc: str | None) -> str:
    """The docstring's first paragraph on one line."""
    text = inspect.cleandoc(doc or "").strip()
    para = text.split("\n\n", 1)[0]
    return " ".join(line.strip() for line in para.splitlines()).strip()


def _resource_classes(annotation: Any) -> list[type]:
    """Resource classes mentioned by a return annotation (Generator[R], R | None, R)."""
    from openstack import resource

    if annotation is inspect.Signature.empty or annotation is None:
        return []
    if isinstance(annotation, type):
        return [annotation] if issubclass(annotation, resource.Resource) else []
    out: list[type] = []
    for arg in typing.get_args(annotation):
        out.extend(_resource_classes(arg))
    return out


def return_kind(annotation: Any) -> str:
    """A coarse shape of what the method returns."""
    if annotation is inspect.Signature.empty:
        return "other"
    if annotation is None or annotation is type(None):
        return "none"
    origin = typing.get_origin(annotation)
    if origin in (collections.abc.Generator, collections.abc.Iterator,
                  collections.abc.Iterable):
        return "generator"
    if origin in (types.UnionType, typing.Union):
        kinds = {return_kind(a) for a in typing.get_args(annotation)} - {"none"}
        return kinds.pop() if len(kinds) == 1 else "other"
    if _resource_classes(annotation):
        return "resource"
    if annotation is bytes:
        return "bytes"
    if isinstance(annotation, type) and annotation.__name__ == "Response":
        return "response"
    return "other"


def _json_default(value: Any) -> Any:
    """A signature default as JSON data (None when it has no JSON form; tuples become lists)."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return None


def _expanded(service: str, method: str, kind: str, var_name: str,
              resource_class: type | None) -> tuple[list[str], tuple[str, ...], bool]:
    """Explicit parameter names for ``**attrs`` / ``**query``, the required ones, and
    whether others are allowed (read-only attributes are left out, see fields.yaml)."""
    from openstack import fields

    if resource_class is None:
        return [], (), True
    if var_name == "query" or kind == "generator":
        mapping = getattr(resource_class, "_query_mapping", None)
        names = sorted(getattr(mapping, "_mapping", {}) or {})
        return names, (), not names
    iterate = resource_class._attributes_iterator  # type: ignore[attr-defined]
    names = [n for n, _ in iterate((fields.Body, fields.Header))]
    names = [n for n in dict.fromkeys(names) if not n.startswith("_")]
    names, required = resource_fields.input_fields(service, method, resource_class, names)
    names.sort(key=lambda n: n != "name")  # the name first, the rest in declaration order
    open_ended = bool(getattr(resource_class, "_store_unknown_attrs_as_properties", False)
                      or getattr(resource_class, "_allow_unknown_attrs_in_body", False))
    return names, required, open_ended or not names


def _params(service: str, method: str, sig: inspect.Signature,
            kind: str) -> tuple[tuple[ParamSpec, ...], tuple[tuple[str, Any], ...]]:
    params: list[ParamSpec] = []
    forced: list[tuple[str, Any]] = []
    resources = _resource_classes(sig.return_annotation)
    resource_class = resources[0] if resources else None
    seen: set[str] = set()
    var: ParamSpec | None = None
    for i, p in enumerate(sig.parameters.values()):
        if i == 0 and p.name == "self" or p.kind is p.VAR_POSITIONAL:
            continue
        if p.kind is p.VAR_KEYWORD:
            names, required, open_ended = _expanded(service, method, kind, p.name,
                                                    resource_class)
            params.extend(ParamSpec(n, has_default=n not in required)
                          for n in names if n not in seen)
            seen.update(names)
            if open_ended:
                var = ParamSpec(p.name, var_keyword=True)
            continue
        if p.name in seen:
            continue
        seen.add(p.name)
        if p.default is p.empty:
            params.append(ParamSpec(p.name))
        elif method.startswith("delete_") and p.name == "ignore_missing":
            params.append(ParamSpec(p.name, has_default=True, default=False))
            forced.append((p.name, False))
        else:
            params.append(ParamSpec(p.name, has_default=True, default=_json_default(p.default)))
    # explicit defaults-less params first, keep relative order (Mistral renders that way)
    ordered = [p for p in params if p.required] + [p for p in params if not p.required]
    ordered.extend(ParamSpec(n, has_default=True) for n in EXTRA_PARAMS if n not in seen)
    if var is not None:
        ordered.append(var)
    return tuple(ordered), tuple(forced)


def describe_method(info: ServiceInfo, method: str, func: Any) -> MethodSpec | None:
    """The action specification of one proxy method (None if it has no usable signature)."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    kind = return_kind(sig.return_annotation)
    params, forced = _params(info.prefix, method, sig, kind)
    return MethodSpec(
        name=f"{info.prefix}.{method}", service=info.prefix, service_type=info.service_type,
        method=method, params=params, description=first_paragraph(func.__doc__),
        returns=kind, call_defaults=forced)


@functools.cache
def service_methods(prefix: str) -> dict[str, MethodSpec]:
    """All action specifications of one service, keyed by action name (cached)."""
    info = services().get(prefix)
    if info is None:
        return {}
    out: dict[str, MethodSpec] = {}
    for method, func in public_methods(info.proxy_class):
        spec = describe_method(info, method, func)
        if spec is not None:
            out[spec.name] = spec
    return out


def find_method(action_name: str) -> MethodSpec | None:
    """The specification of ``<service>.<method>`` or None."""
    prefix, _, method = action_name.partition(".")
    if not method:
        return None
    return service_methods(prefix).get(action_name)


def all_methods(prefixes: typing.Iterable[str] | None = None) -> list[MethodSpec]:
    """Specifications of every method of the given services (all when None), by name."""
    chosen = services().keys() if prefixes is None else prefixes
    out: list[MethodSpec] = []
    for prefix in chosen:
        out.extend(service_methods(prefix).values())
    return sorted(out, key=lambda m: m.name)
