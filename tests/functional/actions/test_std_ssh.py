"""std.ssh and std.ssh_proxied against a real OpenSSH server on loopback."""

from __future__ import annotations

import io
from typing import Any

import paramiko
import pytest

from wfaas.actions.registry import StdProvider
from wfaas.actions.runner import run_action


@pytest.fixture(scope="module")
def provider() -> StdProvider:
    return StdProvider(include_resources=False)


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
