"""std.ssh and std.ssh_proxied against a real OpenSSH server on loopback."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paramiko
import pytest

from wfaas.actions.registry import StdProvider
from wfaas.actions.runner import run_action
from wfaas.config import CONF


@pytest.fixture(scope="module")
def provider() -> StdProvider:
    return StdProvider(include_resources=False)


@pytest.fixture(autouse=True)
def loopback_allowed(sshd: Any) -> Iterator[None]:
    """The peer is on loopback (denied by default) and its key in a temporary directory."""
    CONF.set_override("allowed_hosts", ["127.0.0.1"], group="egress")
    CONF.set_override("key_dirs", [str(sshd.dir)], group="action_std_ssh")
    yield
    for name in ("allowed_hosts", "denied_cidrs"):
        CONF.clear_override(name, group="egress")
    for name in ("key_dirs", "allow_proxy_command"):
        CONF.clear_override(name, group="action_std_ssh")


def _base(sshd: Any, **extra: Any) -> dict[str, Any]:
    return {"host": f"127.0.0.1:{sshd.port}", "username": sshd.user, **extra}


def test_command_with_key_file(provider: StdProvider, sshd: Any) -> None:
    res = run_action(provider, "std.ssh", _base(
        sshd, cmd="echo hello; echo there", private_key_filename=str(sshd.user_key)))
    assert res.is_success(), res.error
    assert res.data == "hello\nthere"


def test_inline_key_and_host_list(provider: StdProvider, sshd: Any) -> None:
    key = sshd.user_key.read_text()
    host = f"127.0.0.1:{sshd.port}"
    res = run_action(provider, "std.ssh", _base(sshd, cmd="printf $((6*7))", private_key=key,
                                                 host=[host, host]))
    assert res.data == ["42", "42"]


def test_non_zero_exit(provider: StdProvider, sshd: Any) -> None:
    key = sshd.user_key.read_text()
    cmd = "echo out; echo err >&2; exit 3"
    res = run_action(provider, "std.ssh", _base(sshd, cmd=cmd, private_key=key))
    assert res.is_error()
    assert res.error == ("The action raised an exception [action=std.ssh, action_ex_id=None, "
                         f"msg='Failed to execute ssh cmd '{cmd}' on 127.0.0.1:{sshd.port} "
                         "(exit code 3)']")
    res = run_action(provider, "std.ssh", _base(sshd, cmd=cmd, private_key=key,
                                                 return_result_on_error=True))
    assert res.data == {"stdout": "out", "stderr": "err", "exit_code": 3}


def test_auth_failure_is_an_error(provider: StdProvider, sshd: Any) -> None:
    res = run_action(provider, "std.ssh", _base(sshd, cmd="true", password="wrong"))
    assert res.is_error() and "cannot connect: BadAuthenticationType" in res.error
    other = io.StringIO()
    paramiko.RSAKey.generate(2048).write_private_key(other)
    res = run_action(provider, "std.ssh", _base(sshd, cmd="true", private_key=other.getvalue()))
    assert res.is_error() and "cannot connect: AuthenticationException" in res.error
    assert "wrong" not in res.error


def test_proxied_through_gateway(provider: StdProvider, sshd: Any) -> None:
    res = run_action(provider, "std.ssh_proxied", {
        "cmd": "echo via-gateway", "host": f"127.0.0.1:{sshd.port}", "username": sshd.user,
        "private_key_filename": str(sshd.user_key),
        "gateway_host": f"127.0.0.1:{sshd.port}"})
    assert res.is_success(), res.error
    assert res.data == "via-gateway"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "0", "[::ffff:127.0.0.1]",
                                  "2130706433", "0x7f.1", "localhost."])
def test_loopback_refused_by_default(provider: StdProvider, sshd: Any, host: str) -> None:
    CONF.clear_override("allowed_hosts", group="egress")
    res = run_action(provider, "std.ssh", {"host": f"{host}:{sshd.port}", "cmd": "true",
                                           "username": sshd.user,
                                           "private_key_filename": "id_ed25519"})
    assert res.is_error()
    assert "refusing to connect to" in res.error and "denied_cidrs" in res.error


def test_everything_reachable_with_empty_denied_list(provider: StdProvider, sshd: Any) -> None:
    CONF.clear_override("allowed_hosts", group="egress")
    CONF.set_override("denied_cidrs", [], group="egress")
    res = run_action(provider, "std.ssh", {"host": f"localhost:{sshd.port}", "cmd": "echo ok",
                                           "username": sshd.user,
                                           "private_key_filename": "id_ed25519"})
    assert res.data == "ok", res.error


def test_gateway_target_is_checked(provider: StdProvider, sshd: Any) -> None:
    CONF.set_override("allowed_hosts", ["localhost"], group="egress")
    args = {"cmd": "echo via", "username": sshd.user, "private_key_filename": "id_ed25519",
            "gateway_host": f"localhost:{sshd.port}"}
    res = run_action(provider, "std.ssh_proxied", {**args, "host": f"localhost:{sshd.port}"})
    assert res.data == "via", res.error
    res = run_action(provider, "std.ssh_proxied", {**args, "host": f"127.0.0.1:{sshd.port}"})
    assert res.is_error() and "refusing to connect to 127.0.0.1" in res.error


def test_proxy_command_disabled_by_default(provider: StdProvider, sshd: Any) -> None:
    args = {"cmd": "echo via", "host": f"127.0.0.1:{sshd.port}", "username": sshd.user,
            "private_key_filename": "id_ed25519", "gateway_host": "unused",
            "proxy_command": f"nc 127.0.0.1 {sshd.port}"}
    res = run_action(provider, "std.ssh_proxied", args)
    assert res.is_error() and "[action_std_ssh] allow_proxy_command" in res.error


def _key_error(provider: StdProvider, sshd: Any, filename: str) -> str:
    res = run_action(provider, "std.ssh", _base(sshd, cmd="true",
                                                 private_key_filename=filename))
    assert res.is_error()
    return str(res.error)


def test_key_file_relative_name_and_outside_files(provider: StdProvider, sshd: Any,
                                                  tmp_path: Path) -> None:
    res = run_action(provider, "std.ssh", _base(sshd, cmd="echo rel",
                                                 private_key_filename="id_ed25519"))
    assert res.data == "rel", res.error
    outside = tmp_path / "id_outside"
    outside.write_text(sshd.user_key.read_text())
    (sshd.dir / "link_out").symlink_to(outside)
    missing = _key_error(provider, sshd, str(tmp_path / "nothing-here"))
    for name in (str(outside), "/etc/passwd", "../../../../etc/passwd", "link_out",
                 os.path.relpath(outside, sshd.dir)):
        error = _key_error(provider, sshd, name)
        assert error == missing.replace(str(tmp_path / "nothing-here"), name)
        assert "no such regular file in [action_std_ssh] key_dirs" in error


def test_key_file_not_regular_or_too_big(provider: StdProvider, sshd: Any) -> None:
    fifo = sshd.dir / "fifo_key"
    if not fifo.exists():
        os.mkfifo(fifo)
    big = sshd.dir / "big_key"
    big.write_bytes(b"x" * (64 * 1024 + 1))
    CONF.set_override("key_dirs", [str(sshd.dir), "/dev"], group="action_std_ssh")
    for name in ("fifo_key", "/dev/zero", "/dev/urandom"):
        start = time.monotonic()
        error = _key_error(provider, sshd, name)
        assert time.monotonic() - start < 2
        assert f"Cannot read private key file {name}: no such regular file" in error
    assert "big_key is larger than 64 KiB" in _key_error(provider, sshd, "big_key")
