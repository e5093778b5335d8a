"""Differential test harness: run Mistral behaviour cases against any Mistral v2 API.

``python -m tools.difftest --record --url http://127.0.0.1:8989/v2`` records golden files from the
real Mistral; ``python -m tools.difftest --url <wfaas>/v2`` replays them and prints differences.
See docs/difftest.md.
"""
