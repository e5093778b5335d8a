"""Database settings from oslo.config: the URL of the configured database."""

from __future__ import annotations

from oslo_config import cfg
from sqlalchemy import Engine

from wfaas.db.session import default_url, make_engine


def database_url(conf: cfg.ConfigOpts) -> str:
    """``[database] connection`` or, when empty, the SQLite file under state_dir."""
    url = conf.database.connection
    return url or default_url(conf.state_dir)


def engine_from_config(conf: cfg.ConfigOpts) -> Engine:
    """An engine for the configured database."""
    return make_engine(database_url(conf), pool_size=conf.database.max_pool_size)
