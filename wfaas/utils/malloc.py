"""Keep the server's memory from growing with the large values it has handled.

glibc's ``malloc`` raises its mmap threshold each time a large block is freed (up to
32 MB): after one 1 MB value has come and gone, later 1 MB strings (request bodies,
JSON texts of a large input or context) are carved from the heap arenas, and each of
the server's threads may get an arena of its own, so freed memory stays in the process.
Measured with the context family (1 MB values, tools/bench/families): peak RSS 156-158
MB with glibc's defaults, 144-147 MB with a fixed threshold and two arenas.

:func:`tune` fixes the threshold (blocks above it are mapped and given back to the
system when freed) and caps the arenas, unless the operator set either through glibc's
own environment variables. It must run before the process starts its threads. No-op
on other C libraries.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

LOG = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MMAP_THRESHOLD = 128 * 1024
ARENA_MAX = 2


def tune() -> bool:
    """Apply the settings above; True when glibc took them."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    done = True
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and done
    if "MALLOC_ARENA_MAX" not in os.environ:
        done = bool(mallopt(M_ARENA_MAX, ARENA_MAX)) and done
    if not done:
        LOG.debug("mallopt refused a setting; glibc's defaults stay")
    return done
