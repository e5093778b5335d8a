"""Ad-hoc actions: a base action with preset input and an output transformation.

An ad-hoc action (``wfaas.lang.ActionSpec``) names a ``base`` (any action,
possibly another ad-hoc one), a ``base-input`` whose expressions see the
ad-hoc action's own input as ``$`` (defaults applied, workflow data from
``wf_ctx["data"]`` underneath) and ``env()`` etc. through ``wf_ctx["functions"]``,
and an ``output`` evaluated over the base result's data (``$``). Chains are
resolved base by base; a cycle raises ``Found a cycle in an ad-hoc action
chain [a -> b -> a]``. Output transformations apply innermost first; an error
result passes through untransformed. Sync-ness is the base action's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from wfaas.actions.base import (
    WF_CTX_DATA,
    WF_CTX_FUNCTIONS,
    Action,
    ActionDescriptor,
    ActionProvider,
    ParamSpec,
    Result,
)
from wfaas.exceptions import ActionError, ActionNotFound, WfaasError
from wfaas.lang.specs import ActionSpec

LOG = logging.getLogger(__name__)

#: ``loader(namespace, name)`` -> ad-hoc ActionSpecs; ``name`` None means every
#: action of the namespace. Returning more than asked is fine (filtered here).
AdHocLoader = Callable[[str, "str | None"], Iterable[ActionSpec]]

RESOURCES_DIR = Path(__file__).parent / "resources"


def _evaluate(value: Any, data: Any, functions: Any) -> Any:
    from wfaas.expressions import evaluate_recursively

    return evaluate_recursively(value, data, functions)


class AdHocActionDescriptor(ActionDescriptor):
    """Descriptor of one ad-hoc action; resolves its base through ``resolver``."""

    def __init__(self, spec: ActionSpec, resolver: ActionProvider, *, namespace: str = "",
                 source: str = "adhoc", is_system: bool = False,
                 project_id: str | None = None, scope: str = "private") -> None:
        params = tuple(ParamSpec(p.name, has_default=p.has_default, default=p.default)
                       for p in spec.input)
        super().__init__(spec.name, params=params, description=spec.description or "",
                         namespace=namespace, is_system=is_system, tags=spec.tags,
                         definition=spec.definition or None, source=source,
                         project_id=project_id, scope=scope)
        self.spec = spec
        self.resolver = resolver

    @property
    def base(self) -> str:
        """The name of the base action."""
        return self.spec.base

    def chain(self) -> tuple[list[AdHocActionDescriptor], ActionDescriptor]:
        """The ad-hoc descriptors from this one inwards, and the final non-ad-hoc base."""
        chain: list[AdHocActionDescriptor] = [self]
        names = [self.name]
        while True:
            current = chain[-1]
            if current.base in names:
                names.append(current.base)
                raise ActionError(
                    f"Found a cycle in an ad-hoc action chain [{' -> '.join(names)}]")
            base = current.resolver.find(current.base, current.namespace)
            if base is None:
                raise ActionNotFound(
                    f"Failed to find action [action_name={current.base}, "
                    f"namespace={current.namespace}] (base of ad-hoc action {current.name})")
            if not isinstance(base, AdHocActionDescriptor):
                return chain, base
            chain.append(base)
            names.append(base.name)

    def with_defaults(self, input: Mapping[str, Any]) -> dict[str, Any]:
        """The input with declared defaults filled in."""
        full = {p.name: p.default for p in self.params if p.has_default}
        full.update(input or {})
        return full

    def base_input(self, input: Mapping[str, Any],
                   wf_ctx: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Evaluate ``base-input`` over this action's (defaulted) input."""
        wf_ctx = wf_ctx or {}
        full = self.with_defaults(input)
        data = {**dict(wf_ctx.get(WF_CTX_DATA) or {}), **full}
        evaluated = _evaluate(dict(self.spec.base_input or {}), data,
                              wf_ctx.get(WF_CTX_FUNCTIONS))
        if not isinstance(evaluated, dict):
            raise ActionError(f"base-input of ad-hoc action {self.name} is not a dict")
        return evaluated

    def instantiate(self, input: dict[str, Any], wf_ctx: dict[str, Any] | None = None) -> Action:
        """Walk the chain evaluating each base-input, then build the final base action."""
        chain, base = self.chain()
        current = dict(input or {})
        for i, adhoc in enumerate(chain):
            if i:
                adhoc.check_parameters(current)
            current = adhoc.base_input(current, wf_ctx)
        base.check_parameters(current)
        return base.instantiate(current, wf_ctx)

    def post_process_result(self, result: Result) -> Result:
        """Apply the base's post-processing, then each ``output`` innermost to outermost."""
        chain, base = self.chain()
        result = base.post_process_result(result)
        for adhoc in reversed(chain):
            if adhoc.spec.output is None or not result.is_success():
                continue
            try:
                data = _evaluate(adhoc.spec.output, result.data, None)
            except WfaasError as exc:
                return Result(error=f"Failed to transform the output of ad-hoc action "
                                    f"{adhoc.name}: {exc}", sync=result.sync)
            result = Result(data=data, sync=result.sync)
        return result


class AdHocProvider:
    """User ad-hoc actions supplied by a loader (the shell backs it with the DB).

    Bases are resolved through the provider this one is bound to (the
    composite, so a base may be std, a pack, OpenStack or another ad-hoc one).
    A name not found in ``namespace`` is looked up in the default namespace.
    """

    kind = "adhoc"

    def __init__(self, loader: AdHocLoader, resolver: ActionProvider | None = None) -> None:
        self.loader = loader
        self.resolver: ActionProvider = resolver if resolver is not None else self

    def bind(self, resolver: ActionProvider) -> None:
        """Resolve bases through ``resolver`` (called by CompositeProvider)."""
        self.resolver = resolver

    def _describe(self, spec: ActionSpec, namespace: str) -> AdHocActionDescriptor:
        return AdHocActionDescriptor(spec, self.resolver, namespace=namespace)

    def find(self, name: str, namespace: str = "") -> ActionDescriptor | None:
        """The ad-hoc action ``name`` of ``namespace``, else of the default namespace."""
        for ns in dict.fromkeys((namespace, "")):
            for spec in self.loader(ns, name):
                if spec.name == name:
                    return self._describe(spec, ns)
        return None

    def find_all(self, namespace: str = "") -> list[ActionDescriptor]:
        """Every ad-hoc action of ``namespace`` (not those of the default one)."""
        out = {s.name: self._describe(s, namespace) for s in self.loader(namespace, None)}
        return [out[k] for k in sorted(out)]


def load_resource_specs(directory: Path = RESOURCES_DIR) -> list[ActionSpec]:
    """Parse the pre-installed ad-hoc actions shipped as YAML in ``directory``."""
    from wfaas.lang import parse_actions

    specs: list[ActionSpec] = []
    for path in sorted(directory.glob("*.yaml")):
        specs.extend(parse_actions(path.read_text(encoding="utf-8")))
    return specs


class ResourceProvider:
    """Pre-installed ad-hoc actions (``std.wait_ssh``): system, public, ``source='std'``."""

    kind = "std-adhoc"

    def __init__(self, resolver: ActionProvider, directory: Path = RESOURCES_DIR) -> None:
        self.resolver = resolver
        self.directory = directory
        self._specs: dict[str, ActionSpec] | None = None

    def _load(self) -> dict[str, ActionSpec]:
        if self._specs is None:
            try:
                self._specs = {s.name: s for s in load_resource_specs(self.directory)}
            except ImportError as exc:  # wfaas.lang not available (yet)
                LOG.warning("Pre-installed ad-hoc actions not loaded: %s", exc)
                self._specs = {}
        return self._specs

    def _describe(self, spec: ActionSpec) -> AdHocActionDescriptor:
        return AdHocActionDescriptor(spec, self.resolver, source="std", is_system=True,
                                     scope="public")

    def find(self, name: str, namespace: str = "") -> ActionDescriptor | None:
        """A pre-installed ad-hoc action (visible in every namespace)."""
        spec = self._load().get(name)
        return self._describe(spec) if spec is not None else None

    def find_all(self, namespace: str = "") -> list[ActionDescriptor]:
        """All pre-installed ad-hoc actions."""
        specs = self._load()
        return [self._describe(specs[k]) for k in sorted(specs)]
