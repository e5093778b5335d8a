"""The action provider of OpenStack actions generated from openstacksdk.

``OpenStackProvider().find("compute.create_server")`` builds the descriptor of
one action on demand (only that service's proxy is enumerated);
``find_all()`` lists every enabled one (about 1,700 with all services).
A packaged YAML file (``mapping.yaml``, extended by ``[openstack_actions]
mapping_file``) hides, renames and aliases actions, e.g. Mistral's
``nova.servers_create`` -> ``compute.create_server``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from wfaas.actions.base import Action, ActionDescriptor, ParamSpec
from wfaas.actions.openstack import generator
from wfaas.actions.openstack.action import OpenStackAction
from wfaas.actions.openstack.auth import OpenStackSettings
from wfaas.exceptions import ActionError

PACKAGED_MAPPING = Path(__file__).with_name("mapping.yaml")
SOURCE = "openstack"


@dataclass(frozen=True)
class Alias:
    """Another name for a generated action, with parameter renames and defaults."""

    name: str
    target: str
    params: Mapping[str, str] = field(default_factory=dict)  # alias param -> target param
    required: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    spread: str | None = None  # a dict parameter merged into the call's keyword arguments
    description: str | None = None


@dataclass(frozen=True)
class ActionMapping:
    """Hidden patterns, renames and aliases of generated actions."""

    hide: tuple[str, ...] = ()
    rename: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, Alias] = field(default_factory=dict)

    def is_hidden(self, generated: str) -> bool:
        """True when a hide pattern matches the generated name."""
        return any(fnmatch.fnmatchcase(generated, pattern) for pattern in self.hide)


def _alias(name: str, raw: Any, where: str) -> Alias:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("action"), str):
        raise ActionError(f"{where}: aliases.{name}: 'action' (a generated action name) "
                          f"is required")
    unknown = set(raw) - {"action", "params", "required", "defaults", "spread", "description"}
    if unknown:
        raise ActionError(f"{where}: aliases.{name}: unknown keys {sorted(unknown)}")
    return Alias(name=name, target=raw["action"], params=dict(raw.get("params") or {}),
                 required=tuple(raw.get("required") or ()),
                 defaults=dict(raw.get("defaults") or {}), spread=raw.get("spread"),
                 description=raw.get("description"))


def load_mapping(extra_file: str | Path | None = None) -> ActionMapping:
    """The packaged mapping, with ``extra_file`` (if any) read on top of it."""
    hide: list[str] = []
    rename: dict[str, str] = {}
    aliases: dict[str, Alias] = {}
    files = [PACKAGED_MAPPING] + ([Path(extra_file).expanduser()] if extra_file else [])
    for path in files:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ActionError(f"OpenStack action mapping {path} can not be read: {exc}") from exc
        if not isinstance(data, Mapping):
            raise ActionError(f"OpenStack action mapping {path}: expected a mapping at the top")
        hide.extend(str(p) for p in data.get("hide") or ())
        for old, new in (data.get("rename") or {}).items():
            if new is None:
                rename.pop(old, None)
            else:
                rename[old] = str(new)
        for name, raw in (data.get("aliases") or {}).items():
            if raw is None:
                aliases.pop(name, None)
            else:
                aliases[name] = _alias(name, raw, str(path))
    return ActionMapping(tuple(hide), rename, aliases)


def _alias_params(spec: generator.MethodSpec, alias: Alias) -> tuple[ParamSpec, ...]:
    to_alias = {target: name for name, target in alias.params.items()}
    # a target parameter named like an alias parameter that means another one is hidden
    shadowed = {name for name, target in alias.params.items() if name != target}
    params: list[ParamSpec] = []
    for p in spec.params:
        if p.var_keyword or p.name in shadowed:
            continue
        name = to_alias.get(p.name, p.name)
        if name in alias.required:
            params.append(ParamSpec(name))
        elif name in alias.defaults:
            params.append(ParamSpec(name, has_default=True, default=alias.defaults[name]))
        else:
            params.append(ParamSpec(name, has_default=p.has_default, default=p.default))
    if alias.spread:
        params.append(ParamSpec(alias.spread, has_default=True, default=None))
    rank = {name: i for i, name in enumerate(alias.required)}
    required = sorted((p for p in params if p.required), key=lambda p: rank.get(p.name, -1))
    ordered = required + [p for p in params if not p.required]
    ordered.extend(p for p in spec.params if p.var_keyword)
    return tuple(ordered)


class OpenStackActionDescriptor(ActionDescriptor):
    """Descriptor of one generated OpenStack action (or of an alias of one)."""

    def __init__(self, name: str, spec: generator.MethodSpec, settings: OpenStackSettings,
                 alias: Alias | None = None) -> None:
        params = spec.params if alias is None else _alias_params(spec, alias)
        description = spec.description
        if alias is not None:
            description = alias.description or f"{description} (alias of {spec.name})".strip()
        super().__init__(name, params=params, description=description, is_system=True,
                         tags=("openstack", spec.service), source=SOURCE)
        self.spec = spec
        self.settings = settings
        self.alias = alias

    def call_kwargs(self, input: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(keyword arguments for the proxy method, per-call options) from checked input."""
        values = dict(input or {})
        options = {"region": values.pop("action_region", None),
                   "interface": values.pop("action_interface", None)}
        defaults = {p.name: p.default for p in self.params if p.has_default}
        # null for a parameter whose default is null means "not given"
        values = {k: v for k, v in values.items()
                  if not (v is None and k in defaults and defaults[k] is None)}
        kwargs: dict[str, Any] = dict(self.spec.call_defaults)
        alias = self.alias
        if alias is not None:
            for name, value in alias.defaults.items():
                values.setdefault(name, value)
            spread = values.pop(alias.spread, None) if alias.spread else None
            if isinstance(spread, Mapping):
                kwargs.update(spread)
            values = {alias.params.get(k, k): v for k, v in values.items()}
        kwargs.update(values)
        return kwargs, options

    def instantiate(self, input: dict[str, Any], wf_ctx: dict[str, Any] | None = None) -> Action:
        """The runnable :class:`OpenStackAction` for this input."""
        kwargs, options = self.call_kwargs(input)
        return OpenStackAction(self.spec, kwargs, self.settings, region=options["region"],
                               interface=options["interface"], action_name=self.name)


class OpenStackProvider:
    """Finds OpenStack actions: generated ones, renamed ones and aliases."""

    kind: ClassVar[str] = SOURCE

    def __init__(self, settings: OpenStackSettings | None = None, *,
                 mapping: ActionMapping | None = None) -> None:
        self.settings = settings if settings is not None else OpenStackSettings.from_config()
        self.mapping = mapping if mapping is not None else load_mapping(
            self.settings.mapping_file or None)
        self._enabled = {s.replace("-", "_") for s in self.settings.enabled_services}
        self._renamed_to = {new: old for old, new in self.mapping.rename.items()}
        self._cache: dict[str, OpenStackActionDescriptor | None] = {}

    @classmethod
    def from_config(cls, conf: Any = None) -> OpenStackProvider:
        """A provider configured from ``[openstack_actions]``."""
        return cls(OpenStackSettings.from_config(conf))

    def service_enabled(self, prefix: str) -> bool:
        """True when actions of this service are generated."""
        return not self._enabled or prefix in self._enabled

    def find(self, name: str, namespace: str = "") -> OpenStackActionDescriptor | None:
        """The descriptor of ``name`` or None; OpenStack actions exist in every namespace."""
        if name not in self._cache:
            self._cache[name] = self._build(name)
        return self._cache[name]

    def _build(self, name: str) -> OpenStackActionDescriptor | None:
        alias = self.mapping.aliases.get(name)
        if alias is not None:
            spec = generator.find_method(alias.target)
            if spec is None or not self.service_enabled(spec.service):
                return None
            return OpenStackActionDescriptor(name, spec, self.settings, alias)
        generated = self._renamed_to.get(name, name)
        if generated == name and name in self.mapping.rename:
            return None  # renamed away
        prefix = generated.partition(".")[0]
        if not self.service_enabled(prefix) or prefix not in generator.services():
            return None
        spec = generator.find_method(generated)
        if spec is None or self.mapping.is_hidden(generated):
            return None
        return OpenStackActionDescriptor(name, spec, self.settings)

    def find_all(self, namespace: str = "") -> list[OpenStackActionDescriptor]:
        """Every enabled action and alias, sorted by name."""
        prefixes = [p for p in generator.services() if self.service_enabled(p)]
        names = [self.mapping.rename.get(m.name, m.name) for m in generator.all_methods(prefixes)]
        names.extend(self.mapping.aliases)
        out = [d for d in (self.find(n) for n in dict.fromkeys(names)) if d is not None]
        return sorted(out, key=lambda d: d.name)
