"""The API's use of the workflow language (wfaas.lang): parse, validate, describe.

Imports of :mod:`wfaas.lang` are deferred to the call so the app can be built
(and its OpenAPI document served) on its own.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from wfaas.exceptions import DSLError, Problem, WfaasError

LOG = logging.getLogger(__name__)
VERSION_HEADER = "version: '2.0'\n"
F = TypeVar("F", bound=Callable[..., Any])


def _client_errors(func: F) -> F:
    """A document the parser chokes on is the client's 400, never a 500 (logged in full)."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except WfaasError:
            raise
        except Exception as exc:  # noqa: BLE001 - a parser defect must not become a 500
            LOG.warning("The DSL parser failed on a submitted document", exc_info=exc)
            raise DSLError(f"Invalid document: {type(exc).__name__}: {exc}") from exc
    return wrapper  # type: ignore[return-value]


@_client_errors
def parse_workflows(text: str, max_bytes: int) -> list[Any]:
    """Workflow specs of ``text``; DSLError (400, every problem) or DocumentTooLarge (413)."""
    from wfaas.lang import parse_workflows as parse

    specs: list[Any] = parse(text, max_bytes=max_bytes)
    if not specs:
        raise DSLError("The document defines no workflow")
    return specs


@_client_errors
def parse_workbook(text: str, max_bytes: int) -> Any:
    """The workbook spec of ``text``."""
    from wfaas.lang import parse_workbook as parse

    return parse(text, max_bytes=max_bytes)


@_client_errors
def parse_actions(text: str, max_bytes: int) -> list[Any]:
    """Ad-hoc action specs of ``text``."""
    from wfaas.lang import parse_actions as parse

    specs: list[Any] = parse(text, max_bytes=max_bytes)
    if not specs:
        raise DSLError("The document defines no action")
    return specs


def render_input(params: Any) -> str:
    """Mistral's input string of a spec's input parameters."""
    from wfaas.lang import render_input as render

    return str(render(params))


def input_schema(params: Any) -> dict[str, Any]:
    """JSON Schema of a spec's input parameters (an ad-hoc action's ``params_schema``)."""
    from wfaas.lang.inline import input_json_schema

    return input_json_schema(params)


def interface_input(params: Any) -> list[Any]:
    """The ``interface.input`` list: ``name`` or ``{name: default}`` per parameter."""
    return [{p.name: p.default} if p.has_default else p.name for p in params]


def interface_of_spec(spec: Any) -> dict[str, Any]:
    """``{"input": [...], "output": [keys]}`` of a workflow spec."""
    output = spec.output if isinstance(spec.output, dict) else {}
    return {"input": interface_input(spec.input), "output": list(output)}


def interface_of_definition(definition: str) -> dict[str, Any]:
    """The interface of a stored definition (a whole document or a workbook's section)."""
    from wfaas.lang import parse_workflows_cached

    for text in (definition, VERSION_HEADER + definition):
        try:
            specs = parse_workflows_cached(text)
        except Exception:  # noqa: BLE001 - a stored section may need the version header
            continue
        if specs:
            return interface_of_spec(specs[0])
    return {"input": [], "output": []}


@_client_errors
def validation_answer(text: str, kind: str) -> dict[str, Any]:
    """``{"valid": bool, "error": str|None, "problems": [...]}`` (always HTTP 200)."""
    from wfaas.lang import validate_text

    problems: list[Problem] = list(validate_text(text, kind))
    if not problems:
        return {"valid": True, "error": None}
    return {"valid": False,
            "error": "Invalid DSL: " + "\n".join(str(p) for p in problems),
            "problems": [p.to_dict() for p in problems]}
