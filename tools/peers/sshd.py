"""Start a throw-away OpenSSH server on 127.0.0.1 for tests (Debian package: openssh-server).

Host and user keys are generated in a temporary directory; the server accepts
the generated user key for the current user. Usable from pytest
(``with SshServer(tmpdir) as srv: ...``) or from a shell::

    python tools/peers/sshd.py /tmp/sshd-dir     # prints port, user and key path; Ctrl-C stops
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
SSH_KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"


def available() -> bool:
    """True when sshd and ssh-keygen are installed."""
    return os.path.exists(SSHD) and os.path.exists(SSH_KEYGEN)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SshServer:
    """An sshd bound to 127.0.0.1:<free port>, with generated keys under ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.dir = Path(directory)
        self.port = free_port()
        self.user = getpass.getuser()
        self.user_key = self.dir / "id_ed25519"
        self.proc: subprocess.Popen[bytes] | None = None

    def _keygen(self, path: Path) -> None:
        subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
                       check=True)

    def start(self) -> SshServer:
        """Generate keys, write the config, start sshd and wait until it accepts."""
        self.dir.mkdir(parents=True, exist_ok=True)
        host_key = self.dir / "host_ed25519"
        self._keygen(host_key)
        self._keygen(self.user_key)
        auth = self.dir / "authorized_keys"
        auth.write_text((self.dir / "id_ed25519.pub").read_text())
        auth.chmod(0o600)
        config = self.dir / "sshd_config"
        config.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {host_key}\n"
            f"PidFile {self.dir / 'sshd.pid'}\nAuthorizedKeysFile {auth}\n"
            "StrictModes no\nUsePAM no\nPermitRootLogin prohibit-password\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "AllowTcpForwarding yes\nLogLevel ERROR\n")
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.proc = subprocess.Popen([os.path.realpath(SSHD), "-D", "-e", "-f", str(config)],
                                     stderr=open(self.dir / "sshd.log", "wb"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sshd exited: " + (self.dir / "sshd.log").read_text())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("sshd did not start listening in 10 s")

    def stop(self) -> None:
        """Terminate the server."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)
        self.proc = None

    def __enter__(self) -> SshServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


if __name__ == "__main__":
    with SshServer(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/wfaas-sshd")) as srv:
        print(f"port={srv.port} user={srv.user} key={srv.user_key}", flush=True)
        try:
            assert srv.proc is not None
            srv.proc.wait()
        except KeyboardInterrupt:
            pass
