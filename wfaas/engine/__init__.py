"""The pure workflow engine: decide(spec, state, event, now) -> (state, commands).

This package imports only wfaas.lang, wfaas.expressions, wfaas.utils and
wfaas.exceptions (enforced by tests/unit/engine/test_purity.py).
"""
