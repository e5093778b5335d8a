"""The ``import-mistral`` and ``purge`` subcommands of ``wfaas-db-manage``.

    wfaas-db-manage import-mistral --from URL [--dry-run] [--with-history] [--json]
    wfaas-db-manage purge [--older-than MINUTES] [--max-finished N] [--dry-run] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from wfaas.db import migration
from wfaas.db.session import session_scope


def add_commands(sub: Any) -> None:
    """Register the subcommands on ``wfaas-db-manage``'s subparsers."""
    imp = sub.add_parser("import-mistral", help="import a Mistral database (definitions, "
                         "environments, triggers, members, optionally history)")
    imp.add_argument("--from", dest="source", required=True, metavar="URL",
                     help="SQLAlchemy URL of the Mistral database, e.g. "
                     "mysql+pymysql://user:pw@host/mistral, postgresql+psycopg://..., "
                     "sqlite:////var/lib/mistral/mistral.db")
    imp.add_argument("--dry-run", action="store_true", help="report, write nothing")
    imp.add_argument("--with-history", action="store_true",
                     help="also import finished executions (with their tasks and actions)")
    imp.add_argument("--catch-up", action="store_true",
                     help="imported cron triggers fire a run missed during the switch-over "
                     "once (sets catch_up); default: a run late by more than [cron_trigger] "
                     "misfire_grace_time is skipped")
    imp.add_argument("--json", action="store_true", help="print the summary as JSON")
    imp.add_argument("--quiet", action="store_true", help="no progress lines")
    purge = sub.add_parser("purge", help="delete finished executions (whole trees)")
    purge.add_argument("--older-than", type=float, metavar="MINUTES",
                       help="finished more than MINUTES ago (default: "
                       "[execution_expiration_policy] older_than)")
    purge.add_argument("--max-finished", type=int, metavar="N",
                       help="keep at most N finished root executions")
    purge.add_argument("--batch-size", type=int, metavar="N",
                       help="executions deleted per transaction")
    purge.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    purge.add_argument("--json", action="store_true", help="print the result as JSON")


COMMANDS = ("import-mistral", "purge")


def dispatch(args: argparse.Namespace, engine: Any, conf: Any) -> int:
    """Run one of :data:`COMMANDS`; the exit code."""
    migration.ensure_schema(engine)
    if args.command == "import-mistral":
        return _import(args, engine)
    return _purge(args, engine, conf)


def _import(args: argparse.Namespace, engine: Any) -> int:
    from wfaas.migration.importer import import_mistral
    from wfaas.migration.source import SourceError

    def progress(msg: str) -> None:
        if not args.quiet and not args.json:
            print(f"  {msg}", file=sys.stderr)

    try:
        with session_scope(engine) as session:
            report = import_mistral(args.source, session, dry_run=args.dry_run,
                                    with_history=args.with_history, progress=progress,
                                    catch_up=args.catch_up)
    except SourceError as exc:
        print(f"wfaas-db-manage import-mistral: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report.to_json(), indent=2, default=str) if args.json
          else report.table())
    return 0


def _purge(args: argparse.Namespace, engine: Any, conf: Any) -> int:
    from wfaas.services.retention import RetentionPolicy, purge

    policy = RetentionPolicy.from_conf(conf)
    policy = policy.override(older_than=args.older_than, max_finished=args.max_finished,
                             batch_size=args.batch_size)
    if not policy.active():
        print("wfaas-db-manage purge: nothing to do: give --older-than or --max-finished "
              "(or set [execution_expiration_policy] older_than / max_finished_executions)",
              file=sys.stderr)
        return 2
    result = purge(engine, policy, dry_run=args.dry_run)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(result.summary())
    return 0
