"""List requests on the wire: Mistral's list parameters in, ``next`` links out.

The SQL (filters, sorting, paging) is ``wfaas.db.listing``, reached through the
API services; here the query string becomes a :class:`ListArgs`, ``fields`` is
checked against the resource, and the answer's ``next`` link repeats the query
with the marker of the last row, as Mistral builds it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from wfaas.api.context import ApiRequest
from wfaas.api.resources import Resource, wire_list
from wfaas.services.api.base import Page
from wfaas.services.api.listing import ListArgs, ListQuery, split_list

LIST_ARGS = ("marker", "limit", "sort_keys", "sort_dirs", "fields")


def list_args(req: ApiRequest, extra_args: Iterable[str] = (), *,
              unread: Iterable[str] = ()) -> ListArgs:
    """The list parameters of ``req``; query parameters in ``extra_args`` are left to the
    controller, every other one is a filter; ``unread``: columns the answer won't show
    (see :func:`hidden_columns`)."""
    skip = set(LIST_ARGS) | set(extra_args)
    return ListArgs(limit=req.int_arg("limit"), marker=req.arg("marker"),
                    sort_keys=req.arg("sort_keys"), sort_dirs=req.arg("sort_dirs"),
                    filters=[(n, v) for n, v in req.request.GET.items() if n not in skip],
                    unread=tuple(unread))


def hidden_columns(resource: Resource, view: str, fields: Sequence[str] | None,
                   shown: Iterable[str] = ()) -> list[str]:
    """Columns of ``resource``'s fields hidden in ``view`` that neither ``fields=`` nor the
    controller (``shown``) asks for: a list page need not read them."""
    wanted = set(fields or ()) | set(shown)
    return [name for name in resource.unread_columns(view, None) if name not in wanted]


def fields_of(req: ApiRequest, resource: Resource) -> list[str] | None:
    """``?fields=`` checked against the resource (unknown field -> 400)."""
    raw = req.arg("fields")
    if not raw:
        return None
    return resource.check_fields(split_list(raw))


def list_answer(req: ApiRequest, resource: Resource, page: Page, *,
                extra_args: Sequence[str] = (), view: str = "list",
                overrides: Any = None, collection_path: str | None = None,
                fields: list[str] | None = None) -> dict[str, Any]:
    """A full list answer: serialize one page and build ``next``."""
    page.query.fields = fields
    link = next_link(req, collection_path or resource.collection, page.query, page.rows,
                     extra=[(a, req.arg(a) or "") for a in extra_args if req.arg(a) is not None])
    return wire_list(resource, page.rows, fields=fields, view=view, next_link=link,
                     overrides=overrides)


def next_link(req: ApiRequest, collection: str, q: ListQuery, rows: Sequence[Any],
              extra: Sequence[tuple[str, str]] = ()) -> str | None:
    """Mistral's ``next`` URL when the page is full, else None."""
    if not rows or len(rows) < q.limit:
        return None
    parts = [f"sort_keys={','.join(q.sort_keys)}", f"sort_dirs={','.join(q.sort_dirs)}"]
    if q.fields:
        parts.append(f"fields={','.join(q.fields)}")
    for name, value in [*q.raw_filters, *extra]:
        parts.append(f"{quote(name)}={quote(value, safe=',:*')}")
    parts.append(f"limit={q.limit}")
    last = rows[-1]
    parts.append(f"marker={last['id'] if isinstance(last, dict) else last.id}")
    base = req.host_url.rstrip("/")
    return f"{base}/v2/{collection}?" + "&".join(parts)
