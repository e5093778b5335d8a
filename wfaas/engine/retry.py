"""The retry delay and error filter of the wfaas retry extension (pure, no I/O).

Mistral's ``retry`` waits ``delay`` seconds before every new attempt. wfaas adds
(docs/lang.md, "Retry with backoff"), all optional:

- ``backoff``: ``constant`` (Mistral's: ``delay`` every time), ``linear``
  (``delay * n`` before the n-th retry) or ``exponential``
  (``delay * multiplier ** (n - 1)``);
- ``multiplier``: the growth of ``exponential`` (default 2);
- ``max-delay``: no wait is longer than this many seconds;
- ``jitter``: ``true`` or a fraction ``f`` in (0, 1]: the wait is shortened by a
  random part of up to ``f`` of it (``true`` = 1, "full jitter"), so that many
  tasks failing together do not retry together. The random part is derived from
  the task and retry number, so a decision is reproducible;
- ``on-errors``: regular expressions; a failed attempt is retried only when its
  error (the action's error result, or the task's state info) matches one of
  them (``re.search``), like Step Functions' ``ErrorEquals``.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

BACKOFFS = ("constant", "linear", "exponential")
DEFAULT_MULTIPLIER = 2.0
#: a longer wait overflows a float timer long before this; keeps ``**`` bounded
MAX_SECONDS = 10 * 365 * 86400.0


def jitter_fraction(value: Any) -> float:
    """``jitter`` as a fraction in [0, 1] (``true`` = 1, ``false``/None = 0)."""
    if value is None or value is False:
        return 0.0
    if value is True:
        return 1.0
    fraction = float(value)
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"jitter must be true, false or a fraction between 0 and 1, "
                         f"not {value!r}")
    return fraction


def _unit_random(seed: str) -> float:
    """A number in [0, 1) that depends only on ``seed``."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0 ** 64


def retry_delay(delay: float, retry_no: int, *, backoff: str | None = None,
                multiplier: float | None = None, max_delay: float | None = None,
                jitter: Any = None, seed: str = "") -> float:
    """Seconds to wait before retry number ``retry_no`` (1 = the first retry)."""
    kind = backoff or "constant"
    if kind not in BACKOFFS:
        raise ValueError(f"backoff must be one of {', '.join(BACKOFFS)}, not {backoff!r}")
    n = max(1, int(retry_no))
    if kind == "linear":
        wait = delay * n
    elif kind == "exponential":
        factor = DEFAULT_MULTIPLIER if multiplier is None else float(multiplier)
        if factor <= 0:
            raise ValueError(f"multiplier must be positive, not {multiplier!r}")
        try:
            wait = delay * factor ** (n - 1)
        except OverflowError:
            wait = MAX_SECONDS
    else:
        wait = delay
    wait = min(wait, MAX_SECONDS)
    if max_delay is not None:
        wait = min(wait, max(0.0, float(max_delay)))
    fraction = jitter_fraction(jitter)
    if fraction and wait > 0:
        wait -= wait * fraction * _unit_random(f"{seed}#{n}")
    return max(0.0, wait)


def error_text(result: Any, info: str | None) -> str:
    """The text ``on-errors`` patterns are matched against: the error result (JSON when
    it is not a string) and the state info."""
    parts = []
    if result is not None:
        parts.append(result if isinstance(result, str) else
                     json.dumps(result, sort_keys=True, default=str))
    if info:
        parts.append(info)
    return "\n".join(parts)


def error_matches(patterns: tuple[str, ...] | list[str], result: Any,
                  info: str | None) -> bool:
    """Whether a failed attempt may be retried under ``on-errors`` (no patterns: yes)."""
    if not patterns:
        return True
    text = error_text(result, info)
    return any(re.search(p, text) for p in patterns)
