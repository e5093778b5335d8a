"""Execution partitions: which engine queue an execution's events travel on.

Executions are partitioned by execution id (``crc32(id) % PARTITIONS``). A
broker transport routes every event of execution X to the queue of
``partition_of(X)``, and only the engine owning that partition consumes it
(:mod:`wfaas.services.ownership` decides the owners). The function is here,
below both, so that the transport and the ownership agree on it.
"""

from __future__ import annotations

import zlib

PARTITIONS = 64


def partition_of(execution_id: str) -> int:
    """The partition of an execution (stable across processes and restarts)."""
    return zlib.crc32(execution_id.encode()) % PARTITIONS
