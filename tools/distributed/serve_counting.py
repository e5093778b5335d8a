"""``wfaas-server`` (as serve.py) that also counts the engine's compare-and-set conflicts.

    WFAAS_CAS_COUNTS=/tmp/dir python tools/distributed/serve_counting.py --config-file f.conf \\
        --server engine

An engine step that loses the compare-and-set on its execution's ``version`` (another
engine wrote it first) logs "Execution ... changed concurrently" (DEBUG for the first
two attempts) and is redone; a batch of steps that fails is replayed one by one
("Batched step failed"). This launcher counts both messages with a filter on the
engine's logger (the DEBUG records are counted and dropped, nothing is printed) and
writes ``{"conflicts": n, "batch_replays": n}`` to ``$WFAAS_CAS_COUNTS/<pid>.json``
every half second. It changes no wfaas code, so it counts an older tree the same way
(``PYTHONPATH=<tree>``).

``WFAAS_SIM_STEP_WAIT=<seconds>`` simulates engines that *wait* rather than compute
(a database across a network, a slow disk): each execution written by a step first
waits that long, inside the step's transaction. With ``[engine] workers = 1`` an
engine then applies at most ``1 / wait`` execution steps a second whatever the
number of cores, so a 2-core machine can show what a second engine adds.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

COUNTS = {"conflicts": 0, "batch_replays": 0}


class _Count(logging.Filter):
    """Counts the conflict messages; lets only records of INFO and above through."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = str(record.msg)
        if "changed concurrently" in text:
            COUNTS["conflicts"] += 1
        elif "Batched step failed" in text:
            COUNTS["batch_replays"] += 1
        return record.levelno >= logging.INFO


def _write(path: Path) -> None:
    while True:
        path.write_text(json.dumps(COUNTS))
        threading.Event().wait(0.5)


def _slow_steps(wait: float) -> None:
    """Make every execution a step writes wait ``wait`` s first (see the docstring)."""
    from wfaas.services import engine_service

    persist = engine_service.EngineService._persist

    def slow_persist(self: Any, session: Any, decided: Any) -> None:
        time.sleep(wait)
        persist(self, session, decided)

    engine_service.EngineService._persist = slow_persist  # type: ignore[method-assign]


def main() -> int:
    """Install the counter, then run the server like serve.py."""
    out = os.environ.get("WFAAS_CAS_COUNTS")
    if out:
        log = logging.getLogger("wfaas.services.engine_service")
        log.setLevel(logging.DEBUG)
        log.addFilter(_Count())
        Path(out).mkdir(parents=True, exist_ok=True)
        threading.Thread(target=_write, args=(Path(out) / f"{os.getpid()}.json",),
                         daemon=True).start()
    wait = float(os.environ.get("WFAAS_SIM_STEP_WAIT") or 0)
    if wait > 0:
        _slow_steps(wait)
    import serve  # the sibling launcher (loads the global CONF too)

    return serve.main()


if __name__ == "__main__":
    sys.exit(main())
