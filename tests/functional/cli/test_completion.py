"""Shell completion against a real wfaas-server: ``wfaas completion --names`` for
every kind, and the bash, zsh and fish scripts calling the real ``wfaas``."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wfaas.client import Client

WFAAS = str(Path(sys.executable).parent / "wfaas")
FLOW = """---
version: '2.0'
compl_flow:
  tasks:
    one:
      action: std.noop
compl_other:
  tasks:
    two:
      action: std.echo output=2
"""


@pytest.fixture(scope="module")
def things(server) -> dict[str, str]:
    client = Client(server.url)
    client.workflows.create(FLOW)
    client.environments.create("compl_env", {"x": 1}, description="for completion")
    client.cron_triggers.create("compl_cron", "compl_flow", pattern="0 3 * * *")
    ex = client.executions.create("compl_flow")
    deadline = time.monotonic() + 30
    while not client.executions.tasks(ex["id"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    task = client.executions.tasks(ex["id"])[0]
    return {"execution": ex["id"], "task": task["id"]}


def names(server, kind: str, prefix: str = "") -> dict[str, str]:
    done = subprocess.run([WFAAS, "--url", server.url, "completion", "--names", kind,
                           "--prefix", prefix], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return dict(line.split("\t", 1) for line in done.stdout.splitlines())


def test_names_of_every_kind(server, things) -> None:
    assert set(names(server, "workflows", "compl_")) == {"compl_flow", "compl_other"}
    assert set(names(server, "workflows", "compl_o")) == {"compl_other"}
    assert names(server, "environments") == {"compl_env": "for completion"}
    assert names(server, "cron-triggers") == {"compl_cron": "0 3 * * * compl_flow"}
    executions = names(server, "executions", things["execution"][:6])
    assert executions[things["execution"]].startswith("compl_flow ")
    assert names(server, "tasks")[things["task"]].startswith("one ")
    actions = names(server, "actions", "std.ec")
    assert "std.echo" in actions and all(a.startswith("std.ec") for a in actions)


def completions(shell: str, text: str) -> list[str]:
    path = shutil.which(shell)
    if path is None:
        pytest.skip(f"{shell} is not installed (.ci/run installs it)")
    done = subprocess.run([path, "-c", text], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_scripts_ask_the_real_server(server, things, tmp_path) -> None:
    scripts = {}
    for shell in ("bash", "zsh", "fish"):
        scripts[shell] = tmp_path / f"wfaas.{shell}"
        with open(scripts[shell], "w") as out:
            subprocess.run([WFAAS, "completion", shell], stdout=out, check=True)
    bash = completions("bash", f"source {scripts['bash']}; COMP_WORDS=({WFAAS} --url "
                               f"{server.url} execution create compl_f); COMP_CWORD=5; "
                               "_wfaas; echo ${COMPREPLY[@]}")
    assert bash == ["compl_flow"]
    zsh = completions("zsh", "compdef() { :; }; _describe() { print -rl -- ${(P)4}; }; "
                             f"source {scripts['zsh']}; words=({WFAAS} --url {server.url} "
                             "env show ''); CURRENT=6; _wfaas")
    assert zsh == ["compl_env:for", "completion"]
    fish = completions("fish", f"source {scripts['fish']}; complete -C '{WFAAS} --url "
                               f"{server.url} cron-trigger delete compl_'")
    assert fish == ["compl_cron", "0", "3", "*", "*", "*", "compl_flow"]
