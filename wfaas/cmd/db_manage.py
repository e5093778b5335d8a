"""``wfaas-db-manage``: create and migrate the database schema, load actions.

    wfaas-db-manage [--config-file FILE] upgrade [REVISION]   (default head)
    wfaas-db-manage [--config-file FILE] downgrade REVISION
    wfaas-db-manage [--config-file FILE] current
    wfaas-db-manage [--config-file FILE] history
    wfaas-db-manage [--config-file FILE] stamp REVISION
    wfaas-db-manage [--config-file FILE] populate
    wfaas-db-manage [--config-file FILE] import-mistral --from URL [--dry-run] [--with-history]
    wfaas-db-manage [--config-file FILE] purge [--older-than MINUTES] [--dry-run]

The database is ``[database] connection`` (SQLite under ``[DEFAULT] state_dir``
when empty); ``--database URL`` overrides it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from oslo_config import cfg

from wfaas import config
from wfaas.db import migration
from wfaas.db.config import database_url
from wfaas.db.session import make_engine, session_scope
from wfaas.migration import cli as migration_cli


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wfaas-db-manage",
                                     description="Manage the wfaas database schema.")
    parser.add_argument("--config-file", action="append", default=[], metavar="FILE",
                        help="oslo.config file (may be repeated)")
    parser.add_argument("--database", metavar="URL", help="SQLAlchemy URL (overrides config)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    up = sub.add_parser("upgrade", help="migrate up to REVISION (default: head)")
    up.add_argument("revision", nargs="?", default="head")
    down = sub.add_parser("downgrade", help="migrate down to REVISION ('base': empty)")
    down.add_argument("revision")
    sub.add_parser("current", help="print the revision the database is at")
    sub.add_parser("history", help="list the revisions")
    st = sub.add_parser("stamp", help="record REVISION without migrating")
    st.add_argument("revision")
    sub.add_parser("populate", help="(re)load the action definitions of installed actions")
    migration_cli.add_commands(sub)
    return parser


def _load_conf(files: Sequence[str]) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    config.register_opts(conf)
    conf(args=[], project="wfaas", default_config_files=list(files))
    return conf


def _populate(engine: object) -> str:
    from wfaas.actions.populate import populate
    from wfaas.actions.registry import default_providers

    with session_scope(engine) as session:  # type: ignore[arg-type]
        counts = populate(session, default_providers())
    return ", ".join(f"{k}={v}" for k, v in counts.items())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``wfaas-db-manage``."""
    args = _parser().parse_args(argv)
    try:
        conf = _load_conf(args.config_file)
        url = args.database or database_url(conf)
    except (cfg.Error, OSError) as exc:
        print(f"wfaas-db-manage: configuration error: {exc}", file=sys.stderr)
        return 2
    engine = None
    try:
        engine = make_engine(url)
        if args.command in migration_cli.COMMANDS:
            return migration_cli.dispatch(args, engine, conf)
        return _dispatch(args, engine)
    except Exception as exc:  # noqa: BLE001 - a clear message, not a traceback
        print(f"wfaas-db-manage {args.command}: {exc.__class__.__name__}: {exc}",
              file=sys.stderr)
        return 1
    finally:
        if engine is not None:
            engine.dispose()


def _dispatch(args: argparse.Namespace, engine: object) -> int:
    cmd = args.command
    if cmd == "upgrade":
        migration.upgrade(engine, args.revision)  # type: ignore[arg-type]
        print(f"Database at revision {migration.current_revision(engine)}")  # type: ignore
    elif cmd == "downgrade":
        migration.downgrade(engine, args.revision)  # type: ignore[arg-type]
        print(f"Database at revision {migration.current_revision(engine)}")  # type: ignore
    elif cmd == "current":
        rev = migration.current_revision(engine)  # type: ignore[arg-type]
        head = migration.head_revision()
        print(f"{rev or '<none>'}{' (head)' if rev == head else ''}")
    elif cmd == "history":
        print("\n".join(migration.history()))
    elif cmd == "stamp":
        migration.stamp(engine, args.revision)  # type: ignore[arg-type]
        print(f"Database stamped at {migration.current_revision(engine)}")  # type: ignore
    elif cmd == "populate":
        migration.ensure_schema(engine)  # type: ignore[arg-type]
        print(f"Actions populated: {_populate(engine)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
