"""std.ssh and std.ssh_proxied: run a command over SSH with paramiko.

``host`` may be a list (the result is then a list, one entry per host) and may
carry a port as ``host:port`` (``[v6addr]:port``). Keys: an inline
``private_key`` (PEM/OpenSSH text) or ``private_key_filename`` (absolute, or
relative to the executor's ``~/.ssh``); else ``password``. A non-zero exit
status fails the action with a generic message (details are logged only),
unless ``return_result_on_error`` asks for ``{stdout, stderr, exit_code}``.
"""

from __future__ import annotations

import io
import logging
import os
from typing import Any

import paramiko

from wfaas.actions.base import Action, ActionContext, ActionException

LOG = logging.getLogger(__name__)

CONNECT_TIMEOUT = 30.0


def split_host(host: str, default_port: int = 22) -> tuple[str, int]:
    """``"h"`` -> (h, 22); ``"h:2222"`` -> (h, 2222); ``"[::1]:2222"`` -> (::1, 2222)."""
    host = str(host).strip()
    if host.startswith("["):
        addr, _, rest = host[1:].partition("]")
        return addr, int(rest[1:]) if rest.startswith(":") else default_port
    if host.count(":") == 1:
        name, _, port = host.partition(":")
        if port.isdigit():
            return name, int(port)
    return host, default_port


def _key_classes() -> list[type[paramiko.PKey]]:
    names = ("Ed25519Key", "ECDSAKey", "RSAKey", "DSSKey")
    return [getattr(paramiko, n) for n in names if hasattr(paramiko, n)]


def load_private_key(text: str | None = None, filename: str | None = None,
                     password: str | None = None) -> paramiko.PKey | None:
    """A paramiko key from inline text or a file (relative names under ~/.ssh)."""
    if filename:
        path = os.path.expanduser(filename)
        if not os.path.isabs(path):
            path = os.path.join(os.path.expanduser("~/.ssh"), path)
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise ActionException(f"Cannot read private key file {filename}: "
                                  f"{exc.strerror}") from exc
    if not text:
        return None
    for cls in _key_classes():
        try:
            return cls.from_private_key(io.StringIO(text), password=password or None)
        except (paramiko.SSHException, ValueError):
            continue
    raise ActionException("The private key is not in a format paramiko can read")


def _connect(host: str, username: str | None, password: str | None,
             pkey: paramiko.PKey | None, sock: Any = None) -> paramiko.SSHClient:
    name, port = split_host(host)
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(name, port=port, username=username, password=password or None, pkey=pkey,
                   sock=sock, timeout=CONNECT_TIMEOUT, banner_timeout=CONNECT_TIMEOUT,
                   auth_timeout=CONNECT_TIMEOUT, look_for_keys=False, allow_agent=False)
    return client


def execute(client: paramiko.SSHClient, cmd: str) -> tuple[int, str, str]:
    """Run ``cmd``; return (exit_code, stdout, stderr) with trailing newline stripped."""
    _, out, err = client.exec_command(cmd)
    stdout = out.read().decode("utf-8", errors="replace")
    stderr = err.read().decode("utf-8", errors="replace")
    code = out.channel.recv_exit_status()
    return code, stdout.rstrip("\n"), stderr.rstrip("\n")


class SSHAction(Action):
    """Runs a shell command on one or several hosts over SSH and returns its output."""

    def __init__(self, cmd: str, host: Any, username: str, password: str = "",
                 private_key_filename: str | None = None, private_key: str | None = None,
                 return_result_on_error: bool = False) -> None:
        self.cmd = cmd
        self.host = host
        self.username = username
        self.password = password
        self.private_key_filename = private_key_filename
        self.private_key = private_key
        self.return_result_on_error = return_result_on_error

    def _open(self, host: str) -> paramiko.SSHClient:
        pkey = load_private_key(self.private_key, self.private_key_filename, None)
        return _connect(host, self.username, self.password, pkey)

    def _run_one(self, host: str) -> Any:
        where = f"Failed to execute ssh cmd '{self.cmd}' on {host}"
        try:
            client = self._open(host)
        except ActionException:
            raise
        except Exception as exc:  # noqa: BLE001 - paramiko/socket errors
            LOG.warning("%s: %s", where, exc)
            raise ActionException(f"{where}: cannot connect: {type(exc).__name__}") from exc
        try:
            code, stdout, stderr = execute(client, self.cmd)
        except Exception as exc:  # noqa: BLE001
            LOG.warning("%s: %s", where, exc)
            raise ActionException(where) from exc
        finally:
            client.close()
            gateway = getattr(client, "_wfaas_gateway", None)
            if gateway is not None:
                gateway.close()
        if code != 0:
            if self.return_result_on_error:
                return {"stdout": stdout, "stderr": stderr, "exit_code": code}
            LOG.warning("%s: exit code %s, stderr: %s", where, code, stderr)
            raise ActionException(f"{where} (exit code {code})")
        return stdout

    def run(self, context: ActionContext) -> Any:
        """Run on each host; one host -> its stdout, several -> a list."""
        hosts = self.host if isinstance(self.host, list) else [self.host]
        results = [self._run_one(str(h)) for h in hosts]
        return results if isinstance(self.host, list) else results[0]


class SSHProxiedAction(SSHAction):
    """Runs a shell command over SSH through a gateway host (or a proxy command)."""

    def __init__(self, cmd: str, host: Any, username: str, private_key_filename: str,
                 gateway_host: str, gateway_username: str | None = None,
                 password: str | None = None, proxy_command: str | None = None,
                 private_key: str | None = None) -> None:
        super().__init__(cmd, host, username, password or "", private_key_filename,
                         private_key)
        self.gateway_host = gateway_host
        self.gateway_username = gateway_username
        self.proxy_command = proxy_command

    def _open(self, host: str) -> paramiko.SSHClient:
        pkey = load_private_key(self.private_key, self.private_key_filename, None)
        target = split_host(host)
        if self.proxy_command:
            sock: Any = paramiko.ProxyCommand(self.proxy_command)
            return _connect(host, self.username, self.password, pkey, sock=sock)
        gateway = _connect(self.gateway_host, self.gateway_username or self.username,
                           self.password, pkey)
        transport = gateway.get_transport()
        if transport is None:
            gateway.close()
            raise ActionException(f"SSH gateway {self.gateway_host} closed the connection")
        channel = transport.open_channel("direct-tcpip", target, ("127.0.0.1", 0),
                                         timeout=CONNECT_TIMEOUT)
        client = _connect(host, self.username, self.password, pkey, sock=channel)
        client._wfaas_gateway = gateway  # closed together with the client (see _run_one)
        return client
