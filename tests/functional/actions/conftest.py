"""Real peers on loopback for the std action tests: sshd and SMTP."""

from __future__ import annotations

import datetime
import importlib.util
import ssl
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from socketserver import BaseServer
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _load_tool(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"wfaas_peer_{name}",
                                                  ROOT / "tools" / "peers" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


sshd_tool = _load_tool("sshd")


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real OpenSSH server on 127.0.0.1 (needs Debian's openssh-server)."""
    if not sshd_tool.available():
        pytest.skip("sshd not installed (apt-get install -y openssh-server)")
    with sshd_tool.SshServer(tmp_path_factory.mktemp("sshd")) as server:
        yield server


def self_signed(directory: Path, *, san: bool = False) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context with a self-signed certificate for ``localhost`` (and its PEM).

    With ``san`` the name is also a subjectAltName, which clients verifying the
    host name need.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)))
    if san:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
    pem = directory / "cert.pem"
    pem.write_bytes(builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pem, directory / "key.pem")
    return ctx, pem


def serving(srv: BaseServer) -> Iterator[Any]:
    """Run ``srv`` in a daemon thread while the generator is suspended, then close it."""
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()
