"""``wfaas workflow ...``: workflow definitions (create, update, validate, list,
get, definition, delete, graph)."""

from __future__ import annotations

from typing import Any

from wfaas.cmd.client_common import resource_parser
from wfaas.cmd.client_definitions import add_definition_verbs
from wfaas.cmd.client_graph import add_graph_verb

COLUMNS = ("id", "name", "namespace", "tags", "input", "created_at", "updated_at")
SHOW_COLUMNS = ("id", "name", "namespace", "project_id", "tags", "input", "scope",
                "interface", "created_at", "updated_at")


def add_parser(subparsers: Any) -> None:
    """Register ``wfaas workflow``."""
    verbs = resource_parser(subparsers, "workflow", "manage workflow definitions",
                            aliases=["workflows", "wf"])
    add_definition_verbs(verbs, "workflow", "workflows", COLUMNS, SHOW_COLUMNS,
                         plural="workflows")
    add_graph_verb(verbs, "workflow")
