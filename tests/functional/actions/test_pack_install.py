"""A real pip install of plugins/wfaas-pack-utils: its actions appear, then disappear.

The default test installs the pack with pip into a throw-away ``--target``
directory and runs wfaas in subprocesses that see it (PYTHONPATH); removing
the directory uninstalls it. ``WFAAS_TEST_VENV_PACK=1`` additionally runs the
cycle with ``pip install`` / ``pip uninstall`` in the current virtualenv.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACK = ROOT / "plugins" / "wfaas-pack-utils"
PACK_ACTIONS = ["utils.file_read", "utils.file_write", "utils.json_get", "utils.shell",
                "utils.template"]

PROBE = """
import json, sys
from wfaas.actions.registry import default_providers
from wfaas.actions.populate import populate
from wfaas.db.models import Base
from wfaas.db.session import make_engine, session_scope
try:
    default_providers(openstack=False, strict=True)
except Exception as exc:
    print(json.dumps({"load_error": f"{type(exc).__name__}: {exc}"}))
    sys.exit(0)
provider = default_providers(openstack=False)  # a broken pack: listed, the others load
engine = make_engine("sqlite:///" + sys.argv[1])
Base.metadata.create_all(engine)
with session_scope(engine) as session:
    counts = populate(session, provider)
found = provider.find("utils.shell")
print(json.dumps({
    "broken": [str(err) for err in provider.broken()],
    "actions": sorted(d.name for d in provider.find_all() if d.name.startswith("utils.")),
    "source": found.source if found else None,
    "counts": counts,
}))
"""


def _pip(*args: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q",
                           *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


def _probe(db: Path, pythonpath: str | None = None) -> dict:  # type: ignore[type-arg]
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    proc = subprocess.run([sys.executable, "-c", PROBE, str(db)], capture_output=True,
                          text=True, env=env, timeout=120, cwd=str(db.parent))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    """A copy of the pack source, so building leaves no files in the repository."""
    dest = tmp_path / "src"
    shutil.copytree(PACK, dest, ignore=shutil.ignore_patterns("build", "*.egg-info",
                                                              "__pycache__"))
    return dest


def test_install_into_target_then_remove(tmp_path: Path, pack_copy: Path) -> None:
    site = tmp_path / "site"
    db = tmp_path / "wfaas.db"
    _pip("install", "--no-deps", "--no-build-isolation", "--target", str(site), str(pack_copy))

    installed = _probe(db, str(site))
    assert installed["actions"] == PACK_ACTIONS
    assert installed["source"] == "pack:wfaas-pack-utils"
    assert installed["counts"]["added"] >= len(PACK_ACTIONS)

    module_dir = site / "wfaas_pack_utils"
    shutil.move(module_dir, tmp_path / "moved")   # dist-info stays: a broken install
    broken = _probe(db, str(site))               # strict: refused, naming the pack
    assert "PluginLoadError" in broken["load_error"]
    assert "wfaas-pack-utils" in broken["load_error"]
    assert "utils." in broken["load_error"]
    lenient = subprocess.run(  # the default: listed as broken, std actions still load
        [sys.executable, "-c", PROBE.replace("default_providers(openstack=False, strict=True)",
                                             "None"), str(db)],
        capture_output=True, text=True, timeout=120, cwd=str(db.parent),
        env={**os.environ, "PYTHONPATH": str(site)})
    listed = json.loads(lenient.stdout.strip().splitlines()[-1])
    assert listed["actions"] == [] and listed["counts"]["broken"] == len(PACK_ACTIONS)
    assert listed["counts"]["removed"] == 0       # its stored definitions are kept
    assert all("wfaas-pack-utils" in text for text in listed["broken"])

    shutil.rmtree(site)                            # uninstalled
    gone = _probe(db, None)
    assert gone["actions"] == [] and gone["source"] is None
    assert gone["counts"]["removed"] == len(PACK_ACTIONS) and gone["counts"]["added"] == 0


@pytest.mark.skipif(os.environ.get("WFAAS_TEST_VENV_PACK") != "1",
                    reason="set WFAAS_TEST_VENV_PACK=1 to pip install/uninstall into this venv")
def test_install_and_uninstall_in_this_venv(tmp_path: Path, pack_copy: Path) -> None:
    db = tmp_path / "wfaas.db"
    _pip("install", "--no-deps", "--no-build-isolation", str(pack_copy))
    try:
        installed = _probe(db)
        assert installed["actions"] == PACK_ACTIONS
        assert installed["source"] == "pack:wfaas-pack-utils"
    finally:
        _pip("uninstall", "-y", "wfaas-pack-utils")
    gone = _probe(db)
    assert gone["actions"] == [] and gone["counts"]["removed"] == len(PACK_ACTIONS)
