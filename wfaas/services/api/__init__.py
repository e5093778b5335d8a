"""The typed service layer under the REST API.

Controllers (``wfaas.api``) call these services only, each call with a
:class:`~wfaas.services.api.context.RequestContext`; the services do every read
and write through ``wfaas.db`` and apply the scoping rule in one place
(:meth:`~wfaas.services.api.base.ServiceBase.lookup` / ``page`` over
:func:`wfaas.db.scoping.visible`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oslo_config import cfg
from sqlalchemy import text

from wfaas.services.api.context import RequestContext
from wfaas.services.api.definitions import ActionService, WorkbookService, WorkflowService
from wfaas.services.api.environments import EnvironmentService
from wfaas.services.api.executions import ExecutionService
from wfaas.services.api.members import MemberService
from wfaas.services.api.reports import ReportService
from wfaas.services.api.tasks import ActionExecutionService, TaskService
from wfaas.services.api.triggers import CronTriggerService, EventTriggerService

if TYPE_CHECKING:
    from wfaas.services.runtime import Runtime

__all__ = ["ApiServices", "RequestContext"]


class ApiServices:
    """Every API service over one runtime and one configuration object."""

    def __init__(self, runtime: Runtime, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        self.workflows = WorkflowService(runtime, conf)
        self.workbooks = WorkbookService(runtime, conf)
        self.actions = ActionService(runtime, conf)
        self.executions = ExecutionService(runtime, conf)
        self.reports = ReportService(runtime, conf)
        self.tasks = TaskService(runtime, conf)
        self.action_executions = ActionExecutionService(runtime, conf)
        self.environments = EnvironmentService(runtime, conf)
        self.cron_triggers = CronTriggerService(runtime, conf)
        self.event_triggers = EventTriggerService(runtime, conf)
        self.members = MemberService(runtime, conf)
        self._runtime = runtime

    def healthcheck(self) -> None:
        """A trivial query: raises when the database is unreachable."""
        with self._runtime.session() as session:
            session.execute(text("SELECT 1"))
