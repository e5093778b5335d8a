"""wfaas-db-manage against a SQLite file named by a config file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from wfaas.cmd import db_manage
from wfaas.db.session import make_engine, sqlite_url


def test_upgrade_current_stamp_with_config_file(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    conf = tmp_path / "wfaas.conf"
    conf.write_text(f"[DEFAULT]\nstate_dir = {tmp_path / 'state'}\n")
    args = ["--config-file", str(conf)]
    assert db_manage.main([*args, "current"]) == 0
    assert "<none>" in capsys.readouterr().out
    assert db_manage.main([*args, "upgrade", "head"]) == 0
    assert db_manage.main([*args, "current"]) == 0
    assert "(head)" in capsys.readouterr().out
    engine = make_engine(sqlite_url(str(tmp_path / "state" / "wfaas.db")))
    assert "workflow_executions" in inspect(engine).get_table_names()
    assert db_manage.main([*args, "downgrade", "base"]) == 0
    assert db_manage.main([*args, "stamp", "head"]) == 0
    assert db_manage.main([*args, "current"]) == 0
    assert "(head)" in capsys.readouterr().out
    assert db_manage.main([*args, "history"]) == 0
    assert "initial schema" in capsys.readouterr().out


def test_bad_database_url_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert db_manage.main(["--database", "nosuchdb://x", "upgrade"]) == 1
    err = capsys.readouterr().err
    assert "wfaas-db-manage upgrade:" in err and "nosuchdb" in err
    assert "Traceback" not in err


def test_populate_loads_the_std_actions(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    url = sqlite_url(str(tmp_path / "p.db"))
    assert db_manage.main(["--database", url, "populate"]) == 0
    assert "Actions populated: added=" in capsys.readouterr().out
    engine = make_engine(url)
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT source, is_system FROM action_definitions WHERE name = 'std.echo'").one()
    engine.dispose()
    assert row[0] == "std" and row[1]
