"""Family ``listing``: ``GET /v2/executions`` with N executions in the database.

Setup (untimed) POSTs one-task executions until this run has created N (other families
may have added more: ``rows`` says how many the list really returned). Points per N:
``limit=1000``, one request (value: seconds until its last byte; also with
``fields=id,workflow_name,state``, which leaves out the JSON columns); and ``pages of 100``,
the whole list walked with ``limit=100`` following the ``next`` links (Mistral's
``marker`` paging; value: seconds per page; ``last_page_s`` is the deepest page with rows).
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from fam_common import CheckFailed, Ctx, Point, output_of

FIELDS = "id,workflow_name,state"
ONE = "version: '2.0'\nfam_list_one:\n  tasks:\n    t0:\n      action: std.noop\n"


def fill(ctx: Ctx, n: int) -> None:
    """Create executions until this run created ``n`` (all must end SUCCESS)."""
    ctx.register("fam_list_one", ONE)
    have = int(ctx.state.get("listing_created", 0))
    for ex in ctx.start_many("fam_list_one", max(0, n - have)):
        output_of(ex)
    ctx.state["listing_created"] = max(have, n)


def _path(url: str | None, prefix: str) -> str | None:
    if not url:
        return None
    parts = urllib.parse.urlparse(url)
    path = parts.path[len(prefix):] if parts.path.startswith(prefix) else parts.path
    return path + ("?" + parts.query if parts.query else "")


def _limit_point(n: int, limit: int, fields: str = "") -> Point:
    query = f"limit={limit}" + (f"&fields={fields}" if fields else "")

    def rep(ctx: Ctx) -> dict[str, Any]:
        dt, body = ctx.timed_get(f"/executions?{query}")
        rows = len(body.get("executions", []))
        if rows < min(n, limit):
            raise CheckFailed(f"limit={limit}: {rows} rows, expected at least {min(n, limit)}")
        return {"value": dt, "rows": rows}

    return Point("listing", f"N={n} {query}", {"n": n, "limit": limit, "fields": fields},
                 "s per request", rep, lambda ctx: fill(ctx, n))


def _pages_point(n: int, page: int) -> Point:
    def rep(ctx: Ctx) -> dict[str, Any]:
        times: list[float] = []
        # deepest: the last page with rows. A list ending on a full page ends with an empty
        # page, as in Mistral (``next`` comes with every full page).
        rows, deepest = 0, 0.0
        path: str | None = f"/executions?limit={page}"
        while path:
            dt, body = ctx.timed_get(path)
            times.append(dt)
            got = len(body.get("executions", []))
            rows += got
            deepest = dt if got else deepest
            path = _path(body.get("next"), ctx.client.prefix)
        if rows < n:
            raise CheckFailed(f"paging by {page}: {rows} rows, expected at least {n}")
        return {"value": sum(times) / len(times), "pages": len(times), "rows": rows,
                "walk_s": sum(times), "first_page_s": times[0], "last_page_s": deepest}

    return Point("listing", f"N={n} pages of {page}", {"n": n, "page": page},
                 "s per page", rep, lambda ctx: fill(ctx, n))


def points(smoke: bool) -> list[Point]:
    """limit=1000 and pages of 100 for N = 100 and 1000 (smoke: N = 6, pages of 4)."""
    if smoke:
        return [_limit_point(6, 1000), _pages_point(6, 4)]
    return [p for n in (100, 1000) for p in (
        _limit_point(n, 1000), _limit_point(n, 1000, FIELDS), _pages_point(n, 100))]
