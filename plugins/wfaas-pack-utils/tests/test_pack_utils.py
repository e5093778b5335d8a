"""wfaas-pack-utils actions, run through wfaas's provider and runner as wfaas would."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import pytest
from stevedore.extension import Extension, ExtensionManager
from wfaas_pack_utils import actions

from wfaas.actions.registry import PackProvider
from wfaas.actions.runner import run_action

ENTRY_POINTS = {
    "utils.shell": "ShellAction",
    "utils.json_get": "JsonGetAction",
    "utils.file_read": "FileReadAction",
    "utils.file_write": "FileWriteAction",
    "utils.template": "TemplateAction",
}


@pytest.fixture(scope="module")
def provider() -> PackProvider:
    exts = []
    for name, cls in ENTRY_POINTS.items():
        ep = metadata.EntryPoint(name, f"wfaas_pack_utils.actions:{cls}", "wfaas.actions")
        exts.append(Extension(name, ep, getattr(actions, cls), None))
    return PackProvider(ExtensionManager.make_test_instance(exts))


def test_signatures(provider: PackProvider) -> None:
    sigs = {d.name: d.input_string for d in provider.find_all()}
    assert sigs == {
        "utils.shell": "command, timeout=60, cwd=null, env=null, stdin=null, check=false",
        "utils.json_get": "data, path, default=null, required=false",
        "utils.file_read": 'path, encoding="utf-8", max_bytes=1048576',
        "utils.file_write": 'path, content, append=false, encoding="utf-8", make_dirs=false',
        "utils.template": "template, values=null, strict=true",
    }
    assert all(d.description for d in provider.find_all())


def test_shell(provider: PackProvider, tmp_path: Path) -> None:
    res = run_action(provider, "utils.shell", {"command": "echo $GREETING; echo oops >&2",
                                               "env": {"GREETING": "hi"}})
    assert res.data == {"stdout": "hi\n", "stderr": "oops\n", "exit_code": 0}
    res = run_action(provider, "utils.shell", {"command": [sys.executable, "-c", "print(2+2)"],
                                               "cwd": str(tmp_path)})
    assert res.data["stdout"] == "4\n"
    res = run_action(provider, "utils.shell", {"command": "cat; exit 4", "stdin": "in",
                                               "check": True})
    assert res.is_error() and res.error == {"stdout": "in", "stderr": "", "exit_code": 4}
    res = run_action(provider, "utils.shell", {"command": "sleep 5", "timeout": 0.2})
    assert res.is_error() and "timed out after 0.2 s" in res.error


def test_json_get(provider: PackProvider) -> None:
    data = {"servers": [{"name": "a"}, {"name": "b"}]}
    assert run_action(provider, "utils.json_get", {"data": data, "path": "servers.1.name"}
                      ).data == "b"
    assert run_action(provider, "utils.json_get", {"data": data, "path": "servers.-1.name"}
                      ).data == "b"
    assert run_action(provider, "utils.json_get", {"data": data, "path": "x.y",
                                                   "default": 0}).data == 0
    res = run_action(provider, "utils.json_get", {"data": data, "path": "servers.5",
                                                  "required": True})
    assert res.is_error() and "no item '5'" in res.error


def test_files(provider: PackProvider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "sub" / "f.txt"
    res = run_action(provider, "utils.file_write", {"path": str(target), "content": "ab",
                                                    "make_dirs": True})
    assert res.data == {"path": str(target), "size": 2}
    run_action(provider, "utils.file_write", {"path": str(target), "content": "c",
                                              "append": True})
    assert run_action(provider, "utils.file_read", {"path": str(target)}).data == "abc"
    res = run_action(provider, "utils.file_read", {"path": str(target), "max_bytes": 2})
    assert res.is_error() and "more than max_bytes=2" in res.error
    res = run_action(provider, "utils.file_read", {"path": str(tmp_path / "none")})
    assert res.is_error() and "No such file or directory" in res.error
    monkeypatch.setenv(actions.ROOT_ENV, str(tmp_path / "sub"))
    assert run_action(provider, "utils.file_read", {"path": str(target)}).data == "abc"
    res = run_action(provider, "utils.file_read", {"path": str(tmp_path / "sub" / ".." / "x")})
    assert res.is_error() and "is outside" in res.error


def test_template(provider: PackProvider) -> None:
    assert run_action(provider, "utils.template", {"template": "Hi $who, ${n}x",
                                                   "values": {"who": "Ann", "n": 3}}
                      ).data == "Hi Ann, 3x"
    res = run_action(provider, "utils.template", {"template": "Hi $who"})
    assert res.is_error() and "no value for placeholder 'who'" in res.error
    assert run_action(provider, "utils.template", {"template": "Hi $who", "strict": False}
                      ).data == "Hi $who"
