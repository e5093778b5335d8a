"""Shell completion scripts: commands, verbs, options, fixed choices, and names or
ids from the server (through a stand-in ``wfaas`` here; the real one against a real
server is in tests/functional/cli/test_completion.py)."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.functional.client.server import free_port
from wfaas.cmd.cli import build_parser, main
from wfaas.cmd.client_completion import STATES, command_tree, completion_slots

#: a stand-in for ``wfaas``: records its arguments, prints three names
STUB = """#!/bin/sh
echo "$*" > "{args}"
printf 'wf_one\\tfirst\\n'
printf 'wf_two\\tsecond\\n'
printf 'other:x\\tthird\\n'
"""


@pytest.fixture
def stub(tmp_path: Path) -> tuple[Path, Path]:
    path, args = tmp_path / "wfaas-stub", tmp_path / "args"
    path.write_text(STUB.format(args=args))
    path.chmod(0o755)
    return path, args


def script(shell: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["completion", shell]) == 0
    return capsys.readouterr().out


def need(shell: str) -> str:
    path = shutil.which(shell)
    if path is None:
        pytest.skip(f"{shell} is not installed (.ci/run installs it)")
    return path


def run_shell(shell: str, text: str) -> str:
    done = subprocess.run([need(shell), "-c", text], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_tree_has_every_resource_and_verb() -> None:
    tree, valued = command_tree(build_parser())
    assert {"workflow", "execution", "task", "action", "cron-trigger", "environment",
            "validate", "completion"} <= set(tree)
    assert {"create", "graph", "validate", "definition"} <= set(tree["workflow"])
    assert "--wait" in tree["execution"]["create"]
    assert "--url" in valued and "--wait" not in valued


def test_slots_know_which_words_are_names_or_ids() -> None:
    slots = completion_slots(build_parser())
    assert slots["execution/create/p0"] == "@workflows"         # WORKFLOW
    assert slots["ex/create/--env"] == "@environments"          # -e ENV
    assert slots["execution/create/--source"] == "@executions"
    assert slots["execution/get/p0"] == slots["task/list/p0"] == "@executions"
    assert slots["task/rerun/p0"] == slots["action-execution/list/p0"] == "@tasks"
    assert slots["action/get/p0"] == slots["action/run/p0"] == "@actions"
    assert slots["environment/get/p0"] == "@environments"
    assert slots["cron-trigger/delete/p*"] == "@cron-triggers"  # NAME...
    assert slots["cron-trigger/create/p1"] == "@workflows"
    assert slots["workflow/graph/p0"] == slots["execution/list/--workflow"] == "@workflows"
    assert slots["execution/list/--state"] == " ".join(STATES)
    assert slots["execution/graph/-T"] == "svg png dot txt"
    assert "cron-trigger/create/p0" not in slots                # a new name
    assert "workflow/create/p0" not in slots                    # a file


def test_bash_completes_verbs_names_choices_and_files(capsys, stub) -> None:
    text = script("bash", capsys)
    assert "complete -o default -F _wfaas wfaas" in text
    check = subprocess.run([need("bash"), "-n"], input=text, text=True, capture_output=True,
                           check=False)
    assert check.returncode == 0, check.stderr
    path, args = stub

    def complete(*words: str) -> list[str]:
        probe = (f"{text}\nCOMP_WORDS=({path} {' '.join(words)}); "
                 f"COMP_CWORD={len(words)}; _wfaas; printf '%s\\n' \"${{COMPREPLY[@]}}\"\n")
        return run_shell("bash", probe).split()

    assert complete("--url", "x", "execution", "cr") == ["create"]
    assert complete("--url", "http://h/v2", "execution", "create", "wf_") == ["wf_one", "wf_two"]
    assert args.read_text().split() == ["--url", "http://h/v2", "completion", "--names",
                                        "workflows", "--prefix", "wf_"]
    assert complete("ex", "get", "--os-token", "T", "''") == ["wf_one", "wf_two", "other:x"]
    assert args.read_text().split()[:4] == ["--os-token", "T", "completion", "--names"]
    assert complete("execution", "list", "--state", "E") == ["ERROR"]
    assert complete("workflow", "create", "''") == []           # file names (bash's default)


def test_zsh_offers_names_with_descriptions(capsys, stub) -> None:
    text = script("zsh", capsys)
    assert text.startswith("#compdef wfaas")
    path, args = stub
    stubs = ('compdef() { :; }\n_describe() { print -rl -- "${(@P)4}"; }\n'
             'compadd() { shift; print -rl -- "$@"; }\n_files() { print FILES; }\n')

    def complete(*words: str) -> list[str]:
        return run_shell("zsh", f"{stubs}{text}\nwords=({path} {' '.join(words)}); "
                                f"CURRENT={len(words) + 1}; _wfaas\n").split("\n")[:-1]

    assert complete("--url", "http://h/v2", "action", "run", "''") == [
        "wf_one:first", "wf_two:second", "other\\:x:third"]
    assert args.read_text().split() == ["--url", "http://h/v2", "completion", "--names",
                                        "actions", "--prefix"]
    assert complete("execution", "graph", "x", "-T", "p") == ["svg", "png", "dot", "txt"]
    assert complete("workflow", "create", "''") == ["FILES"]
    assert "execution" in complete("exe")


def test_fish_script(capsys, stub, tmp_path) -> None:
    text = script("fish", capsys)
    assert "complete -c wfaas -f -a '(__wfaas_complete)'" in text
    path, args = stub
    source = tmp_path / "wfaas.fish"
    source.write_text(text)

    def complete(line: str) -> list[str]:
        return run_shell("fish", f"source {source}; function wfaas; {path} $argv; end; "
                                 f"complete -C '{line}'").splitlines()

    assert complete("wfaas --url http://h/v2 env get wf_") == ["wf_one\tfirst",
                                                                "wf_two\tsecond"]
    assert args.read_text().split() == ["--url", "http://h/v2", "completion", "--names",
                                        "environments", "--prefix", "wf_"]
    assert complete("wfaas execution list --state SUC") == ["SUCCESS"]
    assert complete("wfaas cron-trigger de") == ["delete"]
    assert "execution" in complete("wfaas exe")


def test_names_are_silent_and_quick_without_a_server(capsys) -> None:
    started = time.monotonic()
    url = f"http://127.0.0.1:{free_port()}/v2"
    assert main(["--url", url, "completion", "--names", "workflows"]) == 0
    assert main(["completion", "--url", url, "--names", "executions", "--prefix", "a"]) == 0
    assert capsys.readouterr() == ("", "")
    assert time.monotonic() - started < 10
    assert main(["completion"]) == 2
