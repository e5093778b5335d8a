"""Cron and event triggers as the API stores and reads them (own project, plus public ones
read-only, as Mistral's scope). The workflow a trigger starts is resolved with the
caller's visibility, so a trigger can not start another project's private workflow."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wfaas.db import api as db
from wfaas.db.listing import ListArgs
from wfaas.db.types import utcnow
from wfaas.services.api.base import Page, ServiceBase, row_dict
from wfaas.services.api.context import RequestContext
from wfaas.services.api.definitions import WorkflowService


def cron_trigger_not_found(identifier: str) -> str:
    """Mistral's message for a missing cron trigger."""
    return f"CronTrigger not found [name={identifier}]"


def event_trigger_not_found(identifier: str) -> str:
    """The message for a missing event trigger."""
    return f"Event trigger not found [id={identifier}]"


class CronTriggerService(ServiceBase):
    """Cron triggers."""

    def create(self, ctx: RequestContext, *, workflow: str, namespace: str,
               **values: Any) -> dict[str, Any]:
        """Validate pattern, times and workflow input, then store the trigger (``values``:
        the keyword arguments of :func:`wfaas.triggers.cron.create_cron_trigger`)."""
        from wfaas.triggers import cron

        with self.session() as session:
            wf = WorkflowService(self.runtime, self.conf).resolve(session, ctx, workflow,
                                                                  namespace)
            row = cron.create_cron_trigger(session, workflow_identifier=wf.id,
                                           namespace=namespace, project_id=ctx.project_id,
                                           now=utcnow(), **values)
            data = row_dict(row)
        self.runtime.cron_triggers_changed()
        return data

    def list_page(self, ctx: RequestContext, args: ListArgs, filterable: Sequence[str]) -> Page:
        """The cron triggers the caller can see, one page."""
        return self.page(ctx, "cron_triggers", args, filterable=filterable)

    def get(self, ctx: RequestContext, identifier: str) -> dict[str, Any]:
        """One visible cron trigger, by name or id."""
        with self.session() as session:
            return row_dict(self.lookup(session, ctx, "cron_triggers", identifier,
                                        not_found=cron_trigger_not_found(identifier)))

    def delete(self, ctx: RequestContext, identifier: str) -> None:
        """Delete one of the caller's cron triggers."""
        from wfaas.triggers.changes import notify_changed

        with self.session() as session:
            row = self.lookup_owned(
                session, ctx, "cron_triggers", identifier,
                not_found=cron_trigger_not_found(identifier),
                refused=lambda r: f"Can not delete a cron trigger of another project "
                                  f"[name={r.name}]")
            db.delete_row(session, row)
            notify_changed(session)
        self.runtime.cron_triggers_changed()


class EventTriggerService(ServiceBase):
    """Event triggers, and events handed to them over the API."""

    def _trust_settings(self) -> Any:
        from wfaas.triggers import trusts

        return trusts.TrustSettings.from_conf(self.conf)

    def create(self, ctx: RequestContext, body: dict[str, Any], scope: str) -> dict[str, Any]:
        """Validate the workflow (one the caller sees) and its input, create the owner's
        trust, store the trigger."""
        from wfaas.triggers import events, trusts

        workflow_id = body.get("workflow_id")
        if isinstance(workflow_id, str) and workflow_id:  # before a trust is made for it
            with self.session() as session:
                workflow_id = self.lookup(
                    session, ctx, "workflows", workflow_id,
                    not_found=f"Workflow not found [workflow_id={workflow_id}]").id
        trust_id = trusts.create_trust(token=ctx.auth_token, user_id=ctx.user_id,
                                       project_id=ctx.project_id,
                                       settings=self._trust_settings(),
                                       auth_enabled=ctx.auth_enabled)
        try:
            with self.session() as session:
                row = events.create_event_trigger(
                    session, name=body.get("name"), workflow_id=workflow_id,
                    exchange=body.get("exchange"), topic=body.get("topic"),
                    event=body.get("event"), workflow_input=body.get("workflow_input"),
                    workflow_params=body.get("workflow_params"), scope=scope,
                    project_id=ctx.project_id, trust_id=trust_id)
                data = row_dict(row)
        except Exception:
            trusts.delete_trust(trust_id, self._trust_settings())
            raise
        self._changed()
        return data

    def list_page(self, ctx: RequestContext, args: ListArgs, filterable: Sequence[str]) -> Page:
        """The event triggers the caller can see, one page."""
        return self.page(ctx, "event_triggers", args, filterable=filterable)

    def get(self, ctx: RequestContext, identifier: str) -> dict[str, Any]:
        """One visible event trigger, by id."""
        with self.session() as session:
            return row_dict(self.lookup(session, ctx, "event_triggers", identifier,
                                        by_name=False,
                                        not_found=event_trigger_not_found(identifier)))

    def update(self, ctx: RequestContext, identifier: str, values: dict[str, Any]
               ) -> dict[str, Any]:
        """Change name, workflow, input, params or scope (not exchange/topic/event)."""
        from wfaas.triggers import events

        with self.session() as session:
            row = self.lookup_owned(
                session, ctx, "event_triggers", identifier, by_name=False,
                not_found=event_trigger_not_found(identifier),
                refused=lambda r: f"Can not update an event trigger of another project "
                                  f"[id={identifier}]")
            events.update_event_trigger(session, row, values)
            data = row_dict(row)
        self._changed()
        return data

    def delete(self, ctx: RequestContext, identifier: str) -> None:
        """Delete one of the caller's event triggers (and its trust)."""
        from wfaas.triggers import trusts
        from wfaas.triggers.changes import notify_changed

        with self.session() as session:
            row = self.lookup_owned(
                session, ctx, "event_triggers", identifier, by_name=False,
                not_found=event_trigger_not_found(identifier),
                refused=lambda r: f"Can not delete an event trigger of another project "
                                  f"[id={identifier}]")
            trust_id = row.trust_id
            db.delete_row(session, row)
            notify_changed(session)
        trusts.delete_trust(trust_id, self._trust_settings())
        self._changed()

    def post_event(self, ctx: RequestContext, exchange: str, topic: str, event: str,
                   payload: Any, *, context: dict[str, Any], publisher: str | None,
                   message_id: str | None) -> list[dict[str, Any]]:
        """Start the workflows of the triggers matching (exchange, topic, event); a
        non-admin caller's event only reaches its own project's triggers."""
        from wfaas.triggers.service import TriggerService

        if ctx.auth_enabled and not ctx.is_admin:
            context = {**context, "project_id": ctx.project_id, "user_id": ctx.user_id}
        service = self.runtime.triggers
        if not isinstance(service, TriggerService):
            service = TriggerService(self.runtime.session, self.runtime.start_workflow,
                                     auth_enabled=ctx.auth_enabled)
        return service.post_event(exchange, topic, event, payload, context=context,
                                  publisher=publisher, message_id=message_id)

    def _changed(self) -> None:
        wake = getattr(self.runtime.triggers, "wake", None)
        if callable(wake):
            wake()
