"""The workflow language v2: YAML text to typed, validated specs.

Public API (the contract other packages code against):

- :func:`parse_workflows`, :func:`parse_workbook`, :func:`parse_actions`: text to specs,
  raising :class:`wfaas.exceptions.DSLError` whose ``problems`` list every problem
  (:class:`wfaas.exceptions.DocumentTooLarge` over ``max_bytes``);
- :func:`parse_workflows_cached`: the same, memoised by content hash;
- :func:`validate_text`, :func:`detect_kind`: problems of any document, and its kind;
- :func:`parse_inline_params`, :func:`render_input`: the one-line syntaxes;
- :func:`json_schema`: the published JSON Schema (also ``dsl-v2.schema.json``).
"""

from wfaas.lang.documents import (
    KINDS,
    clear_cache,
    detect_kind,
    parse_actions,
    parse_workbook,
    parse_workflows,
    parse_workflows_cached,
    validate_text,
)
from wfaas.lang.inline import parse_inline_params, render_input
from wfaas.lang.schema import json_schema

__all__ = [
    "KINDS",
    "clear_cache",
    "detect_kind",
    "json_schema",
    "parse_actions",
    "parse_inline_params",
    "parse_workbook",
    "parse_workflows",
    "parse_workflows_cached",
    "render_input",
    "validate_text",
]
