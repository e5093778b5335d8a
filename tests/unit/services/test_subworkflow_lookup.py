"""SpecResolver.subworkflow reads a sub-workflow's definition with prebuilt statements:
it finds what the ORM lookup (api.get_workflow_definition) finds, project scoping,
sharing, namespaces and workbook members included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from tests.unit.db.dbutil import DB_PARAMS, migrated_engine
from wfaas.db import api
from wfaas.db import models as m
from wfaas.db.session import session_factory, session_scope
from wfaas.exceptions import NotFound
from wfaas.services.specs import SpecResolver

ROWS = [  # (name, namespace, project, scope, workbook)
    ("own", "", "p1", "private", None),
    ("theirs", "", "p2", "private", None),
    ("public", "", "p2", "public", None),
    ("both", "", "p2", "public", None),
    ("both", "", "p1", "private", None),       # p1's own beats p2's public one
    ("shared", "", "p2", "private", None),     # shared with p1, accepted
    ("pending", "", "p2", "private", None),    # shared with p1, not accepted
    ("spaced", "ns", "p1", "private", None),
    ("spaced", "", "p1", "private", None),
    ("fallback", "", "p1", "private", None),
    ("wb.child", "", "p1", "private", "wb"),
]
CASES = [  # (name, namespace, project, parent workflow)
    ("own", "", "p1", "parent"), ("theirs", "", "p1", "parent"),
    ("public", "", "p1", "parent"), ("both", "", "p1", "parent"),
    ("both", "", "p3", "parent"), ("shared", "", "p1", "parent"),
    ("pending", "", "p1", "parent"), ("spaced", "ns", "p1", "parent"),
    ("spaced", "", "p1", "parent"), ("fallback", "ns", "p1", "parent"),
    ("missing", "", "p1", "parent"), ("theirs", "", None, "parent"),
    ("child", "", "p1", "wb.parent"), ("wb.child", "", "p1", "wb.parent"),
]


def _store(session: Any) -> None:
    ids = {}
    for name, ns, project, scope, workbook in ROWS:
        row = api.insert_row(session, m.WorkflowDefinition, name=name, namespace=ns,
                             project_id=project, scope=scope, workbook_name=workbook,
                             definition=f"# {name} {ns} {project}")
        ids[(name, project)] = row["id"]
    for name, status in (("shared", "accepted"), ("pending", "pending")):
        api.insert_row(session, m.ResourceMember, resource_id=ids[(name, "p2")],
                       resource_type="workflow", member_id="p1", project_id="p2",
                       status=status)


def _orm(session: Any, name: str, ns: str, project: str | None, parent: str) -> Any:
    """What the lookup was before: the ORM path, the parent's workbook first."""
    if "." in parent and "." not in name:
        found = api.find_by_name(session, m.WorkflowDefinition,
                                 f"{parent.rsplit('.', 1)[0]}.{name}", namespace=ns,
                                 project_id=project)
        if found is not None:
            return found
    return api.get_workflow_definition(session, name, namespace=ns, project_id=project)


def _outcome(lookup: Any, *args: Any, **kwargs: Any) -> tuple[str, ...]:
    try:
        wf = lookup(*args, **kwargs)
    except NotFound as exc:
        return ("NotFound", str(exc))
    return (wf.id, wf.name, wf.namespace, wf.definition, str(wf.workbook_name),
            wf.project_id)


@pytest.mark.parametrize("kind", DB_PARAMS)
def test_the_prebuilt_lookup_finds_what_the_orm_lookup_finds(kind: str,
                                                             tmp_path: Path) -> None:
    with migrated_engine(kind, tmp_path) as eng:
        sessions = session_factory(eng)
        with session_scope(sessions) as s:
            _store(s)
        specs = SpecResolver()
        statements: list[str] = []
        event.listen(eng, "before_cursor_execute", lambda *a: statements.append(a[2]))
        hits = 0
        with session_scope(sessions, readonly=True) as s:
            for name, ns, project, parent in CASES:
                expected = _outcome(_orm, s, name, ns, project, parent)
                before = len(statements)
                got = _outcome(specs.subworkflow, s, name, namespace=ns,
                               parent_workflow=parent, project_id=project)
                assert got == expected, (name, ns, project, parent)
                # one SELECT per workbook prefix and namespace tried
                assert len(statements) - before <= 3, statements[before:]
                hits += got[0] != "NotFound"
        assert 9 <= hits < len(CASES)  # the matrix exercises hits and misses
