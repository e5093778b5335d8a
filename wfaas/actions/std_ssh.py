"""std.ssh and std.ssh_proxied: run a command over SSH with paramiko.

``host`` may be a list (the result is then a list, one entry per host) and may
carry a port as ``host:port`` (``[v6addr]:port``). Keys: an inline
``private_key`` (PEM/OpenSSH text) or ``private_key_filename``, a regular file of
at most 64 KiB inside ``[action_std_ssh] key_dirs`` (a relative name is looked up
in each, the first being the executor's ``~/.ssh`` by default); else
``password``. Every connection (target and gateway) goes through the ``[egress]``
policy; ``proxy_command`` needs ``[action_std_ssh] allow_proxy_command``. A non-zero exit
status fails the action with a generic message (details are logged only),
unless ``return_result_on_error`` asks for ``{stdout, stderr, exit_code}``.
"""

from __future__ import annotations

import io
import logging
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wfaas.actions.base import Action, ActionContext, ActionException
from wfaas.actions.egress import EgressDenied, EgressPolicy

if TYPE_CHECKING:
    import paramiko

LOG = logging.getLogger(__name__)

CONNECT_TIMEOUT = 30.0

#: Largest private key file std.ssh reads.
MAX_KEY_BYTES = 64 * 1024


@dataclass(frozen=True)
class SshSettings:
    """``[action_std_ssh]`` and the ``[egress]`` policy, as plain values."""

    key_dirs: tuple[str, ...] = ("~/.ssh",)
    allow_proxy_command: bool = False
    policy: EgressPolicy = EgressPolicy()

    @classmethod
    def from_conf(cls, conf: Any = None) -> SshSettings:
        """Read ``[action_std_ssh]`` and ``[egress]`` of ``conf`` (default: the global CONF)."""
        if conf is None:
            from wfaas.config import CONF as conf
        group = conf.action_std_ssh
        return cls(tuple(group.key_dirs or ()), bool(group.allow_proxy_command),
                   EgressPolicy.from_conf(conf))


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


def _paramiko() -> Any:
    """paramiko, imported when an action first needs it: with cryptography, nacl and
    invoke it is ~25 MB of modules that a server which never runs std.ssh (the action
    registry imports this module) does not load."""
    import paramiko as module
    return module


def _key_classes() -> list[type[paramiko.PKey]]:
    names = ("Ed25519Key", "ECDSAKey", "RSAKey", "DSSKey")
    module = _paramiko()
    return [getattr(module, n) for n in names if hasattr(module, n)]


def _inside(path: str, dirs: Sequence[str]) -> bool:
    return any(os.path.commonpath([path, d]) == d for d in dirs)


def _read_regular(path: str) -> bytes | None:
    """Up to MAX_KEY_BYTES + 1 bytes of ``path`` if it is a regular file (no symlink)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks, size = [], 0
        while size <= MAX_KEY_BYTES:
            chunk = os.read(fd, MAX_KEY_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def read_key_file(filename: str, key_dirs: Sequence[str]) -> str:
    """The text of a key file inside ``key_dirs`` (relative names looked up in each).

    Symlinks and ``..`` are resolved before the check; only regular files are
    read, at most MAX_KEY_BYTES. A file outside the directories, missing,
    unreadable or not regular gets the same message (no oracle for what exists).
    """
    dirs = [os.path.realpath(os.path.expanduser(d)) for d in key_dirs if str(d).strip()]
    path = os.path.expanduser(str(filename))
    candidates = [path] if os.path.isabs(path) else [os.path.join(d, path) for d in dirs]
    for candidate in candidates:
        real = os.path.realpath(candidate)
        if not _inside(real, dirs):
            continue
        data = _read_regular(real)
        if data is None:
            continue
        if len(data) > MAX_KEY_BYTES:
            raise ActionException(f"Private key file {filename} is larger than "
                                  f"{MAX_KEY_BYTES // 1024} KiB")
        return data.decode("utf-8", errors="replace")
    raise ActionException(f"Cannot read private key file {filename}: no such regular file "
                          f"in [action_std_ssh] key_dirs")


def load_private_key(text: str | None = None, filename: str | None = None,
                     password: str | None = None,
                     key_dirs: Sequence[str] = ("~/.ssh",)) -> paramiko.PKey | None:
    """A paramiko key from inline text or a file inside ``key_dirs``."""
    if filename:
        text = read_key_file(filename, key_dirs)
    if not text:
        return None
    for cls in _key_classes():
        try:
            return cls.from_private_key(io.StringIO(text), password=password or None)
        except (_paramiko().SSHException, ValueError):
            continue
    raise ActionException("The private key is not in a format paramiko can read")


def _connect(host: str, username: str | None, password: str | None,
             pkey: paramiko.PKey | None, sock: Any = None,
             policy: EgressPolicy | None = None) -> paramiko.SSHClient:
    """An SSH client on ``host``: through ``sock``, or a socket the policy checked."""
    name, port = split_host(host)
    if sock is None:
        sock = (policy or EgressPolicy()).connect(name, port, CONNECT_TIMEOUT)
    client = _paramiko().SSHClient()
    client.set_missing_host_key_policy(_paramiko().AutoAddPolicy())
    try:
        client.connect(name, port=port, username=username, password=password or None,
                       pkey=pkey, sock=sock, timeout=CONNECT_TIMEOUT,
                       banner_timeout=CONNECT_TIMEOUT, auth_timeout=CONNECT_TIMEOUT,
                       look_for_keys=False, allow_agent=False)
    except BaseException:
        client.close()
        sock.close()
        raise
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
        self.settings: SshSettings | None = None

    def configure(self, conf: Any) -> None:
        """Take ``[action_std_ssh]`` and ``[egress]`` from the executor's configuration."""
        self.settings = SshSettings.from_conf(conf)

    def _settings(self) -> SshSettings:
        if self.settings is None:
            self.settings = SshSettings.from_conf()
        return self.settings

    def _key(self) -> paramiko.PKey | None:
        return load_private_key(self.private_key, self.private_key_filename, None,
                                self._settings().key_dirs)

    def _open(self, host: str) -> paramiko.SSHClient:
        return _connect(host, self.username, self.password, self._key(),
                        policy=self._settings().policy)

    def _run_one(self, host: str) -> Any:
        where = f"Failed to execute ssh cmd '{self.cmd}' on {host}"
        try:
            client = self._open(host)
        except EgressDenied as exc:
            raise ActionException(f"{where}: {exc}") from exc
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
        settings = self._settings()
        if self.proxy_command and not settings.allow_proxy_command:
            raise ActionException("std.ssh_proxied: proxy_command runs a command on the "
                                  "executor and is disabled ([action_std_ssh] "
                                  "allow_proxy_command)")
        pkey = self._key()
        if self.proxy_command:
            sock: Any = _paramiko().ProxyCommand(self.proxy_command)
            return _connect(host, self.username, self.password, pkey, sock=sock)
        name, port = split_host(host)
        if not settings.policy.is_open():  # the gateway connects to the checked address
            name = str(settings.policy.resolve(name, port)[0][4][0])
        gateway = _connect(self.gateway_host, self.gateway_username or self.username,
                           self.password, pkey, policy=settings.policy)
        transport = gateway.get_transport()
        if transport is None:
            gateway.close()
            raise ActionException(f"SSH gateway {self.gateway_host} closed the connection")
        channel = transport.open_channel("direct-tcpip", (name, port), ("127.0.0.1", 0),
                                         timeout=CONNECT_TIMEOUT)
        client = _connect(host, self.username, self.password, pkey, sock=channel)
        client._wfaas_gateway = gateway  # closed together with the client (see _run_one)
        return client
