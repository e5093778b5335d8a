"""wfbench: a stdlib-only benchmark harness for Mistral-compatible REST API v2 servers.

It runs the same workloads against wfaas and against OpenStack Mistral so the numbers
compare. Entry point: ``python3 tools/bench/bench.py`` (see docs/bench.md).
"""

__version__ = "1.0"
