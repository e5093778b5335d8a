"""The simple std actions, the std.http egress check, std.email's message, std.ssh hosts."""

from __future__ import annotations

import subprocess
import sys

import pytest

from wfaas.actions.base import ActionContext, ActionException, Result
from wfaas.actions.std import (
    AsyncNoOpAction,
    EchoAction,
    FailAction,
    NoOpAction,
    SleepAction,
    TestDictAction,
)
from wfaas.actions.std_email import SendEmailAction
from wfaas.actions.std_http import HTTPAction, HttpSettings, check_egress
from wfaas.actions.std_js import JavaScriptAction
from wfaas.actions.std_ssh import split_host

CTX = ActionContext()


def test_simple_actions() -> None:
    assert NoOpAction().run(CTX) is None
    assert AsyncNoOpAction().is_sync() is False and NoOpAction().is_sync() is True
    assert EchoAction({"a": 1}).run(CTX) == {"a": 1}
    assert EchoAction("x", delay=-5).delay == 0
    assert SleepAction(0).run(CTX) is None
    assert TestDictAction(size=3, key_prefix="k", val=7).run(CTX) == {"k0": 7, "k1": 7, "k2": 7}
    assert TestDictAction().run(CTX) == {}
    assert FailAction(error_data="bad").run(CTX) == Result(error="bad")
    with pytest.raises(ActionException, match="Fail action expected exception."):
        FailAction().run(CTX)


DENY = HttpSettings(denied_cidrs=("127.0.0.0/8", "::1/128", "10.0.0.0/8"))


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/x", "https://[::1]/", "http://10.1.2.3"])
def test_egress_denied(url: str) -> None:
    with pytest.raises(ActionException, match="denied network"):
        check_egress(url, DENY)


def test_egress_allowed_by_host_or_cidr_and_public_ips() -> None:
    check_egress("http://127.0.0.1:1/", HttpSettings(DENY.denied_cidrs, ("127.0.0.1",)))
    check_egress("http://127.0.0.5:1/", HttpSettings(DENY.denied_cidrs, ("127.0.0.0/24",)))
    check_egress("http://8.8.8.8/", DENY)
    with pytest.raises(ActionException, match="unsupported URL scheme"):
        check_egress("file:///etc/passwd", DENY)


def test_http_argument_normalisation() -> None:
    a = HTTPAction("http://x", method="post", body={"a": 1}, auth="u:p:w",
                   headers={"X-N": 5, "X-S": "s"})
    assert a.method == "POST" and a.body == '{"a": 1}' and a.auth == ("u", "p:w")
    assert a.headers == {"X-N": "5", "X-S": "s"}
    with pytest.raises(ActionException, match="either 'body' or 'json'"):
        HTTPAction("http://x", body="a", json={"a": 1})


def test_email_message_multipart_and_defaults() -> None:
    act = SendEmailAction("a@x", "b@x, c@x", "h:2525", cc_addrs=["d@x"], bcc_addrs="e@x",
                          html_body="<b>hi</b>")
    msg = act.message()
    assert msg["Subject"] == "<No subject>" and msg["To"] == "b@x, c@x" and msg["Cc"] == "d@x"
    assert msg["Bcc"] is None
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]


def test_ssh_host_port_split() -> None:
    assert split_host("h") == ("h", 22)
    assert split_host("h:2222") == ("h", 2222)
    assert split_host("[::1]:2200") == ("::1", 2200)
    assert split_host("::1") == ("::1", 22)


def test_javascript_real_engine() -> None:
    assert JavaScriptAction("return $.a.map(x => x * 2);", {"a": [1, 2]}).run(CTX) == [2, 4]
    assert JavaScriptAction("var y = 1;").run(CTX) is None
    with pytest.raises(ActionException, match="boom"):
        JavaScriptAction("throw new Error('boom');").run(CTX)
    with pytest.raises(ActionException, match="SyntaxError"):
        JavaScriptAction("return (;").run(CTX)


def test_loading_the_std_actions_does_not_import_paramiko() -> None:
    """The registry imports std.ssh's module; paramiko (with cryptography, nacl and
    invoke, ~15 MB of a server's memory) is imported only when an SSH action runs."""
    code = ("import sys\n"
            "from wfaas.actions.registry import load_entry_point_actions\n"
            "names = {d.name for d in load_entry_point_actions(True)}\n"
            "assert 'std.ssh' in names, sorted(names)\n"
            "from wfaas.actions import std_ssh\n"
            "assert 'paramiko' not in sys.modules\n"
            "std_ssh._key_classes()\n"
            "assert 'paramiko' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
