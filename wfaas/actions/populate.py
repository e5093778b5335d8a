"""Register every action of a provider as ``ActionDefinition`` rows (``wfaas-db-manage populate``).

Idempotent: new actions are inserted, changed ones updated, rows of actions
whose plugin is gone deleted -- but never user-created ad-hoc actions
(``source='adhoc'``), which populate neither writes nor removes. A system
action whose name is already taken by a user row in the same scope is left
out and counted as ``skipped``. All writes are bulk statements.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from wfaas.actions.base import ActionDescriptor, ActionProvider

LOG = logging.getLogger(__name__)

USER_SOURCE = "adhoc"
_COMPARED = ("description", "input", "params_schema", "is_system", "tags", "definition",
             "source", "scope")


def _model() -> Any:
    from wfaas.db.models import ActionDefinition

    return ActionDefinition


def descriptor_row(d: ActionDescriptor, default_project: str | None) -> dict[str, Any]:
    """The column values of one descriptor."""
    row = {
        "name": d.name, "namespace": d.namespace or "", "description": d.description or "",
        "input": d.input_string, "params_schema": d.params_json_schema(),
        "is_system": bool(d.is_system), "tags": list(d.tags), "definition": d.definition,
        "source": d.source, "scope": d.scope or "public",
    }
    project = d.project_id or default_project
    if project is not None:
        row["project_id"] = project
    return row


def _default_project(model: Any) -> str | None:
    default = model.__table__.c.project_id.default
    return getattr(default, "arg", None) if default is not None else None


def populate(session: Session, provider: ActionProvider, *, namespace: str = "") -> dict[str, int]:
    """Sync system actions of ``provider`` into the DB; returns counts.

    Counts: ``added``, ``updated``, ``removed``, ``unchanged``, ``skipped``,
    ``total`` (system actions the provider offers), and ``broken`` (packs that failed
    to load) when there are any: the stored actions of a broken pack are kept.
    """
    lister = getattr(provider, "broken", None)
    broken = lister() if callable(lister) else []
    keep = {f"{kind}:{err.details.get('pack')}" for err in broken
            for kind in ("pack", "mistral-plugin")}
    model = _model()
    project = _default_project(model)
    wanted: dict[tuple[str, str, Any], dict[str, Any]] = {}
    for d in provider.find_all(namespace):
        if d.source == USER_SOURCE:
            continue
        row = descriptor_row(d, project)
        wanted.setdefault((row["name"], row["namespace"], row.get("project_id")), row)

    cols = [model.id, model.name, model.namespace, model.project_id,
            *(getattr(model, c) for c in _COMPARED)]
    existing = session.execute(select(*cols)).mappings().all()
    system_rows = {}
    user_keys = set()
    for r in existing:
        key = (r["name"], r["namespace"], r["project_id"])
        if r["source"] == USER_SOURCE:
            user_keys.add(key)
        else:
            system_rows[key] = r

    to_insert, to_update, skipped, unchanged = [], [], 0, 0
    for key, row in wanted.items():
        old = system_rows.get(key)
        if old is None:
            if key in user_keys:
                skipped += 1
                LOG.warning("Action %s not registered: a user action has the name", key[0])
            else:
                to_insert.append(row)
        elif any(old[c] != row[c] for c in _COMPARED):
            to_update.append({"id": old["id"], **{c: row[c] for c in _COMPARED}})
        else:
            unchanged += 1
    gone = [r["id"] for k, r in system_rows.items()
            if k not in wanted and r["source"] not in keep]

    if to_insert:
        session.execute(insert(model), to_insert)
    if to_update:
        session.execute(update(model), to_update)
    for start in range(0, len(gone), 500):
        session.execute(delete(model).where(model.id.in_(gone[start:start + 500])))
    counts = {"added": len(to_insert), "updated": len(to_update), "removed": len(gone),
              "unchanged": unchanged, "skipped": skipped, "total": len(wanted)}
    for err in broken:
        LOG.error("Broken action pack (its actions are not registered): %s", err)
    if broken:
        counts["broken"] = len(broken)
    LOG.info("Actions populated: %s", counts)
    return counts
