"""Shell completion scripts."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from wfaas.cmd.cli import main
from wfaas.cmd.client_completion import command_tree


def test_tree_has_every_resource_and_verb() -> None:
    from wfaas.cmd.cli import build_parser

    tree, valued = command_tree(build_parser())
    assert {"workflow", "execution", "task", "action", "cron-trigger", "environment",
            "validate", "completion"} <= set(tree)
    assert {"create", "graph", "validate", "definition"} <= set(tree["workflow"])
    assert "--wait" in tree["execution"]["create"]
    assert "--url" in valued and "--wait" not in valued


def test_bash_script_completes_verbs(capsys) -> None:
    assert main(["completion", "bash"]) == 0
    script = capsys.readouterr().out
    assert "complete -o default -F _wfaas wfaas" in script
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    check = subprocess.run([bash, "-n"], input=script, text=True, capture_output=True,
                           check=False)
    assert check.returncode == 0, check.stderr
    probe = script + ('\nCOMP_WORDS=(wfaas --url x execution cr); COMP_CWORD=4; _wfaas; '
                      'echo "${COMPREPLY[@]}"\n')
    done = subprocess.run([bash, "-c", probe], text=True, capture_output=True, check=False)
    assert done.stdout.split() == ["create"], done.stderr


def test_zsh_script(capsys) -> None:
    assert main(["completion", "zsh"]) == 0
    script = capsys.readouterr().out
    assert script.startswith("#compdef wfaas")
    zsh = shutil.which("zsh")
    if zsh is None:
        return
    check = subprocess.run([zsh, "-n"], input=script, text=True, capture_output=True,
                           check=False)
    assert check.returncode == 0, check.stderr
