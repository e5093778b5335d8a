"""``wfaas-db-manage`` reads its configuration as ``wfaas-server`` does and says which
database it changed (issue 15)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text


def db_manage(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home)}
    env.pop("OS_CLIENT_CONFIG_FILE", None)
    return subprocess.run([sys.executable, "-m", "wfaas.cmd.db_manage", *args],
                          capture_output=True, text=True, timeout=300, env=env, cwd=home)


def action_count(db: Path) -> int:
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM action_definitions")).scalar_one()
    engine.dispose()
    return int(count)


def test_populate_reads_the_default_config_location_and_names_the_database(
        tmp_path: Path) -> None:
    db = tmp_path / "server.db"
    (tmp_path / ".wfaas").mkdir()
    (tmp_path / ".wfaas" / "wfaas.conf").write_text(
        f"[database]\nconnection = sqlite:///{db}\n\n[openstack_actions]\n"
        "enabled_services = placement\n")
    proc = db_manage("populate", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"Database: sqlite:///{db}" in proc.stderr
    assert str(tmp_path / ".wfaas" / "wfaas.conf") in proc.stderr
    assert action_count(db) > 0
    # the file's [openstack_actions] reached the provider: only placement actions
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        names = set(conn.execute(text("SELECT name FROM action_definitions")).scalars())
    engine.dispose()
    assert "placement.traits" in names and "identity.projects" not in names
    # nothing was written to the embedded default under the real state_dir
    assert not (tmp_path / ".local" / "share" / "wfaas" / "wfaas.db").exists()


def test_config_file_option_and_masked_password(tmp_path: Path) -> None:
    conf = tmp_path / "other.conf"
    conf.write_text(f"[DEFAULT]\nstate_dir = {tmp_path / 'state'}\n")
    proc = db_manage("--config-file", str(conf), "upgrade", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"sqlite:///{tmp_path / 'state' / 'wfaas.db'}" in proc.stderr
    assert "[DEFAULT] state_dir" in proc.stderr and str(conf) in proc.stderr
    proc = db_manage("--database", "postgresql+psycopg://wf:s3cret@127.0.0.1:1/none",
                     "current", home=tmp_path)
    assert proc.returncode == 1
    assert "postgresql+psycopg://wf:***@127.0.0.1:1/none" in proc.stderr
    assert "s3cret" not in proc.stderr + proc.stdout
