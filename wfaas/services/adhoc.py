"""Ad-hoc actions stored in the database, as an ``AdHocLoader`` for the provider."""

from __future__ import annotations

import dataclasses
import logging
import textwrap
from collections.abc import Iterable

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session, sessionmaker

from wfaas.db import models as m
from wfaas.db.session import session_scope
from wfaas.exceptions import DSLError
from wfaas.lang import parse_actions
from wfaas.lang.specs import ActionSpec
from wfaas.utils.scope import current_project

LOG = logging.getLogger(__name__)


def spec_of_row(name: str, definition: str) -> ActionSpec | None:
    """Parse a stored ad-hoc action definition (own document or workbook slice)."""
    candidates = [definition,
                  "version: '2.0'\n\nx:\n" + textwrap.indent(definition, "  ")]
    for text in candidates:
        try:
            specs = parse_actions(text)
        except DSLError:
            continue
        for spec in specs:
            if spec.name == name or len(specs) == 1:
                return dataclasses.replace(spec, name=name)
    LOG.warning("Stored ad-hoc action %s has an unparsable definition", name)
    return None


class DbAdHocLoader:
    """``loader(namespace, name)`` -> ad-hoc ActionSpecs from action_definitions: while an
    action runs for a project (:mod:`wfaas.utils.scope`), only that project's own and
    public definitions (own first)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def __call__(self, namespace: str, name: str | None) -> Iterable[ActionSpec]:
        stmt = select(m.ActionDefinition.name, m.ActionDefinition.definition).where(
            m.ActionDefinition.namespace == namespace,
            m.ActionDefinition.definition.is_not(None),
            m.ActionDefinition.is_system.is_(False))
        if name is not None:
            stmt = stmt.where(m.ActionDefinition.name == name)
        project = current_project()
        if project is not None:
            # the project's own definitions shadow public ones of the same name
            own = m.ActionDefinition.project_id == project
            stmt = stmt.where(or_(own, m.ActionDefinition.scope == "public")).order_by(
                case((own, 0), else_=1))
        with session_scope(self.sessions, readonly=True) as s:
            rows = s.execute(stmt).all()
        out, seen = [], set()
        for row_name, definition in rows:
            if row_name in seen:
                continue
            seen.add(row_name)
            spec = spec_of_row(row_name, definition or "")
            if spec is not None:
                out.append(spec)
        return out
