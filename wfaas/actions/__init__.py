"""wfaas.actions: the action model, the std actions, ad-hoc actions and providers.

Public API for action authors (what a pack imports)::

    from wfaas.actions import Action, ActionContext, ActionException, Result

For the rest of wfaas: :mod:`wfaas.actions.registry` (``default_providers``,
``CompositeProvider``), :mod:`wfaas.actions.runner` (``run_action``),
:mod:`wfaas.actions.populate` (``populate``), :mod:`wfaas.actions.adhoc`.
"""

from wfaas.actions.base import (
    Action,
    ActionContext,
    ActionDescriptor,
    ActionException,
    ActionProvider,
    ExecutionContext,
    ParamSpec,
    Result,
    SecurityContext,
)

__all__ = [
    "Action",
    "ActionContext",
    "ActionDescriptor",
    "ActionException",
    "ActionProvider",
    "ExecutionContext",
    "ParamSpec",
    "Result",
    "SecurityContext",
]
