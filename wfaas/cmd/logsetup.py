"""Logging of every wfaas command from ``[DEFAULT] debug, log_file, log_dir,
log_config_append, use_json`` (oslo.log's option names, as in mistral.conf).

``log_config_append`` names a logging configuration file that replaces the rest:
an INI file for :func:`logging.config.fileConfig` (what oslo.log reads), or a
``.json``/``.yaml``/``.yml`` file for :func:`logging.config.dictConfig`.
Otherwise one handler is installed on the root logger: ``log_file`` (appended;
relative to ``log_dir`` when given) or standard error, text or JSON lines
(``use_json``), at DEBUG (``debug``) or INFO.
"""

from __future__ import annotations

import json
import logging
import logging.config
import os
import sys
from typing import Any

from wfaas.utils.logcontext import ContextFilter, JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_installed: list[logging.Handler] = []


def log_path(conf: Any) -> str | None:
    """The file the log goes to, or None for standard error."""
    if not conf.log_file:
        return None
    path = os.path.expanduser(str(conf.log_file))
    if conf.log_dir and not os.path.isabs(path):
        path = os.path.join(os.path.expanduser(str(conf.log_dir)), path)
    return path


def setup_logging(conf: Any, default_level: int = logging.INFO) -> None:
    """Configure the root logger from ``conf`` (replaces what an earlier call installed).

    ``default_level`` applies without ``debug`` (the offline commands pass WARNING so
    that their own output stays readable)."""
    root = logging.getLogger()
    for old in _installed:
        root.removeHandler(old)
        old.close()
    _installed.clear()
    if conf.log_config_append:
        _from_file(os.path.expanduser(str(conf.log_config_append)))
        return
    path = log_path(conf)
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    handler: logging.Handler = (logging.FileHandler(path, encoding="utf-8") if path
                                else logging.StreamHandler(sys.stderr))
    handler.setFormatter(JsonFormatter() if conf.use_json else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if conf.debug else default_level)
    _installed.append(handler)


def configured(conf: Any) -> bool:
    """True when ``conf`` asks for any logging set-up (the offline commands log nothing
    of their own otherwise)."""
    return bool(conf.log_file or conf.log_config_append or conf.debug or conf.use_json)


def _from_file(path: str) -> None:
    if path.endswith((".json", ".yaml", ".yml")):
        with open(path, encoding="utf-8") as fh:
            if path.endswith(".json"):
                data = json.load(fh)
            else:
                import yaml

                data = yaml.safe_load(fh)
        logging.config.dictConfig(data)
    else:
        logging.config.fileConfig(path, disable_existing_loggers=False)
    for handler in logging.getLogger().handlers:  # the context, whatever the formatter
        handler.addFilter(ContextFilter())
