"""std.email: send a mail over SMTP (smtplib), with STARTTLS and login when a password is given.

The SMTP server is reached through the ``[egress]`` policy: its address is
resolved and checked once and smtplib gets the socket connected to it.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Any

from wfaas.actions.base import Action, ActionContext, ActionException
from wfaas.actions.egress import EgressDenied, EgressPolicy

LOG = logging.getLogger(__name__)

SMTP_TIMEOUT = 60.0


def _addresses(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [a.strip() for a in value.split(",") if a.strip()]
    return [str(a) for a in value]


def _split_server(server: str) -> tuple[str, int]:
    host, _, port = str(server).rpartition(":")
    if host and port.isdigit():
        return host, int(port)
    return str(server), 25


class _CheckedSMTP(smtplib.SMTP):
    """smtplib.SMTP whose socket is opened by an egress policy (STARTTLS keeps the name)."""

    def __init__(self, policy: EgressPolicy, host: str, port: int, timeout: float) -> None:
        self._policy = policy
        super().__init__(host, port, timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> Any:
        source: Any = self.source_address
        return self._policy.connect(host, port, timeout, source_address=source)


class SendEmailAction(Action):
    """Sends an e-mail through an SMTP server given as host or host:port."""

    def __init__(self, from_addr: str, to_addrs: Any, smtp_server: str, reply_to: Any = None,
                 cc_addrs: Any = None, bcc_addrs: Any = None, smtp_password: str | None = None,
                 subject: str | None = None, body: str | None = None,
                 html_body: str | None = None) -> None:
        self.from_addr = from_addr
        self.to_addrs = _addresses(to_addrs)
        self.reply_to = _addresses(reply_to)
        self.cc_addrs = _addresses(cc_addrs)
        self.bcc_addrs = _addresses(bcc_addrs)
        self.smtp_server = smtp_server
        self.smtp_password = smtp_password
        self.subject = subject or "<No subject>"
        self.body = body or "<No body>"
        self.html_body = html_body
        self.policy: EgressPolicy | None = None

    def message(self) -> EmailMessage:
        """The message as it will be sent (Bcc recipients are not in the headers)."""
        msg = EmailMessage()
        msg["Subject"] = self.subject
        msg["From"] = self.from_addr
        msg["To"] = ", ".join(self.to_addrs)
        if self.cc_addrs:
            msg["Cc"] = ", ".join(self.cc_addrs)
        if self.reply_to:
            msg["Reply-To"] = ", ".join(self.reply_to)
        msg.set_content(self.body)
        if self.html_body:
            msg.add_alternative(self.html_body, subtype="html")
        return msg

    def configure(self, conf: Any) -> None:
        """Take the ``[egress]`` policy from the executor's configuration."""
        self.policy = EgressPolicy.from_conf(conf)

    def run(self, context: ActionContext) -> Any:
        """Send; returns null."""
        recipients = self.to_addrs + self.cc_addrs + self.bcc_addrs
        if not recipients:
            raise ActionException("std.email: no recipients (to_addrs is empty)")
        host, port = _split_server(self.smtp_server)
        LOG.info("std.email from %s to %s via %s:%s", self.from_addr, recipients, host, port)
        policy = self.policy if self.policy is not None else EgressPolicy.from_conf()
        try:
            with _CheckedSMTP(policy, host, port, SMTP_TIMEOUT) as smtp:
                if self.smtp_password:
                    smtp.starttls()
                    smtp.login(self.from_addr, self.smtp_password)
                smtp.send_message(self.message(), self.from_addr, recipients)
        except EgressDenied as exc:
            raise ActionException(f"std.email: {exc}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise ActionException(f"std.email: sending through {host}:{port} failed: "
                                  f"{type(exc).__name__}: {exc}") from exc
        return None
