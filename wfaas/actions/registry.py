"""Action providers: std and pack actions from entry points, ad-hoc, OpenStack; the composite.

``default_providers()`` builds what a wfaas process uses::

    CompositeProvider([std entry points + std.wait_ssh, pack entry points,
                       ad-hoc (from a loader), OpenStack (when importable)])

A pack is any installed distribution other than wfaas registering entry points
in the ``wfaas.actions`` group; Mistral plugin packages (``mistral.actions``
entry points, mistral-lib actions) are loaded too, through
:mod:`wfaas.actions.mistral_compat`. A pack that fails to import is never dropped
silently: it is logged and listed as broken (``CompositeProvider.broken()``,
``populate``'s counts) and the other packs load; ``strict=True`` (``[actions]
fail_on_broken_pack``) raises :class:`wfaas.exceptions.PluginLoadError` naming the
distribution and the entry point instead.

Packs installed after the server started: an action name no provider knows makes
the pack providers re-read the entry points (at most once per ``rescan_interval``
seconds), so ``pip install`` + ``wfaas-db-manage populate`` need no restart.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
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
#: seconds between two re-scans of the installed packs on an unknown action name
DEFAULT_RESCAN_INTERVAL = 2.0


def _is_std(module: str) -> bool:
    return module == "wfaas" or module.startswith("wfaas.")


def _dist_by_entry_point(group: str = NAMESPACE) -> dict[tuple[str, str], str]:
    """``(name, value) -> distribution name`` for every entry point of ``group``."""
    out: dict[tuple[str, str], str] = {}
    for ep in metadata.entry_points(group=group):
        dist = getattr(ep, "dist", None)
        out[(ep.name, ep.value)] = dist.name if dist is not None else "unknown"
    return out


OnError = Callable[[PluginLoadError], None]


def raise_error(err: PluginLoadError) -> None:
    """The strict handler of a broken pack: raise."""
    raise err


def _load_failure(dists: dict[tuple[str, str], str], on_error: OnError) -> Callable[..., None]:
    def callback(manager: Any, ep: metadata.EntryPoint, err: BaseException) -> None:
        dist = dists.get((ep.name, ep.value), "unknown")
        exc = PluginLoadError(
            f"Failed to load actions [distribution={dist}, entry_point={ep.name} = {ep.value}]: "
            f"{type(err).__name__}: {err}", pack=dist, entry_point=ep.name)
        exc.__cause__ = err
        on_error(exc)
    return callback


def _descriptors(manager: extension.ExtensionManager[Any], dists: dict[tuple[str, str], str],
                 std: bool, on_error: OnError = raise_error) -> list[ActionDescriptor]:
    out: list[ActionDescriptor] = []
    for ext in manager:
        ep = ext.entry_point
        module = ep.module if ep is not None else getattr(ext.plugin, "__module__", "")
        if _is_std(module) != std:
            continue
        cls = ext.plugin
        if not (isinstance(cls, type) and issubclass(cls, Action)):
            on_error(PluginLoadError(
                f"Entry point {ext.name} of {NAMESPACE} is not an Action subclass: {cls!r}",
                entry_point=ext.name))
            continue
        if std:
            source = "std"
        else:
            dist = dists.get((ep.name, ep.value)) if ep is not None else None
            source = f"pack:{dist or 'unknown'}"
        out.append(PythonActionDescriptor(ext.name, cls, source=source))
    return out


def load_entry_point_actions(std: bool,
                             manager: extension.ExtensionManager[Any] | None = None,
                             on_error: OnError = raise_error) -> list[ActionDescriptor]:
    """Descriptors of the std (``std=True``) or pack actions registered as entry points.

    ``manager`` replaces the real entry points (tests: ``make_test_instance``);
    ``on_error`` gets each broken entry point (default: raise it).
    """
    if manager is None:
        # stevedore memoises entry points per process; a new provider must see
        # packs installed or removed since (its on-disk cache is keyed by mtimes).
        importlib.invalidate_caches()
        extension.ExtensionManager.ENTRY_POINT_CACHE.pop(NAMESPACE, None)
    dists = _dist_by_entry_point()
    if manager is None:
        names = [name for (name, value), _ in dists.items() if _is_std(value) == std]
        manager = named.NamedExtensionManager(
            NAMESPACE, names=names, invoke_on_load=False,
            on_load_failure_callback=_load_failure(dists, on_error))
    return _descriptors(manager, dists, std, on_error)


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


class RescanningProvider(DictProvider):
    """Descriptors from a loader that :meth:`rescan` re-runs (packs installed later).

    Broken entry points are collected in :attr:`broken` (and logged), or raised
    when ``strict``.
    """

    def __init__(self, loader: Callable[[OnError], Sequence[ActionDescriptor]], *,
                 strict: bool = True) -> None:
        self._loader = loader
        self.strict = strict
        self._lock = threading.Lock()
        self.broken: list[PluginLoadError] = []
        super().__init__(self._load())

    def _load(self) -> Sequence[ActionDescriptor]:
        broken: list[PluginLoadError] = []

        def record(err: PluginLoadError) -> None:
            if self.strict:
                raise err
            LOG.error("Broken action pack, its actions are unavailable: %s", err)
            broken.append(err)
        found = self._loader(record)
        self.broken = broken
        return found

    def rescan(self) -> bool:
        """Re-read the entry points now; True when the set of actions changed."""
        with self._lock:
            found = {d.name: d for d in self._load()}
            changed = set(found) != set(self._by_name)
            self._by_name = found
        if changed:
            LOG.info("Action packs re-scanned: %s actions now", len(found))
        return changed


class PackProvider(RescanningProvider):
    """Actions of installed third-party packs (``source = pack:<distribution>``)."""

    kind = "pack"

    def __init__(self, manager: extension.ExtensionManager[Any] | None = None, *,
                 strict: bool = True) -> None:
        super().__init__(lambda on_error: load_entry_point_actions(False, manager, on_error),
                         strict=strict)


class MistralPluginProvider(RescanningProvider):
    """Actions of installed Mistral plugin packages (``mistral.actions`` entry points,
    mistral-lib Action classes), run through :mod:`wfaas.actions.mistral_compat`."""

    kind = "mistral-plugin"

    def __init__(self, *, strict: bool = True) -> None:
        from wfaas.actions import mistral_compat

        super().__init__(mistral_compat.load_descriptors, strict=strict)


class CompositeProvider:
    """Asks its providers in order; the first that finds an action wins.

    When none knows a name, the pack providers re-read the installed entry points
    (at most once per ``rescan_interval`` seconds; 0: never) and are asked again.
    """

    def __init__(self, providers: Iterable[ActionProvider], *, rescan_interval: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.providers: list[ActionProvider] = list(providers)
        self.rescan_interval = rescan_interval
        self._clock = clock
        self._scanned_at = clock()
        for p in self.providers:
            bind = getattr(p, "bind", None)
            if callable(bind):
                bind(self)

    def _find(self, name: str, namespace: str) -> ActionDescriptor | None:
        for p in self.providers:
            found = p.find(name, namespace)
            if found is not None:
                return found
        return None

    def find(self, name: str, namespace: str = "") -> ActionDescriptor | None:
        """The first provider's descriptor of ``name`` (re-scanning packs once on a miss)."""
        found = self._find(name, namespace)
        if found is None and self.rescan_interval > 0 and \
                self._clock() - self._scanned_at >= self.rescan_interval:
            self._scanned_at = self._clock()
            try:
                changed = self.rescan()
            except PluginLoadError:
                LOG.exception("Re-scanning the action packs failed")
                return None
            if changed:
                found = self._find(name, namespace)
        return found

    def find_all(self, namespace: str = "") -> list[ActionDescriptor]:
        """Every action of every provider, earlier providers shadowing later ones."""
        seen: dict[str, ActionDescriptor] = {}
        for p in self.providers:
            for d in p.find_all(namespace):
                seen.setdefault(d.name, d)
        return [seen[k] for k in sorted(seen)]

    def broken(self) -> list[PluginLoadError]:
        """The broken packs of every provider (their actions are unavailable)."""
        return [err for p in self.providers for err in getattr(p, "broken", [])]

    def rescan(self) -> bool:
        """Re-read every re-scannable provider's entry points; True when anything changed."""
        changed = False
        for p in self.providers:
            if isinstance(p, RescanningProvider):
                changed = p.rescan() or changed
        return changed


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
                      *, extra: Sequence[ActionProvider] = (), strict: bool = False,
                      rescan_interval: float = DEFAULT_RESCAN_INTERVAL,
                      conf: Any = None) -> CompositeProvider:
    """std + packs + Mistral plugins + ad-hoc (when a loader is given) + OpenStack
    (when importable).

    ``adhoc_loader(namespace, name)`` returns ActionSpecs of user ad-hoc actions
    (``name`` None: all of the namespace); see :mod:`wfaas.actions.adhoc`.
    A broken pack is logged and listed (``broken()``); ``strict`` raises
    PluginLoadError instead. ``rescan_interval``: see :class:`RescanningProvider`.
    ``conf``: the configuration the providers read (default: ``wfaas.config.CONF``).
    """
    providers: list[ActionProvider] = [StdProvider(), PackProvider(strict=strict),
                                       MistralPluginProvider(strict=strict), *extra]
    if adhoc_loader is not None:
        providers.append(AdHocProvider(adhoc_loader))
    if openstack:
        os_provider = openstack_provider(conf)
        if os_provider is not None:
            providers.append(os_provider)
    return CompositeProvider(providers, rescan_interval=rescan_interval)
