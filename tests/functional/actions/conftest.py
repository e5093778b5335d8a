"""Real peers on loopback for the std action tests: sshd and SMTP."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
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
