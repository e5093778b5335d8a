"""The action model: actions, their results, their context and their descriptors.

Three levels, as in mistral-lib:

- :class:`Action` -- the code that runs. Its constructor keyword arguments are
  its parameters; ``run(context)`` returns any JSON-serialisable value or a
  :class:`Result`; ``is_sync()`` says whether the result comes back later
  through the API (``PUT /v2/action_executions/<id>``).
- :class:`ActionDescriptor` -- what is known about an action without running
  it: name, parameters (:class:`ParamSpec`), description, where it comes from;
  it checks input, builds the :class:`Action` and post-processes its result.
- :class:`ActionProvider` -- finds descriptors by name (``find``/``find_all``).

The workflow context handed to ``ActionDescriptor.instantiate(input, wf_ctx)``
is a plain dict. Keys the descriptors understand (see :data:`WF_CTX_FUNCTIONS`
and :data:`WF_CTX_DATA`): ``"functions"`` -- a
``wfaas.expressions.FunctionContext`` giving ``env()``, ``execution()`` ... to
ad-hoc ``base-input`` expressions; ``"data"`` -- a dict of workflow variables
visible under the ad-hoc action's own input (the input wins).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from wfaas.exceptions import ActionError, InputError
from wfaas.lang.inline import input_json_schema

WF_CTX_FUNCTIONS = "functions"
WF_CTX_DATA = "data"


class ActionException(ActionError):
    """Raised by an action's ``run`` to fail without result data (mistral-lib's name)."""


# ---------------------------------------------------------------------------
# Results and context
# ---------------------------------------------------------------------------


@dataclass
class Result:
    """The outcome of an action: ``data`` on success, ``error`` on failure, or cancelled."""

    data: Any = None
    error: Any = None
    cancel: bool = False
    #: False when the action is asynchronous and its result comes later (set by the runner).
    sync: bool = field(default=True, compare=False)
    #: the limit that refused the action (``egress``), counted by the executor's metrics
    limit: str | None = field(default=None, compare=False)

    def is_error(self) -> bool:
        """True when the action failed (``error`` is set) and was not cancelled."""
        return self.error is not None and not self.cancel

    def is_cancel(self) -> bool:
        """True when the action was cancelled."""
        return self.cancel

    def is_success(self) -> bool:
        """True when neither failed nor cancelled."""
        return not self.is_error() and not self.cancel

    def to_dict(self) -> dict[str, Any]:
        """What an action execution's ``output`` stores: ``{"result": data or error}``."""
        return {"result": self.error if self.is_error() else self.data}

    @classmethod
    def from_value(cls, value: Any) -> Result:
        """Wrap whatever ``run`` returned: a Result stays, anything else is data."""
        return value if isinstance(value, Result) else cls(data=value)


@dataclass
class SecurityContext:
    """Credentials and identity an action may use (shaped like mistral-lib's)."""

    auth_uri: str | None = None
    auth_cacert: str | None = None
    insecure: bool = False
    service_catalog: Any = None
    region_name: str | None = None
    is_trust_scoped: bool = False
    redelivered: bool = False
    expires_at: str | None = None
    trust_id: str | None = None
    is_target: bool = False
    project_id: str | None = None
    project_name: str | None = None
    user_name: str | None = None
    auth_token: str | None = None
    user_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for the wire to a remote executor)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> SecurityContext:
        """Build from plain data, ignoring unknown keys."""
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in (data or {}).items() if k in names})


@dataclass
class ExecutionContext:
    """Where the action runs in a workflow (shaped like mistral-lib's)."""

    workflow_execution_id: str | None = None
    task_execution_id: str | None = None
    action_execution_id: str | None = None
    workflow_name: str | None = None
    callback_url: str | None = None
    with_items_index: int | None = None
    task_rerun_no: int | None = None
    task_rerun_id: str | None = None
    workflow_propagated_headers: dict[str, str] = field(default_factory=dict)
    root_execution_id: str | None = None
    task_name: str | None = None

    @property
    def task_id(self) -> str | None:
        """Deprecated alias of ``task_execution_id`` (kept for mistral-lib actions)."""
        return self.task_execution_id

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for the wire to a remote executor)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ExecutionContext:
        """Build from plain data, ignoring unknown keys."""
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in (data or {}).items() if k in names})


@dataclass
class ActionContext:
    """Everything an action's ``run`` receives besides its parameters."""

    security: SecurityContext = field(default_factory=SecurityContext)
    execution: ExecutionContext = field(default_factory=ExecutionContext)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: ``{"security": {...}, "execution": {...}}``."""
        return {"security": self.security.to_dict(), "execution": self.execution.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ActionContext:
        """Inverse of :meth:`to_dict`."""
        data = data or {}
        return cls(SecurityContext.from_dict(data.get("security")),
                   ExecutionContext.from_dict(data.get("execution")))


# ---------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------


class Action:
    """Base class of every Python action.

    Subclasses declare parameters as ``__init__`` keyword arguments, keep them
    on ``self`` and implement :meth:`run`. The class docstring becomes the
    action's description.
    """

    def run(self, context: ActionContext) -> Any:
        """Do the work; return a JSON-serialisable value or a :class:`Result`."""
        raise NotImplementedError

    def configure(self, conf: Any) -> None:
        """Read settings from the executor's configuration (an oslo.config object) before
        :meth:`run`. The default reads nothing; actions with options override it."""

    def is_sync(self) -> bool:
        """False when the result is delivered later through the API."""
        return True


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------

_NO_DEFAULT = object()


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of an action: a name, maybe a default; or ``**kwargs``."""

    name: str
    has_default: bool = False
    default: Any = None
    var_keyword: bool = False

    def render(self) -> str:
        """Mistral's rendering: ``name``, ``name="x"`` (JSON default) or ``**name``."""
        if self.var_keyword:
            return f"**{self.name}"
        if self.has_default:
            return f"{self.name}={json.dumps(self.default, default=str)}"
        return self.name

    @property
    def required(self) -> bool:
        """A plain parameter without a default must be given."""
        return not self.has_default and not self.var_keyword


def render_params(params: Sequence[ParamSpec]) -> str:
    """The input string ``GET /v2/actions`` shows: ``output, delay=0``."""
    return ", ".join(p.render() for p in params)


def params_from_callable(func: Any) -> tuple[ParamSpec, ...]:
    """Introspect a constructor's signature (``self`` and ``*args`` skipped)."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return ()
    out: list[ParamSpec] = []
    for i, p in enumerate(sig.parameters.values()):
        if i == 0 and p.name in ("self", "cls"):
            continue
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            out.append(ParamSpec(p.name, var_keyword=True))
        elif p.default is inspect.Parameter.empty:
            out.append(ParamSpec(p.name))
        else:
            out.append(ParamSpec(p.name, has_default=True, default=p.default))
    return tuple(out)


def params_from_class(cls: type) -> tuple[ParamSpec, ...]:
    """Parameters of an action class: its ``__init__`` (none if it has no own one)."""
    init = cls.__init__  # type: ignore[misc]
    if init is object.__init__:
        return ()
    return params_from_callable(init)


def description_from_doc(obj: Any) -> str:
    """The whole docstring, dedented, as Mistral shows it (empty when there is none)."""
    doc = inspect.getdoc(obj) or ""
    if obj is not Action and doc == (inspect.getdoc(Action) or ""):
        return ""
    return doc.strip()


# ---------------------------------------------------------------------------
# Descriptors and providers
# ---------------------------------------------------------------------------


class ActionDescriptor:
    """What is known about an action before running it; builds and checks it.

    Subclasses implement :meth:`instantiate`. ``source`` is where the action
    comes from: ``std``, ``pack:<distribution>``, ``adhoc`` or ``openstack``.
    """

    def __init__(self, name: str, *, params: Sequence[ParamSpec] = (), description: str = "",
                 namespace: str = "", is_system: bool = True, tags: Sequence[str] = (),
                 definition: str | None = None, source: str = "std",
                 project_id: str | None = None, scope: str = "public") -> None:
        self.name = name
        self.params: tuple[ParamSpec, ...] = tuple(params)
        self.description = description
        self.namespace = namespace
        self.is_system = is_system
        self.tags: tuple[str, ...] = tuple(tags)
        self.definition = definition
        self.source = source
        self.project_id = project_id
        self.scope = scope

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(name={self.name!r}, namespace={self.namespace!r}, "
                f"source={self.source!r})")

    @property
    def input_string(self) -> str:
        """The parameter list as Mistral renders it (``url, method="GET", ...``)."""
        return render_params(self.params)

    def instantiate(self, input: dict[str, Any], wf_ctx: dict[str, Any] | None = None) -> Action:
        """Build the runnable action from checked input."""
        raise NotImplementedError

    def check_parameters(self, input: Mapping[str, Any]) -> None:
        """Raise :class:`InputError` naming missing/unexpected parameters and the signature."""
        given = set(input or {})
        names = {p.name for p in self.params if not p.var_keyword}
        open_ended = any(p.var_keyword for p in self.params)
        missing = [p.name for p in self.params if p.required and p.name not in given]
        unexpected = [] if open_ended else sorted(given - names)
        if not missing and not unexpected:
            return
        parts = []
        if missing:
            parts.append(f"missing [{', '.join(missing)}]")
        if unexpected:
            parts.append(f"unexpected [{', '.join(unexpected)}]")
        raise InputError(
            f"Invalid input for action {self.name}: {'; '.join(parts)}. "
            f"Signature: {self.input_string}",
            action=self.name, missing=missing, unexpected=unexpected)

    def post_process_result(self, result: Result) -> Result:
        """Transform the base result (ad-hoc ``output``); identity by default."""
        return result

    def params_json_schema(self) -> dict[str, Any]:
        """JSON Schema of the parameters (types guessed from the defaults)."""
        return input_json_schema(self.params)

    def to_dict(self) -> dict[str, Any]:
        """The columns ``populate`` writes and the API shows."""
        return {
            "name": self.name, "namespace": self.namespace, "description": self.description,
            "input": self.input_string, "params_schema": self.params_json_schema(),
            "is_system": self.is_system, "tags": list(self.tags),
            "definition": self.definition, "source": self.source, "scope": self.scope,
            "project_id": self.project_id,
        }


class PythonActionDescriptor(ActionDescriptor):
    """Descriptor of an :class:`Action` subclass: parameters from ``__init__``."""

    action_class: type[Action]

    def __init__(self, name: str, action_class: type[Action], *, source: str = "std",
                 namespace: str = "", tags: Sequence[str] = (),
                 description: str | None = None) -> None:
        super().__init__(
            name, params=params_from_class(action_class),
            description=description_from_doc(action_class) if description is None
            else description,
            namespace=namespace, is_system=True, tags=tags, source=source)
        self.action_class = action_class

    @property
    def class_path(self) -> str:
        """``module:ClassName`` of the action class."""
        return f"{self.action_class.__module__}:{self.action_class.__qualname__}"

    def instantiate(self, input: dict[str, Any], wf_ctx: dict[str, Any] | None = None) -> Action:
        """``action_class(**input)``."""
        return self.action_class(**(input or {}))


@runtime_checkable
class ActionProvider(Protocol):
    """Something that knows actions by name."""

    def find(self, name: str, namespace: str = "") -> ActionDescriptor | None:
        """The descriptor of ``name`` in ``namespace`` ('' = default), or None."""
        ...

    def find_all(self, namespace: str = "") -> list[ActionDescriptor]:
        """Every action visible in ``namespace``."""
        ...


class DictProvider:
    """A provider over a fixed set of descriptors (tests, std actions, packs)."""

    kind: ClassVar[str] = "static"

    def __init__(self, descriptors: Sequence[ActionDescriptor] = ()) -> None:
        self._by_name: dict[str, ActionDescriptor] = {}
        for d in descriptors:
            self._by_name.setdefault(d.name, d)

    def find(self, name: str, namespace: str = "") -> ActionDescriptor | None:
        """Python actions are visible in every namespace."""
        return self._by_name.get(name)

    def find_all(self, namespace: str = "") -> list[ActionDescriptor]:
        """All descriptors, sorted by name."""
        return [self._by_name[k] for k in sorted(self._by_name)]
