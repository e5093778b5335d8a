"""What a new user meets in the first hour: the server on a taken port, the test
command without the test tools, and the commands the docs tell them to type."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_port_in_use_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        conf = tmp_path / "wfaas.conf"
        conf.write_text(f"[DEFAULT]\nstate_dir = {tmp_path}\n[database]\n"
                        f"connection = sqlite:///{tmp_path}/wfaas.db\n"
                        f"[api]\nhost = 127.0.0.1\nport = {port}\n")
        done = subprocess.run([sys.executable, "-m", "wfaas.cmd.server", "--config-file",
                               str(conf)], capture_output=True, text=True, timeout=120,
                              check=False)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"wfaas-server: cannot listen on 127.0.0.1:{port}: "), last
    assert "Address already in use" in last and "[api] port" in last


def test_run_tests_without_pytest_says_what_to_install(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(["bash", str(ROOT / "tools" / "run-tests")], capture_output=True,
                          text=True, env=env, timeout=120, check=False)
    assert done.returncode == 2
    assert "No module named pytest" not in done.stderr
    assert "pip install -e '.[test]'" in done.stderr


def test_docs_use_the_commands_that_exist() -> None:
    docs = [ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("plugins/*/README.md")]
    for path in docs:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"wfaas [a-z]+-(list|get|create|delete)\b", text), path
        assert "$ openstack " not in text, path     # wfaas's or mistral's own commands


def test_readme_walks_from_nothing_to_the_dashboard() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Quick start")
    quick = readme[start:readme.index("\n## ", start + 5)]
    assert "second terminal" in quick
    assert "http://127.0.0.1:8989/ui/" in quick
    assert "pip install python-mistralclient" in readme
    assert "pip install -e '.[test]'" in quick


def _documented_commands() -> list[tuple[str, str]]:
    """Every ``wfaas ...`` command line of a fenced block of the README and the docs
    (comments, pipes and redirections cut; synopsis lines with ``[...]`` left out)."""
    found = []
    for path in [ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("plugins/*/README.md")]:
        blocks = path.read_text(encoding="utf-8").split("```")[1::2]
        for line in "\n".join(blocks).splitlines():
            match = re.match(r"\s*(?:\$ |\. \.venv/bin/activate && )?wfaas (.+)$", line)
            if not match:
                continue
            command = re.split(r"\s(?:#|\||>|&&)\s?", match.group(1))[0].strip()
            if " [" not in command:
                found.append((path.name, command))
    return found


def test_documented_commands_parse() -> None:
    import contextlib
    import io
    import shlex

    from wfaas.cmd.cli import build_parser

    commands = _documented_commands()
    assert len(commands) >= 15 and ("README.md", "action get std.http") in commands
    for where, command in commands:
        argv = shlex.split(command.replace("<id>", "ID"))
        with contextlib.redirect_stderr(io.StringIO()) as err:
            try:
                build_parser().parse_args(argv)
            except SystemExit as exc:
                assert not exc.code, f"{where}: wfaas {command}: {err.getvalue()[-300:]}"
