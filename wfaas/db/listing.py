"""List queries as SQL: Mistral's pagination, sorting and filters over one model.

:func:`parse_list_query` turns the raw list parameters (strings, as a client
sent them) into a :class:`ListQuery` checked against the model's columns;
:func:`run_list_query` selects one page. ``marker`` is the id of the last item
seen, ``limit`` is clamped to ``max_limit``, ``sort_keys``/``sort_dirs`` are comma
lists (``id`` is appended as a tie-breaker), and any filterable column takes
``value`` or ``op:value`` with op in ``eq, neq, lt, lte, gt, gte, in, nin, has``
(``in``/``nin`` take comma lists, ``has`` is a substring match); ``tags=a,b``
keeps rows carrying every tag. Mistakes raise :class:`~wfaas.exceptions.ClientError`
(HTTP 400) naming the parameter.

A column with a fixed set of values (``state``, ``scope``: the caller passes them as
``choices``) checks every value against it, as Mistral's typed parameters do: a value
outside the set is a 400 listing the valid ones, and so is an unknown ``xxx:`` prefix
(``state=bogus:ERROR``), named as an operator. On a free-text column an unknown prefix
stays part of the value, as in Mistral (``name=my:flow`` looks for ``my:flow``).
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Boolean, DateTime, Integer, Text, and_, or_, select, true, type_coerce
from sqlalchemy.orm import Session

from wfaas.db.models import columns_of
from wfaas.db.types import JsonText
from wfaas.exceptions import ClientError
from wfaas.utils.boolwords import to_bool

OPERATORS = ("eq", "neq", "lt", "lte", "gt", "gte", "in", "nin", "has")


@dataclass
class ListArgs:
    """The list parameters of a request, as sent (strings; None when absent)."""

    limit: int | None = None
    marker: str | None = None
    sort_keys: str | None = None
    sort_dirs: str | None = None
    #: every other query parameter, in order: (name, raw value)
    filters: list[tuple[str, str]] = field(default_factory=list)
    #: columns the answer will not show: the page does not read them
    unread: tuple[str, ...] = ()
    #: JSON columns the answer only serializes: read as stored text (:class:`StoredJson`)
    raw_json: tuple[str, ...] = ()


class StoredJson(str):
    """A JSON column's text exactly as stored (compact separators, non-ASCII as is), read
    without decoding it: a list answer that only re-encodes the value for the wire
    rewrites the separators instead (``wfaas.api.resources``)."""

    __slots__ = ()


@dataclass
class ListQuery:
    """A parsed list request."""

    marker: str | None = None
    limit: int = 1000
    limit_given: bool = False
    sort_keys: list[str] = field(default_factory=lambda: ["created_at", "id"])
    sort_dirs: list[str] = field(default_factory=lambda: ["asc", "asc"])
    fields: list[str] | None = None
    filters: list[tuple[str, str, Any]] = field(default_factory=list)
    raw_filters: list[tuple[str, str]] = field(default_factory=list)


def split_list(value: str | None) -> list[str]:
    """``"a, b,,c"`` -> ``['a', 'b', 'c']``."""
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def parse_list_query(args: ListArgs, model: Any, *, filterable: Iterable[str],
                     collection: str, max_limit: int, default_sort: str = "created_at",
                     choices: Mapping[str, Sequence[str]] | None = None,
                     unsortable: Sequence[str] = ()) -> ListQuery:
    """Check ``args`` against ``model``'s columns: unknown sort keys, filters, operators
    or values of the wrong type -> 400 (``choices``: the valid values of enumerated
    columns, e.g. ``{"state": ("RUNNING", ...)}``; ``unsortable``: columns that are
    not sort keys, such as credentials)."""
    q = ListQuery()
    if args.limit is not None:
        if args.limit <= 0:
            raise ClientError(f"Limit must be positive, got {args.limit}")
        q.limit_given = True
    q.limit = min(args.limit or max_limit, max_limit)
    q.marker = args.marker or None
    columns = columns_of(model)
    q.sort_keys = split_list(args.sort_keys) or [default_sort]
    sortable = [k for k in columns.keys() if k not in unsortable]
    for key in q.sort_keys:
        if key not in sortable:
            raise ClientError(f"Invalid sort key '{key}'; choose from: {', '.join(sortable)}")
    if "id" not in q.sort_keys:
        q.sort_keys.append("id")
    dirs = split_list(args.sort_dirs)
    for d in dirs:
        if d not in ("asc", "desc"):
            raise ClientError(f"Invalid sort direction '{d}'; use 'asc' or 'desc'")
    q.sort_dirs = (dirs + ["asc"] * len(q.sort_keys))[:len(q.sort_keys)]
    allowed = set(filterable)
    for name, raw in args.filters:
        if name not in allowed or (name != "tags" and name not in columns):
            raise ClientError(f"Unknown filter '{name}'; filters of {collection}: "
                              f"{', '.join(sorted(allowed))}")
        q.raw_filters.append((name, raw))
        parsed = _parse_filter(name, raw, columns[name] if name in columns else None)
        if choices and name in choices:
            _check_choice(name, raw, parsed, choices[name])
        q.filters.append(parsed)
    return q


def null_filters(model: Any, names: Iterable[str], allowed: Iterable[str]) -> list[Any]:
    """``nulls=a,b``: conditions that the columns are NULL; unknown columns -> 400."""
    columns, allowed = columns_of(model), set(allowed)
    conditions = []
    for name in names:
        if name not in allowed or name not in columns:
            raise ClientError(f"Invalid column in 'nulls': {name}")
        conditions.append(getattr(model, name).is_(None))
    return conditions


def _parse_filter(name: str, raw: str, column: Any) -> tuple[str, str, Any]:
    op, value = "eq", raw
    head, sep, tail = raw.partition(":")
    if sep and head in OPERATORS:
        op, value = head, tail
    if name == "tags":
        return name, "tags", split_list(value)
    if op in ("in", "nin"):
        return name, op, [_convert(name, v, column) for v in split_list(value)]
    if op == "has":
        return name, op, value
    return name, op, _convert(name, value, column)


def _check_choice(name: str, raw: str, parsed: tuple[str, str, Any],
                  valid: Sequence[str]) -> None:
    """400 unless every value of an enumerated filter is one of ``valid`` (``has`` matches
    substrings and is not checked)."""
    _, op, value = parsed
    if op == "has":
        return
    listed = ", ".join(valid)
    head, sep, _tail = raw.partition(":")
    if sep and head not in OPERATORS and raw not in valid:
        raise ClientError(f"Invalid filter {name}={raw}: unknown operator '{head}' (operators: "
                          f"{', '.join(OPERATORS)}); valid values of '{name}': {listed}")
    for item in value if isinstance(value, list) else [value]:
        if item not in valid:
            raise ClientError(f"Invalid value for filter '{name}': {item!r}; valid values: "
                              f"{listed}")


def _convert(name: str, value: str, column: Any) -> Any:
    ctype = column.type if column is not None else None
    if value in ("null", "None") and column is not None and column.nullable:
        return None
    if isinstance(ctype, Boolean):
        return to_bool(value, name)
    if isinstance(ctype, Integer):
        try:
            return int(value)
        except ValueError:
            raise ClientError(f"Invalid value for filter '{name}': {value!r} is not an "
                              "integer") from None
    if isinstance(ctype, DateTime):
        return parse_time(value, name)
    if isinstance(ctype, JsonText):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def parse_time(value: str, name: str) -> _dt.datetime:
    """``YYYY-MM-DD[ HH:MM[:SS]]`` or ISO 8601 (UTC) -> naive UTC datetime; else 400."""
    text = value.strip().replace("T", " ").rstrip("Z")
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return _dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        parsed = _dt.datetime.fromisoformat(value)
    except ValueError:
        raise ClientError(f"Invalid time for '{name}': {value!r} (use 'YYYY-MM-DD HH:MM:SS')"
                          ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(_dt.UTC).replace(tzinfo=None)
    return parsed


def _condition(model: type, name: str, op: str, value: Any) -> Any:
    col = getattr(model, name)
    is_json = isinstance(columns_of(model)[name].type, JsonText)
    if op == "tags":
        text = type_coerce(col, Text)
        return and_(true(), *[text.contains(json.dumps(t)) for t in value])
    if op == "has":
        return type_coerce(col, Text).contains(value)
    if op == "eq":
        return col.is_(None) if value is None else col == value
    if op == "neq":
        return col.is_not(None) if value is None else or_(col != value, col.is_(None))
    if op in ("in", "nin"):
        cond = col.in_(value)
        return cond if op == "in" else ~cond
    if is_json:
        raise ClientError(f"Operator '{op}' does not apply to '{name}'")
    return {"lt": col < value, "lte": col <= value, "gt": col > value, "gte": col >= value}[op]


def run_list_query(session: Session, model: type, q: ListQuery,
                   extra_conditions: Sequence[Any] = (),
                   skip: Iterable[str] | None = None, raw_json: Iterable[str] = ()
                   ) -> list[Any]:
    """The rows of ``model`` selected by ``q`` (and ``extra_conditions``), one page.

    With ``skip`` (column names not to read), the page is a Core SELECT of the other
    columns and the rows are plain dicts (no ORM objects, unread JSON never decoded);
    the JSON columns named in ``raw_json`` are then :class:`StoredJson` texts, not
    decoded either. Without ``skip``, model instances."""
    raw: list[str] = []
    if skip is None:
        stmt: Any = select(model)
    else:
        unread, wanted = set(skip), set(raw_json)
        # the mapper's columns by attribute key (an execution is a join of two tables)
        columns = [c for c in columns_of(model)
                   if c.key not in unread]
        raw = [c.key for c in columns if c.key in wanted and isinstance(c.type, JsonText)]
        stmt = select(*[type_coerce(c, Text).label(c.key) if c.key in raw else c
                        for c in columns]).select_from(
                            model.__table__)  # type: ignore[attr-defined]
    for name, op, value in q.filters:
        stmt = stmt.where(_condition(model, name, op, value))
    for cond in extra_conditions:
        stmt = stmt.where(cond)
    if q.marker:
        stmt = stmt.where(_after(model, _marker_row(session, model, q), q.sort_keys,
                                 q.sort_dirs))
    for key, direction in zip(q.sort_keys, q.sort_dirs, strict=True):
        col = getattr(model, key)
        stmt = stmt.order_by(col.desc() if direction == "desc" else col.asc())
    if skip is None:
        return list(session.scalars(stmt.limit(q.limit)))
    result = session.execute(stmt.limit(q.limit))
    keys = list(result.keys())
    rows = [dict(zip(keys, r, strict=True)) for r in result]
    for row in rows if raw else ():
        for key in raw:
            if row[key] is not None:
                row[key] = StoredJson(row[key])
    return rows


def _marker_row(session: Session, model: type, q: ListQuery) -> dict[str, Any]:
    """The sort-key values of the marker row (only those columns are read)."""
    columns = columns_of(model)
    found = session.execute(select(*[columns[k] for k in q.sort_keys])
                            .select_from(model.__table__)  # type: ignore[attr-defined]
                            .where(columns["id"] == q.marker)).first()
    if found is None:
        raise ClientError(f"Marker not found [marker={q.marker}]")
    return dict(found._mapping)


def _after(model: type, marker: dict[str, Any], keys: list[str], dirs: list[str]) -> Any:
    """Rows after ``marker`` in the order ``keys``/``dirs`` (keyset paging). The first
    key's bound is repeated as a plain range (``>=``/``<=``) so an index on that column
    bounds the scan; the OR of the exact keyset condition then filters inside it."""
    ors = []
    for i, key in enumerate(keys):
        value = marker[key]
        if value is None:
            continue
        ands = [getattr(model, k) == marker[k] for k in keys[:i] if marker[k] is not None]
        col = getattr(model, key)
        ands.append(col < value if dirs[i] == "desc" else col > value)
        ors.append(and_(*ands))
    first, value = getattr(model, keys[0]), marker[keys[0]]
    if value is None:
        return or_(*ors)
    bound = first <= value if dirs[0] == "desc" else first >= value
    return and_(bound, or_(*ors))
