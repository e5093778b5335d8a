"""The names of execution states as they travel on the wire (Mistral's), for every layer.

A leaf, so that the API, the client and the CLI use the same names without importing
the engine; the transition tables and the rest of the state logic are
:mod:`wfaas.engine.states`.
"""

from __future__ import annotations

IDLE = "IDLE"
WAITING = "WAITING"
RUNNING = "RUNNING"
RUNNING_DELAYED = "RUNNING_DELAYED"
PAUSED = "PAUSED"
SUCCESS = "SUCCESS"
ERROR = "ERROR"
CANCELLED = "CANCELLED"
SKIPPED = "SKIPPED"

#: the states a task execution ends in
TERMINAL: frozenset[str] = frozenset({SUCCESS, ERROR, CANCELLED, SKIPPED})
#: the states a workflow execution (or an action execution) ends in
WORKFLOW_TERMINAL: frozenset[str] = frozenset({SUCCESS, ERROR, CANCELLED})


#: Mistral stores at most this many characters of a state_info (then "...")
STATE_INFO_CHARS = 65500


def cut_state_info(info: str | None) -> str | None:
    """``info`` cut as Mistral stores every execution's state_info (workflow, task and
    action: a ``set`` listener on its models applies ``mistral_lib.utils.cut``)."""
    if info is None or len(info) <= STATE_INFO_CHARS:
        return info
    return info[:STATE_INFO_CHARS] + "..."
