"""The project an action runs for, while it runs (a context variable).

The executor sets it from the request's security context around each action, so
lookups made on the action's behalf (its ad-hoc definition, an ad-hoc base action)
see what that project may see: its own definitions and public ones. ``None`` (no
project known, e.g. tests or the API without auth) applies no project rule.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

_PROJECT: contextvars.ContextVar[str | None] = contextvars.ContextVar("wfaas_acting_project",
                                                                     default=None)


def current_project() -> str | None:
    """The project the running action acts for, or None."""
    return _PROJECT.get()


@contextmanager
def acting_for(project_id: str | None) -> Iterator[None]:
    """Run the ``with`` block on behalf of ``project_id``."""
    token = _PROJECT.set(project_id or None)
    try:
        yield
    finally:
        _PROJECT.reset(token)
