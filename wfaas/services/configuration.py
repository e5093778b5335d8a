"""Apply the process-wide parts of a configuration (the expression evaluators).

``Runtime.from_config(conf)`` calls :func:`configure_process`; everything else a
runtime builds gets ``conf`` handed to it (providers, executor, triggers).
"""

from __future__ import annotations

from typing import Any


def configure_process(conf: Any) -> None:
    """``[expressions]`` and ``[yaql]`` -> the YAQL/Jinja evaluators of this process."""
    from wfaas.expressions import configure

    configure(allowed_languages=list(conf.expressions.allowed_languages),
              limit_iterators=int(conf.yaql.limit_iterators),
              memory_quota=int(conf.yaql.memory_quota),
              timeout=float(conf.expressions.evaluation_timeout))
