"""What every API service shares: the runtime, the settings, scoped lookups and lists.

Every read of a stored object goes through :meth:`ServiceBase.lookup` or
:meth:`ServiceBase.page`, which apply :func:`~wfaas.services.api.context.project_filter`
and :func:`wfaas.db.scoping.visible`: the scoping rule lives there and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from oslo_config import cfg
from sqlalchemy.orm import Session

from wfaas.db import api as db
from wfaas.db import models as m
from wfaas.db.listing import ListArgs, ListQuery, null_filters, parse_list_query, run_list_query
from wfaas.engine import states
from wfaas.exceptions import NotAllowed, NotFound
from wfaas.services.api.context import RequestContext, may_change, project_filter

if TYPE_CHECKING:
    from wfaas.services.runtime import Runtime

#: the stored model behind each collection of the API
MODELS: dict[str, Any] = {
    "workflows": m.WorkflowDefinition, "workbooks": m.Workbook, "actions": m.ActionDefinition,
    "executions": m.WorkflowExecution, "tasks": m.TaskExecution,
    "action_executions": m.ActionExecution, "environments": m.Environment,
    "cron_triggers": m.CronTrigger, "event_triggers": m.EventTrigger,
    "members": m.ResourceMember,
}

_SCOPES = ("private", "public")
#: the columns of each collection that take one of a fixed set of values (filters are
#: checked against it: ``state=BOGUS`` is a 400 listing the valid states, as in Mistral)
CHOICES: dict[str, dict[str, tuple[str, ...]]] = {
    "executions": {"state": tuple(states.WORKFLOW_TRANSITIONS)},
    "tasks": {"state": states.ALL, "type": ("ACTION", "WORKFLOW")},
    "action_executions": {"state": states.ALL},
    **{c: {"scope": _SCOPES} for c in ("workflows", "workbooks", "actions", "environments",
                                       "cron_triggers", "event_triggers")},
}


#: columns a list never reads, besides those the caller's view hides: credentials and
#: the engine's own state and definition copies, which grow with the workflow
NEVER_LISTED: dict[str, tuple[str, ...]] = {
    "executions": ("spec", "engine_state", "security"),
    "tasks": ("engine_state",),
    "action_executions": ("security",),
}
#: columns a list may not be sorted by either: an order over credentials or engine
#: internals is a side channel (marker paging turns it into a bisection)
UNSORTABLE: dict[str, tuple[str, ...]] = {
    **NEVER_LISTED, "cron_triggers": ("trust_id",), "event_triggers": ("trust_id",)}


@dataclass
class Page:
    """One page of a list: the rows (as dicts) and the query that selected them."""

    rows: list[dict[str, Any]]
    query: ListQuery


def row_dict(row: Any) -> dict[str, Any]:
    """A model row (or a dict) as a plain dict."""
    if isinstance(row, dict):
        return row
    return dict(row.to_dict())


class ServiceBase:
    """Base of the API services: a runtime, the configuration and scoped storage access."""

    def __init__(self, runtime: Runtime, conf: cfg.ConfigOpts) -> None:
        self.runtime = runtime
        self.conf = conf

    @contextmanager
    def session(self, *, readonly: bool = False) -> Iterator[Session]:
        """One transaction on the service's database (``readonly``: a snapshot read)."""
        with self.runtime.session(readonly=readonly) as session:
            yield session

    def lookup(self, session: Session, ctx: RequestContext, collection: str, identifier: str,
               *, not_found: str, by_name: bool = True, namespace: str | None = None) -> Any:
        """A row of ``collection`` the caller may see, by id or name; else 404."""
        row = db.find_visible(session, MODELS[collection], identifier,
                              project_id=project_filter(ctx), by_name=by_name,
                              namespace=namespace)
        if row is None:
            raise NotFound(not_found)
        return row

    def lookup_owned(self, session: Session, ctx: RequestContext, collection: str,
                     identifier: str, *, not_found: str, refused: Callable[[Any], str],
                     by_name: bool = True, namespace: str | None = None) -> Any:
        """:meth:`lookup`, then 403 (``refused(row)``) unless the caller may change it."""
        row = self.lookup(session, ctx, collection, identifier, not_found=not_found,
                          by_name=by_name, namespace=namespace)
        if not may_change(ctx, row):
            raise NotAllowed(refused(row))
        return row

    def _choices(self, collection: str) -> dict[str, tuple[str, ...]] | None:
        """The valid values of ``collection``'s enumerated filters (None: not checked,
        ``[api] strict_list_filters = false``, as Mistral)."""
        return CHOICES.get(collection) if self.conf.api.strict_list_filters else None

    def page(self, ctx: RequestContext, collection: str, args: ListArgs, *,
             filterable: Sequence[str], default_sort: str = "created_at",
             equal: dict[str, Any] | None = None, nulls: Sequence[str] = (),
             max_limit: int | None = None) -> Page:
        """One page of the visible rows of ``collection`` (``equal``: column -> value
        conditions the service adds; ``nulls``: columns that must be null; ``max_limit``:
        the largest page, default ``[api] max_limit``). Read on a snapshot: a list never
        waits for the database write lock. Only the columns shown are selected (no ORM
        objects): ``args.unread`` and :data:`NEVER_LISTED` are left out."""
        model = MODELS[collection]
        q = parse_list_query(args, model, filterable=filterable, collection=collection,
                             max_limit=max_limit or int(self.conf.api.max_limit),
                             default_sort=default_sort, choices=self._choices(collection),
                             unsortable=UNSORTABLE.get(collection, ()))
        extra = [getattr(model, k) == v for k, v in (equal or {}).items()]
        extra += null_filters(model, nulls, filterable)
        with self.session(readonly=True) as session:
            rows = run_list_query(session, model, q, [*db_visible(model, ctx), *extra],
                                  skip=[*NEVER_LISTED.get(collection, ()), *args.unread],
                                  raw_json=args.raw_json)
            return Page(rows, q)


def db_visible(model: Any, ctx: RequestContext) -> list[Any]:
    """The SQL conditions of what ``ctx`` sees of ``model``."""
    from wfaas.db.scoping import visible

    return visible(model, project_filter(ctx))
