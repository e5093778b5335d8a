"""Import a Mistral 23 database into wfaas: definitions, environments, triggers, members.

One transaction over the wfaas database: a dry run does exactly the same work and
rolls back, so its report (creates, conflicts) is what a real run would do. Every
object is matched by its natural key (name + namespace + project, or id), so a
second run finds everything ``unchanged`` and writes nothing.

Ids are kept: a cron trigger, event trigger or member that names a workflow by id
still finds it, and the API answers with the ids Mistral's users know.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wfaas.db import models as m
from wfaas.migration.report import ImportReport, Outcome
from wfaas.migration.source import MistralSource

LOG = logging.getLogger(__name__)
DEFAULT_PROJECT = "<default-project>"
VERSION_HEADER = "version: '2.0'\n"
#: target tables that may hold members (the members model is added separately)
MEMBER_TABLES = ("resource_members", "members")

Progress = Callable[[str], None]


def _project(row: dict[str, Any]) -> str:
    return row.get("project_id") or DEFAULT_PROJECT


def _ns(row: dict[str, Any], column: str = "namespace") -> str:
    return row.get(column) or ""


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


class Importer:
    """Copies one Mistral database's objects into a wfaas session (see module doc)."""

    def __init__(self, source: MistralSource, session: Session, report: ImportReport,
                 progress: Progress | None = None, catch_up: bool = False) -> None:
        self.catch_up = catch_up
        self.source = source
        self.session = session
        self.report = report
        self.progress = progress or (lambda _msg: None)

    # ------------------------------------------------------------------ helpers
    def _outcome(self, kind: str, key: str, action: str, reason: str = "") -> Outcome:
        return self.report.add(Outcome(kind, key, action, reason))

    def _ensure(self, kind: str, key: str, model: type[m.Base], match: dict[str, Any],
                values: dict[str, Any], compare: tuple[str, ...]) -> Outcome:
        """Create ``values`` unless a row matches ``match``: then unchanged or conflict."""
        stmt = sa.select(model).filter_by(**match)
        existing = self.session.scalars(stmt).first()
        if existing is None:
            row_id = values.get("id")
            if row_id and self.session.get(model, row_id) is not None:
                values = {k: v for k, v in values.items() if k != "id"}
            self.session.add(model(**values))
            self.session.flush()
            return self._outcome(kind, key, "create")
        differs = [c for c in compare if getattr(existing, c) != values.get(c)]
        if differs:
            return self._outcome(kind, key, "conflict",
                                 f"a different object exists in wfaas (differs in "
                                 f"{', '.join(differs)}); left unchanged")
        return self._outcome(kind, key, "unchanged")

    def _run_kind(self, kind: str, fn: Callable[[dict[str, Any]], Outcome]) -> None:
        if not self.source.has(kind):
            self.progress(f"{kind}: table missing in the source, nothing to import")
            return
        before = len(self.report.outcomes)
        for row in self.source.rows(kind):
            try:
                with self.session.begin_nested():
                    fn(row)
            except sa.exc.SQLAlchemyError as exc:
                self._outcome(kind, str(row.get("name") or row.get("id")), "skip",
                              f"database refused it: {type(exc).__name__}: {exc.args[0]}")
        self.progress(f"{kind}: {len(self.report.outcomes) - before} read")

    # ------------------------------------------------------------------ definitions
    def workbook(self, row: dict[str, Any]) -> Outcome:
        """A workbook row (its workflows and actions come with their own tables)."""
        from wfaas.lang import parse_workbook

        key = f"{_ns(row)}/{row['name']}"
        try:
            parse_workbook(row["definition"])
        except Exception as exc:  # noqa: BLE001 - reported, not fatal
            return self._outcome("workbooks", key, "skip", f"invalid definition: {exc}")
        values = {"id": row["id"], "name": row["name"], "namespace": _ns(row),
                  "definition": row["definition"], "checksum": _md5(row["definition"]),
                  "tags": row.get("tags") or [], "scope": row.get("scope") or "private",
                  "project_id": _project(row), "created_at": row["created_at"],
                  "updated_at": row.get("updated_at")}
        return self._ensure("workbooks", key, m.Workbook,
                            {"name": row["name"], "namespace": _ns(row),
                             "project_id": _project(row)}, values, ("definition",))

    def workflow(self, row: dict[str, Any]) -> Outcome:
        """A workflow definition (standalone document or a workbook's section)."""
        key = f"{_ns(row)}/{row['name']}"
        spec, error = _workflow_spec(row)
        if spec is None:
            return self._outcome("workflows", key, "skip", f"invalid definition: {error}")
        from wfaas.lang import render_input

        text = row["definition"]
        values = {"id": row["id"], "name": row["name"], "namespace": _ns(row),
                  "definition": text, "checksum": row.get("checksum") or _md5(text),
                  "input": str(render_input(spec.input)), "tags": row.get("tags") or [],
                  "workbook_name": row.get("workbook_name"),
                  "is_system": bool(row.get("is_system")),
                  "scope": row.get("scope") or "private", "project_id": _project(row),
                  "created_at": row["created_at"], "updated_at": row.get("updated_at")}
        return self._ensure("workflows", key, m.WorkflowDefinition,
                            {"name": row["name"], "namespace": _ns(row),
                             "project_id": _project(row)}, values, ("definition",))

    def action(self, row: dict[str, Any]) -> Outcome:
        """A user ad-hoc action; system and Python-class actions are wfaas's own."""
        key = f"{_ns(row)}/{row['name']}"
        if row.get("is_system") or not row.get("definition") or row.get("action_class"):
            return self._outcome("actions", key, "skip", "system action (wfaas provides "
                                 "its own std actions; plugins: see docs/migration.md)")
        if row["name"].startswith("std."):
            return self._outcome("actions", key, "skip", "pre-installed std action")
        from wfaas.services.adhoc import spec_of_row

        if spec_of_row(row["name"], row["definition"]) is None:
            return self._outcome("actions", key, "skip", "invalid definition")
        values = {"id": row["id"], "name": row["name"], "namespace": _ns(row),
                  "description": row.get("description"), "input": row.get("input") or "",
                  "definition": row["definition"], "source": "adhoc", "is_system": False,
                  "tags": row.get("tags") or [], "scope": row.get("scope") or "private",
                  "project_id": _project(row), "created_at": row["created_at"],
                  "updated_at": row.get("updated_at")}
        return self._ensure("actions", key, m.ActionDefinition,
                            {"name": row["name"], "namespace": _ns(row),
                             "project_id": _project(row)}, values, ("definition",))

    def environment(self, row: dict[str, Any]) -> Outcome:
        """An environment (name unique per project)."""
        values = {"id": row["id"], "name": row["name"], "description": row.get("description"),
                  "variables": row.get("variables") or {},
                  "scope": row.get("scope") or "private", "project_id": _project(row),
                  "created_at": row["created_at"], "updated_at": row.get("updated_at")}
        return self._ensure("environments", row["name"], m.Environment,
                            {"name": row["name"], "project_id": _project(row)}, values,
                            ("variables",))

    # ------------------------------------------------------------------ triggers
    def _workflow_of(self, workflow_id: str | None) -> m.WorkflowDefinition | None:
        return self.session.get(m.WorkflowDefinition, workflow_id) if workflow_id else None

    def cron_trigger(self, row: dict[str, Any]) -> Outcome:
        """A cron trigger with its timing state (next time, remaining count) and trust."""
        wf = self._workflow_of(row.get("workflow_id"))
        if wf is None:
            return self._outcome("cron_triggers", row["name"], "skip",
                                 f"its workflow {row.get('workflow_name')} "
                                 f"({row.get('workflow_id')}) was not imported")
        values = {"id": row["id"], "name": row["name"], "pattern": row.get("pattern"),
                  "first_execution_time": row.get("first_execution_time"),
                  "next_execution_time": row.get("next_execution_time"),
                  "remaining_executions": row.get("remaining_executions"),
                  "workflow_name": wf.name, "workflow_namespace": wf.namespace,
                  "workflow_id": wf.id, "workflow_input": row.get("workflow_input") or {},
                  "workflow_params": row.get("workflow_params") or {},
                  "scope": row.get("scope") or "private", "project_id": _project(row),
                  "trust_id": row.get("trust_id") or None, "created_at": row["created_at"],
                  "updated_at": row.get("updated_at"), "catch_up": self.catch_up}
        return self._ensure("cron_triggers", row["name"], m.CronTrigger,
                            {"name": row["name"], "project_id": _project(row)}, values,
                            ("pattern", "workflow_id", "workflow_input"))

    def event_trigger(self, row: dict[str, Any]) -> Outcome:
        """An event trigger (unique by exchange, topic, event, workflow and project)."""
        key = f"{row['name']} ({row['exchange']}/{row['topic']}/{row['event']})"
        if self._workflow_of(row.get("workflow_id")) is None:
            return self._outcome("event_triggers", key, "skip",
                                 f"its workflow {row.get('workflow_id')} was not imported")
        values = {"id": row["id"], "name": row["name"], "workflow_id": row["workflow_id"],
                  "workflow_input": row.get("workflow_input") or {},
                  "workflow_params": row.get("workflow_params") or {},
                  "exchange": row["exchange"], "topic": row["topic"], "event": row["event"],
                  "scope": row.get("scope") or "private", "project_id": _project(row),
                  "trust_id": row.get("trust_id") or None, "created_at": row["created_at"],
                  "updated_at": row.get("updated_at")}
        match = {k: values[k] for k in ("exchange", "topic", "event", "workflow_id",
                                        "project_id")}
        return self._ensure("event_triggers", key, m.EventTrigger, match, values,
                            ("name", "workflow_input"))

    def member(self, row: dict[str, Any], table: sa.Table | None) -> Outcome:
        """A resource member (a workflow shared with another project)."""
        key = f"{row['resource_type']} {row['resource_id']} -> {row['member_id']}"
        if table is None:
            return self._outcome("members", key, "skip",
                                 "this wfaas database has no members table (upgrade it first)")
        match = {c: row[c] for c in ("resource_id", "resource_type", "member_id")}
        found = self.session.execute(sa.select(table).filter_by(**match)).first()
        if found is not None:
            same = all(found._mapping.get(c) == row.get(c) for c in ("status",)
                       if c in table.c)
            return self._outcome("members", key, "unchanged" if same else "conflict",
                                 "" if same else "status differs; left unchanged")
        values = {c: row.get(c) for c in table.c.keys() if row.get(c) is not None}
        values.setdefault("project_id", _project(row))
        self.session.execute(table.insert().values(**values))
        return self._outcome("members", key, "create")

    def _member_table(self) -> sa.Table | None:
        bind = self.session.connection()  # not a second connection: SQLite is locked
        names = set(sa.inspect(bind).get_table_names())
        for name in MEMBER_TABLES:
            if name in names:
                return sa.Table(name, sa.MetaData(), autoload_with=bind)
        return None

    # ------------------------------------------------------------------ driver
    def run(self, with_history: bool = False) -> ImportReport:
        """Import every kind in dependency order (workflows before their triggers)."""
        self.report.revision = self.source.revision()
        self._run_kind("workbooks", self.workbook)
        self._run_kind("workflows", self.workflow)
        self._run_kind("actions", self.action)
        self._run_kind("environments", self.environment)
        self._run_kind("cron_triggers", self.cron_trigger)
        self._run_kind("event_triggers", self.event_trigger)
        if any(o.kind.endswith("triggers") and o.action == "create"
               for o in self.report.outcomes):
            from wfaas.triggers.changes import notify_changed

            notify_changed(self.session)  # a running scheduler re-reads its due times
        table = self._member_table()
        self._run_kind("members", lambda row: self.member(row, table))
        if with_history:
            from wfaas.migration.history import import_history

            import_history(self)
        return self.report


def _workflow_spec(row: dict[str, Any]) -> tuple[Any, str]:
    """The parsed spec of a stored workflow (a document, or a workbook's section)."""
    from wfaas.lang import parse_workflows

    text = row.get("definition") or ""
    short = row["name"].split(".", 1)[1] if row.get("workbook_name") else row["name"]
    error = "empty definition"
    for candidate in (text, VERSION_HEADER + text):
        try:
            specs = parse_workflows(candidate)
        except Exception as exc:  # noqa: BLE001 - reported to the operator
            error = str(exc)
            continue
        for spec in specs:
            if spec.name in (short, row["name"]):
                return spec, ""
        error = f"the document defines no workflow named {short}"
    return None, error


def import_mistral(url: str, session: Session, *, dry_run: bool = False,
                   with_history: bool = False, progress: Progress | None = None,
                   catch_up: bool = False) -> ImportReport:
    """Import the Mistral database at ``url`` into ``session`` (committed by the caller
    unless ``dry_run``: then rolled back here). ``catch_up``: imported cron triggers
    get ``catch_up`` (a run missed while switching over fires once)."""
    source = MistralSource(url)
    try:
        report = ImportReport(source=_safe_url(url), dry_run=dry_run)
        Importer(source, session, report, progress, catch_up).run(with_history)
    finally:
        source.close()
    if dry_run:
        session.rollback()
    return report


def _safe_url(url: str) -> str:
    """``url`` without its password."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only for display
        return url


def utcnow() -> _dt.datetime:
    """Naive UTC now (the database convention)."""
    return _dt.datetime.now(_dt.UTC).replace(tzinfo=None)
