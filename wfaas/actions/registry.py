"""Action providers: std and pack actions from entry points, ad-hoc, OpenStack; the composite.

``default_providers()`` builds what a wfaas process uses::

    CompositeProvider([std entry points + std.wait_ssh, pack entry points,
                       ad-hoc (from a loader), OpenStack (when importable)])

A pack is any installed distribution other than wfaas registering entry points
in the ``wfaas.actions`` group. A pack that fails to import is never dropped
silently: loading raises :class:`wfaas.exceptions.PluginLoadError` naming the
distribution and the entry point.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable, Sequence
from importlib import metadata
from typing import Any

from stevedore import extension, named

from wfaas.actions.adhoc import AdHocLoader, AdHocProvider, ResourceProvider
from wfaas.actions.base import (
    Action,
    ActionDescriptor,
    ActionProvider,
    DictProvider,
    PythonActionDescriptor,
)
from wfaas.exceptions import PluginLoadError

LOG = logging.getLogger(__name__)

NAMESPACE = "wfaas.actions"
OPENSTACK_PROVIDER = "wfaas.actions.openstack.provider:OpenStackProvider"


def _is_std(module: str) -> bool:
    return module == "wfaas" or module.startswith("wfaas.")


def _dist_by_entry_point(group: str = NAMESPACE) -> dict[tuple[str, str], str]:
    """``(name, value) -> distribution name`` for every entry point of ``group``."""
    out: dict[tuple[str, str], str] = {}
    for ep in metadata.entry_points(group=group):
        dist = getattr(ep, "dist", None)
        out[(ep.name, ep.value)] = dist.name if dist is not None else "unknown"
    return out


def _raise_load_failure(dists: dict[tuple[str, str], str]) -> Callable[..., None]:
    def callback(manager: Any, ep: metadata.EntryPoint, err: BaseException) -> None:
        dist = dists.get((ep.name, ep.value), "unknown")
        raise PluginLoadError(
            f"Failed to load actions [distribution={dist}, entry_point={ep.name} = {ep.value}]: "
            f"{type(err).__name__}: {err}", pack=dist, entry_point=ep.name) from err
    return callback


def _descriptors(manager: extension.ExtensionManager[Any], dists: dict[tuple[str, str], str],
                 std: bool) -> list[ActionDescriptor]:
    out: list[ActionDescriptor] = []
    for ext in manager:
        ep = ext.entry_point
        module = ep.module if ep is not None else getattr(ext.plugin, "__module__", "")
        if _is_std(module) != std:
            continue
        cls = ext.plugin
        if not (isinstance(cls, type) and issubclass(cls, Action)):
            raise PluginLoadError(
                f"Entry point {ext.name} of {NAMESPACE} is not an Action subclass: {cls!r}",
                entry_point=ext.name)
        if std:
            source = "std"
        else:
            dist = dists.get((ep.name, ep.value)) if ep is not None else None
            source = f"pack:{dist or 'unknown'}"
        out.append(PythonActionDescriptor(ext.name, cls, source=source))
    return out


def load_entry_point_actions(std: bool,
                             manager: extension.ExtensionManager[Any] | None = None
                             ) -> list[ActionDescriptor]:
    """Descriptors of the std (``std=True``) or pack actions registered as entry points.

    ``manager`` replaces the real entry points (tests: ``make_test_instance``).
    """
    dists = _dist_by_entry_point()
    if manager is None:
        # stevedore memoises entry points per process; a new provider must see
        # packs installed or removed since (its on-disk cache is keyed by mtimes).
        extension.ExtensionManager.ENTRY_POINT_CACHE.pop(NAMESPACE, None)
        names = [name for (name, value), _ in dists.items() if _is_std(value) == std]
        manager = named.NamedExtensionManager(
            NAMESPACE, names=names, invoke_on_load=False,
            on_load_failure_callback=_raise_load_failure(dists))
    return _descriptors(manager, dists, std)


class StdProvider(DictProvider):
    """The built-in actions: wfaas's own entry points plus pre-installed ad-hoc ones."""

    kind = "std"

    def __init__(self, manager: extension.ExtensionManager[Any] | None = None,
                 include_resources: bool = True) -> None:
        descriptors = load_entry_point_actions(True, manager)
        super().__init__(descriptors)
        self._resources = ResourceProvider(self) if include_resources else None

    def find(self, name: str, namespace: str = "") -> ActionDescriptor | None:
        """A std Python action, else a pre-installed ad-hoc one (e.g. ``std.wait_ssh``)."""
        found = super().find(name, namespace)
        if found is None and self._resources is not None:
            found = self._resources.find(name, namespace)
        return found

    def find_all(self, namespace: str = "") -> list[ActionDescriptor]:
        """Python std actions then pre-installed ad-hoc ones, by name."""
        out = super().find_all(namespace)
        if self._resources is not None:
            out += self._resources.find_all(namespace)
        return sorted(out, key=lambda d: d.name)


class PackProvider(DictProvider):
    """Actions of installed third-party packs (``source = pack:<distribution>``)."""

    kind = "pack"

    def __init__(self, manager: extension.ExtensionManager[Any] | None = None) -> None:
        super().__init__(load_entry_point_actions(False, manager))


class CompositeProvider:
    """Asks its providers in order; the first that finds an action wins."""

    def __init__(self, providers: Iterable[ActionProvider]) -> None:
        self.providers: list[ActionProvider] = list(providers)
        for p in self.providers:
            bind = getattr(p, "bind", None)
            if callable(bind):
                bind(self)

    def find(self, name: str, namespace: str = "") -> ActionDescriptor | None:
        """The first provider's descriptor of ``name``, or None."""
        for p in self.providers:
            found = p.find(name, namespace)
            if found is not None:
                return found
        return None

    def find_all(self, namespace: str = "") -> list[ActionDescriptor]:
        """Every action of every provider, earlier providers shadowing later ones."""
        seen: dict[str, ActionDescriptor] = {}
        for p in self.providers:
            for d in p.find_all(namespace):
                seen.setdefault(d.name, d)
        return [seen[k] for k in sorted(seen)]


def openstack_provider(conf: Any = None) -> ActionProvider | None:
    """The OpenStack provider when its module is importable, else None; configured from
    ``conf``'s ``[openstack_actions]`` (default: ``wfaas.config.CONF``)."""
    module_name, _, attr = OPENSTACK_PROVIDER.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        LOG.debug("OpenStack actions unavailable: %s", exc)
        return None
    cls = getattr(module, attr, None)
    if cls is None:
        return None
    provider: ActionProvider = cls.from_config(conf)
    return provider


def default_providers(adhoc_loader: AdHocLoader | None = None, openstack: bool = True,
                      *, extra: Sequence[ActionProvider] = (),
                      conf: Any = None) -> CompositeProvider:
    """std + entry-point packs + ad-hoc (when a loader is given) + OpenStack (when importable).

    ``adhoc_loader(namespace, name)`` returns ActionSpecs of user ad-hoc actions
    (``name`` None: all of the namespace); see :mod:`wfaas.actions.adhoc`.
    Raises PluginLoadError when an installed pack is broken. ``conf``: the
    configuration the providers read (default: ``wfaas.config.CONF``).
    """
    providers: list[ActionProvider] = [StdProvider(), PackProvider(), *extra]
    if adhoc_loader is not None:
        providers.append(AdHocProvider(adhoc_loader))
    if openstack:
        os_provider = openstack_provider(conf)
        if os_provider is not None:
            providers.append(os_provider)
    return CompositeProvider(providers)
