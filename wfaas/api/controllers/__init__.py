"""The REST API v2 controllers; importing this package registers every route."""

from wfaas.api.controllers import (  # noqa: F401
    action_executions,
    actions,
    cron_triggers,
    environments,
    executions,
    graphs,
    members,
    reports,
    root,
    tasks,
    workbooks,
    workflows,
)

try:  # /v2/event_triggers, written by the triggers helper
    from wfaas.api.controllers import event_triggers  # noqa: F401
except ModuleNotFoundError as exc:  # pragma: no cover - depends on the tree
    if exc.name not in ("wfaas.api.controllers.event_triggers", "wfaas.triggers"):
        raise
