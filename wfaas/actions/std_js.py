"""std.javascript / std.js: evaluate JavaScript in an embedded V8 (PyPI ``mini-racer``).

The script is the body of a function (so it must ``return`` its result);
``context`` is visible as ``$``. The result goes through ``JSON.stringify`` and
back, so it is plain JSON data (``undefined`` -> null). Each run gets a fresh
V8 context, a time limit (``timeout``, default 60 s) and a memory limit.
"""

from __future__ import annotations

import json
from typing import Any

from wfaas.actions.base import Action, ActionContext, ActionException

DEFAULT_TIMEOUT = 60.0
MAX_MEMORY_BYTES = 256 * 1024 * 1024


def evaluate_js(script: str, context: Any = None, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """Run ``script`` as a function body with ``$`` = ``context``; return its JSON value."""
    try:
        from py_mini_racer import MiniRacer
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ActionException("std.javascript needs the 'mini-racer' package "
                              "(pip install mini-racer)") from exc
    code = (f"var $ = {json.dumps(context)};\n"
            f"function __wfaas_f() {{\n{script}\n}}\n"
            f"JSON.stringify(__wfaas_f());")
    racer = MiniRacer()
    try:
        out = racer.eval(code, timeout_sec=timeout, max_memory=MAX_MEMORY_BYTES)
    except Exception as exc:  # noqa: BLE001 - JSEvalException, JSTimeoutException, JSOOM...
        first = str(exc).strip().splitlines()
        message = next((line for line in first if "Error" in line), first[0] if first else "")
        raise ActionException(f"JavaScript failed: {type(exc).__name__}: {message}") from exc
    finally:
        racer.close()
    if not isinstance(out, str):
        return None
    return json.loads(out)


class JavaScriptAction(Action):
    """Evaluates a JavaScript function body with the given context available as $."""

    def __init__(self, script: str, context: Any = None) -> None:
        self.script = script
        self.context = context

    def run(self, context: ActionContext) -> Any:
        """Evaluate and return the JSON result."""
        return evaluate_js(self.script, self.context)
