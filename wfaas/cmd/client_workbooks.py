"""``wfaas workbook ...``: workbooks (workflows and actions grouped under one name)."""

from __future__ import annotations

from typing import Any

from wfaas.cmd.client_common import resource_parser
from wfaas.cmd.client_definitions import add_definition_verbs

COLUMNS = ("name", "namespace", "tags", "scope", "created_at", "updated_at")
SHOW_COLUMNS = ("id", "name", "namespace", "tags", "scope", "project_id", "created_at",
                "updated_at")


def add_parser(subparsers: Any) -> None:
    """Register ``wfaas workbook``."""
    verbs = resource_parser(subparsers, "workbook", "manage workbooks", aliases=["workbooks"])
    add_definition_verbs(verbs, "workbook", "workbooks", COLUMNS, SHOW_COLUMNS,
                         plural="workbooks")
