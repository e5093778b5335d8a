"""Keep the objects of the server's start out of Python's full garbage collections.

A started server holds ~130,000 tracked objects that live as long as the process:
modules, SQLAlchemy's tables and compiled statements, the action descriptors, yaql's
functions. Each full (generation 2) collection traverses all of them, and one fires
whenever the objects that survived younger collections reach a quarter of the
long-lived ones. Work that keeps many objects alive for a while (a with-items of 200
sub-workflows: their cached states, rows and events) triggers one: measured in process,
a single full collection took ~90 ms of the ~290 ms of CPU such a run costs.

:func:`freeze_startup` collects once and moves every object alive at that point into
the permanent generation (:func:`gc.freeze`): later full collections traverse only what
was created after the start. Objects frozen are never freed by the collector, so it
runs once, when the server is built and before it serves.
"""

from __future__ import annotations

import gc
import logging

LOG = logging.getLogger(__name__)


def freeze_startup() -> int:
    """Collect, then freeze every object alive now; returns how many were frozen."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    LOG.debug("%d objects of the start moved out of the garbage collections", frozen)
    return frozen
