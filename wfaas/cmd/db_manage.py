"""``wfaas-db-manage``: create and migrate the database schema, load actions.

    wfaas-db-manage [--config-file FILE] upgrade [REVISION]   (default head)
    wfaas-db-manage [--config-file FILE] downgrade REVISION
    wfaas-db-manage [--config-file FILE] current
    wfaas-db-manage [--config-file FILE] history
    wfaas-db-manage [--config-file FILE] stamp REVISION
    wfaas-db-manage [--config-file FILE] populate
    wfaas-db-manage [--config-file FILE] import-mistral --from URL [--dry-run] [--with-history]
    wfaas-db-manage [--config-file FILE] purge [--older-than MINUTES] [--dry-run]

The configuration is read as ``wfaas-server`` reads it: the ``--config-file``
files (and ``--config-dir``), else oslo.config's default locations
(``~/.wfaas/wfaas.conf``, ``~/wfaas.conf``, ``/etc/wfaas/wfaas.conf``,
``/etc/wfaas.conf``). The database is ``[database] connection`` (SQLite under
``[DEFAULT] state_dir`` when empty); ``--database URL`` overrides it. Every
command first prints which database it works on (password masked) and where
that came from.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from oslo_config import cfg

from wfaas import config
from wfaas.cmd.logsetup import configured, setup_logging
from wfaas.db import migration
from wfaas.db.config import database_url
from wfaas.db.session import make_engine, session_scope
from wfaas.migration import cli as migration_cli


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wfaas-db-manage",
                                     description="Manage the wfaas database schema.")
    parser.add_argument("--config-file", action="append", default=[], metavar="FILE",
                        help="oslo.config file (may be repeated); default: the files "
                             "wfaas-server reads by default")
    parser.add_argument("--config-dir", metavar="DIR",
                        help="directory of *.conf files read after the --config-file files")
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


def _load_conf(files: Sequence[str], config_dir: str | None = None) -> cfg.ConfigOpts:
    """The process's configuration, loaded exactly as ``wfaas-server`` loads it."""
    args = [arg for f in files for arg in ("--config-file", f)]
    if config_dir:
        args += ["--config-dir", config_dir]
    return config.load(args, prog="wfaas-db-manage")


def describe_database(url: str, conf: cfg.ConfigOpts, overridden: bool) -> str:
    """``Database: <url, password masked> (<where the URL came from>)``."""
    from sqlalchemy.engine import make_url

    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL fails later with its own message
        shown = "<unparsable URL>"
    if overridden:
        source = "--database"
    else:
        files = config.config_files(conf)
        where = ", ".join(files) if files else "no configuration file found"
        setting = ("[database] connection" if conf.database.connection
                   else f"[DEFAULT] state_dir = {conf.state_dir}")
        source = f"{setting}; {where}"
    return f"Database: {shown} ({source})"


def _populate(engine: object, conf: cfg.ConfigOpts) -> str:
    from wfaas.actions.populate import populate
    from wfaas.actions.registry import default_providers

    with session_scope(engine) as session:  # type: ignore[arg-type]
        counts = populate(session, default_providers(
            conf=conf, strict=bool(conf.actions.fail_on_broken_pack)))
    return ", ".join(f"{k}={v}" for k, v in counts.items())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``wfaas-db-manage``."""
    args = _parser().parse_args(argv)
    try:
        conf = _load_conf(args.config_file, args.config_dir)
        url = args.database or database_url(conf)
        if configured(conf):
            setup_logging(conf, default_level=logging.WARNING)
    except (cfg.Error, OSError, ValueError, KeyError) as exc:
        print(f"wfaas-db-manage: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command != "history":
        print(describe_database(url, conf, bool(args.database)), file=sys.stderr)
    engine = None
    try:
        engine = make_engine(url)
        if args.command in migration_cli.COMMANDS:
            return migration_cli.dispatch(args, engine, conf)
        return _dispatch(args, engine, conf)
    except Exception as exc:  # noqa: BLE001 - a clear message, not a traceback
        print(f"wfaas-db-manage {args.command}: {exc.__class__.__name__}: {exc}",
              file=sys.stderr)
        return 1
    finally:
        if engine is not None:
            engine.dispose()


def _dispatch(args: argparse.Namespace, engine: object, conf: cfg.ConfigOpts) -> int:
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
        print(f"Actions populated: {_populate(engine, conf)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
