#!/usr/bin/env python3
"""Benchmark a Mistral-compatible server (wfaas or OpenStack Mistral) over REST API v2.

Stdlib only. Run ``python3 tools/bench/bench.py --help``; see docs/bench.md.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from wfbench.cli import main  # noqa: E402

if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. piped into head
        sys.stderr.close()
        sys.exit(0)
