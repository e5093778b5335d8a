#!/usr/bin/env python3
"""Build a real Mistral 23 database for the import tests, through Mistral's own API.

Runs a private copy of the Mistral 23 anchor (``../shared/anchors/mistral``, whose venv
must already be installed in ``/tmp/anchors/mistral``) on its own port and base directory,
fills it with the real ``mistral`` client (workbook, workflows in two namespaces, public
and private, an ad-hoc action, an environment, cron triggers, an event trigger, finished
executions), adds what the API refuses without Keystone (members, a trust id) through
Mistral's own DB layer, stops it and copies the SQLite file to ``--out``.

``--mysql URL`` also creates Mistral's schema in that MySQL/MariaDB database (Mistral's
models through its ``init_db.py`` + ``mistral-db-manage stamp head``) and copies every row
there, so both databases hold the same content.

    python3 tests/functional/migration/make_mistral_db.py --out tests/fixtures/mistral/mistral23.db
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFS = HERE / "mistral_defs"
ANCHOR = Path(os.environ.get("MISTRAL_ANCHOR_SRC", "/work/shared/anchors/mistral"))
ANCHOR_VENV = Path(os.environ.get("MISTRAL_ANCHOR_VENV", "/tmp/anchors/mistral/venv"))
PROJECT = "<default-project>"

# What Mistral's API refuses with auth disabled (members, trusts, public scope: admin),
# written through mistral.db.v2.api.
EXTRA_ROWS = r'''
import sys
import mistral.cmd  # noqa: F401
from mistral import config, context
from mistral.db.v2 import api as db_api
config.parse_args(sys.argv[1:])
context.set_ctx(context.MistralContext(project_id="<default-project>", user_id="u-owner"))
wf = db_api.get_workflow_definition("hello", namespace="team_a")
db_api.create_resource_member({"resource_id": wf.id, "resource_type": "workflow",
                               "member_id": "proj-b", "status": "accepted"})
db_api.create_resource_member({"resource_id": wf.id, "resource_type": "workflow",
                               "member_id": "proj-c", "status": "pending"})
trig = db_api.get_cron_trigger("hourly")
db_api.update_cron_trigger(trig.name, {"trust_id": "trust-0123"})
db_api.update_workflow_definition("hello", {"scope": "public", "namespace": ""})
db_api.update_action_definition("my_concat", {"scope": "public", "namespace": ""})
print("extra rows written")
'''

COPY_ROWS = r'''
import sys
import sqlalchemy as sa
src = sa.create_engine("sqlite:///" + sys.argv[1])
dst = sa.create_engine(sys.argv[2])
smeta = sa.MetaData(); smeta.reflect(src)
dmeta = sa.MetaData(); dmeta.reflect(dst)
order = [t.name for t in smeta.sorted_tables if t.name != "alembic_version"]
mysql = dst.dialect.name == "mysql"
with src.connect() as s, dst.begin() as d:
    # executions and tasks reference each other: no FK checks while copying
    d.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0" if mysql else
                      "SET session_replication_role = replica")
    for name in reversed(order):
        d.execute(dmeta.tables[name].delete())
    for name in order:
        rows = [dict(r._mapping) for r in s.execute(smeta.tables[name].select())]
        if rows:
            d.execute(dmeta.tables[name].insert(), rows)
        print(name, len(rows))
    d.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1" if mysql else
                      "SET session_replication_role = DEFAULT")
'''


def _run(cmd: list[str], env: dict[str, str], check: bool = True) -> str:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n"
                           f"{proc.stderr}")
    return proc.stdout


class Anchor:
    """A private Mistral anchor instance (own base dir, port, database)."""

    def __init__(self, base: Path, port: int) -> None:
        self.base = base
        self.port = port
        self.url = f"http://127.0.0.1:{port}/v2"
        self.conf = base / "mistral.conf"
        self.env = dict(os.environ, MISTRAL_ANCHOR_BASE=str(base), MISTRAL_CONF=str(self.conf),
                        MISTRAL_URL=self.url, OS_MISTRAL_URL=self.url, PYTHONWARNINGS="ignore")
        for key in ("OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_CLOUD", "OS_TOKEN"):
            self.env.pop(key, None)

    def setup(self) -> None:
        """Fresh base directory sharing the installed venv, a conf on our port, a new DB."""
        self.base.mkdir(parents=True, exist_ok=True)
        venv = self.base / "venv"
        if not venv.exists():
            venv.symlink_to(ANCHOR_VENV)
        text = (ANCHOR / "mistral.conf").read_text()
        self.conf.write_text(text.replace("port = 8989", f"port = {self.port}"))
        db, clean = self.base / "mistral.db", self.base / "mistral.db.clean"
        db.unlink(missing_ok=True)
        if not clean.exists():  # schema + populate take minutes: done once per base
            _run(["bash", str(ANCHOR / "setup.sh")], self.env)
            shutil.copyfile(db, clean)
        shutil.copyfile(clean, db)

    def start(self) -> None:
        _run(["bash", str(ANCHOR / "start.sh")], self.env)

    def stop(self) -> None:
        _run(["bash", str(ANCHOR / "stop.sh")], self.env, check=False)

    def cli(self, *args: str) -> object:
        out = _run([str(ANCHOR_VENV / "bin" / "mistral"), *args, "-f", "json"], self.env)
        return json.loads(out) if out.strip() else None

    def python(self, code: str, *args: str) -> str:
        return _run([str(ANCHOR_VENV / "bin" / "python"), "-c", code, *args], self.env)


def fill(anchor: Anchor) -> list[str]:
    """Create every kind of object through the API; returns the execution ids."""
    cli = anchor.cli
    cli("action-create", str(DEFS / "actions.yaml"))  # --public needs admin
    cli("workflow-create", str(DEFS / "hello.yaml"))  # made public below (needs admin)
    cli("workflow-create", str(DEFS / "hello_team_a.yaml"), "--namespace", "team_a")
    for name in ("calc", "with_env", "fail_wf", "parent"):
        cli("workflow-create", str(DEFS / f"{name}.yaml"))
    cli("workbook-create", str(DEFS / "ops_wb.yaml"), "--namespace", "ops")
    cli("environment-create", str(DEFS / "prod_env.yaml"))
    runs = [
        ("hello", '{"name": "Ada"}', "{}", ""),
        ("hello", '{"name": "Bob"}', "{}", "team_a"),
        ("calc", '{"a": "x", "b": "y"}', "{}", ""),
        ("with_env", "{}", '{"env": "prod_env"}', ""),
        ("fail_wf", "{}", "{}", ""),
        ("parent", '{"who": "Cy"}', "{}", ""),
        ("ops_wb.loud", '{"text": "quiet"}', "{}", "ops"),
    ]
    ids = []
    for wf, inp, params, ns in runs:
        extra = ["--namespace", ns] if ns else []
        ex = cli("execution-create", wf, inp, params, *extra)
        ids.append(ex["ID"])  # type: ignore[index]
    hello = cli("workflow-get", "hello")
    far = "2099-01-01 00:00"
    cli("cron-trigger-create", "hourly", "hello", '{"name": "cron"}', "--pattern", "0 * * * *",
        "--first-time", far, "--utc")
    cli("cron-trigger-create", "counted", "calc", '{"a": "c", "b": "d"}', "--pattern",
        "*/5 * * * *", "--count", "3", "--first-time", far, "--utc")
    cli("cron-trigger-create", "once_only", "hello", '{"name": "once"}', "--first-time", far,
        "--utc")
    cli("event-trigger-create", "on_create", hello["ID"], "nova", "notifications",  # type: ignore[index]
        "compute.instance.create.end", '{"name": "event"}')
    return ids


def wait_finished(anchor: Anchor, ids: list[str], timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        states = [anchor.cli("execution-get", i)["State"] for i in ids]  # type: ignore[index]
        if all(s in ("SUCCESS", "ERROR", "CANCELLED") for s in states):
            return
        time.sleep(0.5)
    raise RuntimeError(f"executions not finished: {states}")


def shrink(db: Path) -> None:
    """Drop the populated system actions (thousands of rows nobody imports) and VACUUM."""
    con = sqlite3.connect(db)
    con.execute("DELETE FROM action_definitions_v2 WHERE is_system = 1 AND name NOT IN "
                "('std.echo', 'std.noop', 'std.fail')")
    con.commit()
    con.execute("VACUUM")
    con.close()


def copy_to_mysql(anchor: Anchor, db: Path, url: str) -> None:
    """Mistral's schema in ``url`` (its own models, stamped head) filled with the rows of ``db``
    (MySQL/MariaDB or PostgreSQL)."""
    env = dict(anchor.env, PYTHONPATH=str(anchor.base / "pylib"))
    paths = anchor.base / "mysql.conf"
    paths.write_text(f"[database]\nconnection = {url}\n")
    conf = ["--config-file", str(anchor.conf), "--config-file", str(paths)]
    py = str(ANCHOR_VENV / "bin" / "python")
    _run([py, "-c", "import sqlalchemy as sa, sys; e = sa.create_engine(sys.argv[1]);\n"
          "with e.begin() as c:\n    md = sa.MetaData(); md.reflect(c); md.drop_all(c)", url], env)
    _run([py, str(ANCHOR / "init_db.py"), *conf], env)
    _run([str(ANCHOR_VENV / "bin" / "mistral-db-manage"), *conf, "stamp", "head"], env)
    print(_run([py, "-c", COPY_ROWS, str(db), url], env))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True, help="where to write the SQLite database")
    p.add_argument("--base", type=Path, default=Path("/tmp/anchors/mistral-migrate"))
    p.add_argument("--port", type=int, default=8993, help="anchor API port (never 8989)")
    p.add_argument("--mysql", metavar="URL", help="also copy into this MySQL/MariaDB database "
                   "(PyMySQL installed under BASE/pylib)")
    p.add_argument("--no-shrink", action="store_true")
    p.add_argument("--postgres", metavar="URL", help="also copy into this PostgreSQL "
                   "database (psycopg installed under BASE/pylib); ?options=-csearch_path=S "
                   "selects a schema")
    p.add_argument("--mysql-only", action="store_true",
                   help="only copy an existing --out database into --mysql / --postgres")
    args = p.parse_args(argv)
    if args.port == 8989:
        p.error("port 8989 belongs to the shared anchor")
    if not (ANCHOR_VENV / "bin" / "mistral-server").exists():
        print(f"Mistral anchor not installed in {ANCHOR_VENV}", file=sys.stderr)
        return 2
    anchor = Anchor(args.base, args.port)
    if args.mysql_only:
        for url in filter(None, (args.mysql, args.postgres)):
            copy_to_mysql(anchor, args.out, url)
        return 0
    anchor.stop()
    anchor.setup()
    anchor.start()
    try:
        ids = fill(anchor)
        wait_finished(anchor, ids)
    finally:
        anchor.stop()
    conf = ["--config-file", str(anchor.conf), "--config-file", str(anchor.base / "paths.conf")]
    print(anchor.python(EXTRA_ROWS, *conf).strip())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(anchor.base / "mistral.db", args.out)
    if not args.no_shrink:
        shrink(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    for url in filter(None, (args.mysql, args.postgres)):
        copy_to_mysql(anchor, args.out, url)
        print(f"copied into {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
