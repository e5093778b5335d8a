"""Hands the ``[expressions]`` and ``[yaql]`` options to the expression evaluators.

The evaluators (a pure layer) read no configuration: the shell calls
:func:`apply` once with the process's configuration object.
"""

from __future__ import annotations

from oslo_config import cfg

from wfaas import expressions


def apply(conf: cfg.ConfigOpts) -> None:
    """Configure expression evaluation (languages, YAQL limits, the budget) from ``conf``."""
    group = conf.expressions
    expressions.configure(
        allowed_languages=group.allowed_languages,
        limit_iterators=conf.yaql.limit_iterators,
        memory_quota=conf.yaql.memory_quota,
        timeout=group.evaluation_timeout,
        max_fuel=group.max_fuel,
        max_value_size_kb=group.max_value_size_kb,
        max_total_size_kb=group.max_total_size_kb,
        max_int_bits=group.max_int_bits,
        regex_fallback=group.regex_fallback,
    )
