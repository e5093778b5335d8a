"""Apply the process-wide parts of a configuration (the expression evaluators).

``Runtime.from_config(conf)`` calls :func:`configure_process`; everything else a
runtime builds gets ``conf`` handed to it (providers, executor, triggers).
"""

from __future__ import annotations

from typing import Any


def configure_process(conf: Any) -> None:
    """``[expressions]`` and ``[yaql]`` -> the YAQL/Jinja evaluators of this process
    (languages, YAQL limits and the evaluation budget)."""
    from wfaas.services import expression_settings

    expression_settings.apply(conf)
