"""Typed specs of the workflow language v2: what the parser produces.

These frozen dataclasses are the contract between ``wfaas.lang`` (which builds
them from YAML and validates them) and ``wfaas.engine`` (which runs them).
Values that may hold expressions stay raw (``Any``: a literal or a string with
``<% %>`` / ``{{ }}``); the engine evaluates them at run time.

Conventions:
- ``task-defaults`` are already merged into every :class:`TaskSpec` by the parser,
  the way Mistral merges them (the task's own value wins; default transitions
  only when the task has none and never to the task itself; ``requires`` unioned).
- Inline parameters (``action: std.http url=x``) are parsed into
  ``TaskSpec.inline_input``; ``TaskSpec.input`` keeps the ``input:`` key (a dict,
  or one expression string that must evaluate to a dict). The engine merges them,
  ``input`` winning.
- Every spec carries ``line`` (1-based, in the submitted text) for messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

WorkflowType = Literal["direct", "reverse"]
TaskType = Literal["action", "workflow"]
ENGINE_COMMANDS: frozenset[str] = frozenset({"fail", "succeed", "pause", "noop"})


@dataclass(frozen=True)
class InputParam:
    """One declared input: ``name`` or ``{name: default}``."""

    name: str
    has_default: bool = False
    default: Any = None


@dataclass(frozen=True)
class Transition:
    """One entry of an on-success / on-error / on-complete / on-skip clause.

    ``target`` is a task name or, when ``is_command``, one of ENGINE_COMMANDS;
    ``condition`` is the raw guard expression (None: always taken);
    ``params`` are the command's parameters, e.g. ``{"msg": "..."}``.
    """

    target: str
    condition: Any = None
    is_command: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    line: int | None = None


@dataclass(frozen=True)
class PublishSpec:
    """The ``publish`` of an advanced on-clause: branch, global and atomic scopes."""

    branch: dict[str, Any] = field(default_factory=dict)
    global_: dict[str, Any] = field(default_factory=dict)
    atomic: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OnClause:
    """An on-xxx clause: its transitions in order, and its optional publish."""

    next: tuple[Transition, ...] = ()
    publish: PublishSpec | None = None


@dataclass(frozen=True)
class RetrySpec:
    """The retry policy; every value may be an expression."""

    count: Any
    delay: Any = 0
    break_on: Any = None
    continue_on: Any = None
    # wfaas extension (docs/lang.md "Retry with backoff"); None/() = Mistral's behaviour
    backoff: Any = None
    multiplier: Any = None
    max_delay: Any = None
    jitter: Any = None
    on_errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class WithItemsSpec:
    """``with-items``: one or several ``var in <collection>`` iterated in lock step.

    ``items`` maps each variable to its raw collection (an expression string or
    a literal list), in declaration order.
    """

    items: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class TaskSpec:
    """One task of a workflow, with task-defaults already applied."""

    name: str
    workflow_type: WorkflowType = "direct"
    type: TaskType = "action"
    description: str | None = None
    tags: tuple[str, ...] = ()
    action: str | None = None          # None and workflow None: std.noop
    workflow: str | None = None
    inline_input: dict[str, Any] = field(default_factory=dict)
    input: Any = None                  # dict, expression string or None
    publish: dict[str, Any] = field(default_factory=dict)
    publish_on_error: dict[str, Any] = field(default_factory=dict)
    publish_on_skip: dict[str, Any] = field(default_factory=dict)
    with_items: WithItemsSpec | None = None
    concurrency: Any = None
    retry: RetrySpec | None = None
    wait_before: Any = None
    wait_after: Any = None
    timeout: Any = None
    pause_before: Any = None
    fail_on: Any = None
    keep_result: Any = True
    target: Any = None
    safe_rerun: Any = False
    # direct workflows
    join: int | Literal["all", "one"] | None = None
    on_success: OnClause | None = None
    on_error: OnClause | None = None
    on_complete: OnClause | None = None
    on_skip: OnClause | None = None
    # reverse workflows
    requires: tuple[str, ...] = ()
    line: int | None = None

    @property
    def action_name(self) -> str:
        """The action to run (``std.noop`` when the task names neither)."""
        return self.action or "std.noop"


@dataclass(frozen=True)
class TaskDefaultsSpec:
    """``task-defaults`` as written (already applied to tasks; kept for display)."""

    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkflowSpec:
    """One workflow: its interface, data and tasks (keyed by task name, in order)."""

    name: str
    type: WorkflowType = "direct"
    description: str | None = None
    tags: tuple[str, ...] = ()
    input: tuple[InputParam, ...] = ()
    output: Any = None                 # None: the whole final context is the output
    output_on_error: Any = None
    vars: dict[str, Any] = field(default_factory=dict)
    task_defaults: TaskDefaultsSpec | None = None
    tasks: dict[str, TaskSpec] = field(default_factory=dict)
    line: int | None = None
    definition: str = ""               # this workflow's own text (cut out of a workbook)

    def start_tasks(self) -> list[TaskSpec]:
        """Direct: tasks no transition leads to. Reverse: not meaningful (empty)."""
        if self.type != "direct":
            return []
        targets = {
            t.target
            for task in self.tasks.values()
            for clause in (task.on_success, task.on_error, task.on_complete, task.on_skip)
            if clause is not None
            for t in clause.next
            if not t.is_command
        }
        return [t for n, t in self.tasks.items() if n not in targets]


@dataclass(frozen=True)
class ActionSpec:
    """An ad-hoc action: a base action with preset input and an output transform."""

    name: str
    base: str
    base_input: dict[str, Any] = field(default_factory=dict)  # inline params of base merged in
    input: tuple[InputParam, ...] = ()
    output: Any = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    line: int | None = None
    definition: str = ""


@dataclass(frozen=True)
class WorkbookSpec:
    """A workbook; member workflows and actions are named ``<workbook>.<name>``."""

    name: str
    description: str | None = None
    tags: tuple[str, ...] = ()
    workflows: dict[str, WorkflowSpec] = field(default_factory=dict)
    actions: dict[str, ActionSpec] = field(default_factory=dict)
    definition: str = ""
