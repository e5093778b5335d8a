"""std.email against a real SMTP server (aiosmtpd) on loopback, plain and STARTTLS + login."""

from __future__ import annotations

import email
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from wfaas.actions.registry import StdProvider
from wfaas.actions.runner import run_action
from wfaas.config import CONF

from .conftest import self_signed, sshd_tool

free_port = sshd_tool.free_port

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
aiosmtpd_smtp = pytest.importorskip("aiosmtpd.smtp")


class Collector:
    """aiosmtpd handler that keeps every received envelope."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                   auth_data: Any) -> Any:
    ok = auth_data.login == b"robot@example.org" and auth_data.password == b"s3cret"
    return aiosmtpd_smtp.AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp() -> Iterator[tuple[Collector, int]]:
    handler, port = Collector(), free_port()
    ctrl = aiosmtpd_controller.Controller(handler, hostname="127.0.0.1", port=port)
    ctrl.start()
    yield handler, port
    ctrl.stop()


@pytest.fixture
def smtp_tls(tmp_path: Path) -> Iterator[tuple[Collector, int]]:
    handler, port = Collector(), free_port()
    ctrl = aiosmtpd_controller.Controller(
        handler, hostname="127.0.0.1", port=port, tls_context=self_signed(tmp_path)[0],
        require_starttls=True, authenticator=_authenticator, auth_require_tls=True)
    ctrl.start()
    yield handler, port
    ctrl.stop()


@pytest.fixture(scope="module")
def provider() -> StdProvider:
    return StdProvider(include_resources=False)


@pytest.fixture(autouse=True)
def loopback_allowed() -> Iterator[None]:
    """The peers live on loopback, which the default egress policy refuses."""
    CONF.set_override("allowed_hosts", ["127.0.0.1"], group="egress")
    yield
    CONF.clear_override("allowed_hosts", group="egress")
    CONF.clear_override("allowed_ports", group="egress")


def test_plain_text_mail(provider: StdProvider, smtp: tuple[Collector, int]) -> None:
    handler, port = smtp
    res = run_action(provider, "std.email", {
        "from_addr": "robot@example.org", "to_addrs": ["a@example.org", "b@example.org"],
        "bcc_addrs": ["hidden@example.org"], "smtp_server": f"127.0.0.1:{port}",
        "subject": "Report", "body": "All good."})
    assert res.is_success(), res.error
    assert res.data is None
    [(sender, rcpts, msg)] = handler.received
    assert sender == "robot@example.org"
    assert rcpts == ["a@example.org", "b@example.org", "hidden@example.org"]
    assert msg["Subject"] == "Report" and msg["To"] == "a@example.org, b@example.org"
    assert msg["Bcc"] is None
    assert msg.get_payload(decode=True).decode().strip() == "All good."


def test_html_mail_with_starttls_and_login(provider: StdProvider,
                                           smtp_tls: tuple[Collector, int]) -> None:
    handler, port = smtp_tls
    res = run_action(provider, "std.email", {
        "from_addr": "robot@example.org", "to_addrs": "a@example.org",
        "smtp_server": f"127.0.0.1:{port}", "smtp_password": "s3cret",
        "html_body": "<p>hi</p>"})
    assert res.is_success(), res.error
    [(_, _, msg)] = handler.received
    assert msg["Subject"] == "<No subject>" and msg.get_content_type() == "multipart/alternative"
    parts = [(p.get_content_type(), p.get_payload(decode=True).decode().strip())
             for p in msg.get_payload()]
    assert parts == [("text/plain", "<No body>"), ("text/html", "<p>hi</p>")]


def test_wrong_password_and_no_server(provider: StdProvider,
                                      smtp_tls: tuple[Collector, int]) -> None:
    _, port = smtp_tls
    res = run_action(provider, "std.email", {
        "from_addr": "robot@example.org", "to_addrs": "a@example.org",
        "smtp_server": f"127.0.0.1:{port}", "smtp_password": "nope"})
    assert res.is_error() and "SMTPAuthenticationError" in res.error
    res = run_action(provider, "std.email", {
        "from_addr": "robot@example.org", "to_addrs": "a@example.org",
        "smtp_server": "127.0.0.1:1"})
    assert res.is_error() and "sending through 127.0.0.1:1 failed" in res.error


@pytest.mark.parametrize("server", ["127.0.0.1", "localhost", "0", "2130706433", "[::1]"])
def test_loopback_refused_by_default(provider: StdProvider, smtp: tuple[Collector, int],
                                     server: str) -> None:
    handler, port = smtp
    CONF.clear_override("allowed_hosts", group="egress")
    res = run_action(provider, "std.email", {
        "from_addr": "robot@example.org", "to_addrs": "a@example.org",
        "smtp_server": f"{server}:{port}"})
    assert res.is_error()
    assert "std.email: refusing to connect to" in res.error and "denied_cidrs" in res.error
    assert handler.received == []


def test_port_outside_allowed_ports_refused(provider: StdProvider,
                                            smtp: tuple[Collector, int]) -> None:
    handler, port = smtp
    CONF.set_override("allowed_ports", [25, 587], group="egress")
    res = run_action(provider, "std.email", {
        "from_addr": "robot@example.org", "to_addrs": "a@example.org",
        "smtp_server": f"127.0.0.1:{port}"})
    assert res.is_error() and f"port {port}: the port is not in [egress] allowed_ports" in res.error
    CONF.set_override("allowed_ports", [25, port], group="egress")
    res = run_action(provider, "std.email", {
        "from_addr": "robot@example.org", "to_addrs": "a@example.org",
        "smtp_server": f"127.0.0.1:{port}"})
    assert res.is_success(), res.error
    assert len(handler.received) == 1
