"""``wfaas run --config-file``: the offline runner reads the same file as the server
(action settings, limits, logging through ``log_config_append``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.functional.config.conftest import HTTP_WF

LOGGING_INI = """[loggers]
keys = root

[handlers]
keys = file

[formatters]
keys = ctx

[logger_root]
level = INFO
handlers = file

[handler_file]
class = FileHandler
args = ('{log}', 'a')
formatter = ctx

[formatter_ctx]
format = CTX execution=%(execution_id)s %(levelname)s %(name)s: %(message)s
"""


def wfaas_run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "wf.yaml").write_text(HTTP_WF)
    return subprocess.run([sys.executable, "-m", "wfaas.cmd.cli", "run", "-q", *args,
                           str(tmp_path / "wf.yaml")], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path, env={"HOME": str(tmp_path),
                                                          "PATH": "/usr/bin:/bin"})


def test_run_reads_the_config_file(tmp_path: Path, peer: str) -> None:
    log = tmp_path / "run.log"
    (tmp_path / "logging.ini").write_text(LOGGING_INI.format(log=log))
    conf = tmp_path / "my.conf"  # ~/wfaas.conf would be read by default
    conf.write_text(f"[DEFAULT]\nlog_config_append = {tmp_path / 'logging.ini'}\n\n"
                    "[action_std_http]\nallowed_hosts = 127.0.0.1\n")
    proc = wfaas_run(tmp_path, "--config-file", str(conf), "-i", f"url={peer}")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"status": 200}
    lines = log.read_text().splitlines()
    started = [line for line in lines if "started" in line and line.startswith("CTX")]
    assert started and "execution=None" not in started[0], lines
    # without the file, loopback is refused and the message names the option
    proc = wfaas_run(tmp_path, "-i", f"url={peer}")
    assert proc.returncode == 1 and "allowed_hosts" in proc.stderr


def test_run_with_a_bad_config_file_is_a_usage_error(tmp_path: Path) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text("[engine]\nexecution_field_size_limit_kb = lots\n")
    proc = wfaas_run(tmp_path, "--config-file", str(conf))
    assert proc.returncode == 2 and "configuration" in proc.stderr
