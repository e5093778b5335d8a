"""Fixtures of the client suite: the real python-mistralclient 6.3.0 (in its own venv,
created once) driving a real ``wfaas-server`` subprocess on a free port."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.functional.client.server import ServerProcess

CLIENT_VERSION = "6.3.0"
VENV = Path(os.environ.get("WFAAS_MISTRALCLIENT_VENV", "/tmp/wfaas-mistralclient-venv"))
HERE = Path(__file__).parent
EXAMPLES = HERE / "examples"

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
DURATION_RE = re.compile(r"\b\d+:\d{2}:\d{2}\b")
UUID_MASK = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
TIME_MASK = "YYYY-MM-DD hh:mm:ss"


def normalize(text: str) -> str:
    """Mask ids, timestamps and durations (same widths, so tables keep their shape)."""
    text = UUID_RE.sub(UUID_MASK, text)
    text = TIME_RE.sub(TIME_MASK, text)
    return DURATION_RE.sub("0:00:00", text)


ZERO_UUID = "00000000-0000-0000-0000-000000000000"


def command_key(cmd: str) -> str:
    """A transcript command with ids masked (the all-zero id, a missing object, is kept)."""
    return UUID_RE.sub(lambda m: m.group(0) if m.group(0) == ZERO_UUID else UUID_MASK, cmd)


def load_transcript() -> dict[str, tuple[str, int]]:
    """Expected output and exit code per command (ids masked in the key)."""
    text = (HERE / "transcript.md").read_text()
    out = {}
    for cmd, body, rc in re.findall(r"```console\n\$ (.*?)\n(.*?)\[exit (\d+)\]\n```", text,
                                    re.S):
        key = command_key(cmd)
        n = 2
        while key in out:  # the same command (ids masked) run again: "<cmd> #2", ...
            key = f"{command_key(cmd)} #{n}"
            n += 1
        out[key] = (body, int(rc))
    return out


def _mistral_ok(path: Path) -> bool:
    try:
        proc = subprocess.run([str(path), "--version"], capture_output=True, text=True,
                              timeout=60)
    except OSError:
        return False
    return CLIENT_VERSION in (proc.stdout + proc.stderr)


@pytest.fixture(scope="session")
def mistral_bin() -> Path:
    """``mistral`` of python-mistralclient 6.3.0, installed into its own venv once."""
    binary = VENV / "bin" / "mistral"
    if binary.exists() and _mistral_ok(binary):
        return binary
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True,
                   timeout=300)
    proc = subprocess.run([str(VENV / "bin" / "pip"), "install", "-q",
                           f"python-mistralclient=={CLIENT_VERSION}"],
                          capture_output=True, text=True, timeout=900)
    if proc.returncode != 0 or not _mistral_ok(binary):
        pytest.fail(f"could not install python-mistralclient: {proc.stderr[-2000:]}")
    return binary


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("wfaas-server")).start()
    try:
        yield srv
    finally:
        assert srv.stop() == 0


@dataclass
class Result:
    """One ``mistral`` run."""

    rc: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


class Mistral:
    """Runs ``mistral <args>`` against the server, without Keystone (like the transcript)."""

    def __init__(self, binary: Path, url: str) -> None:
        self.binary = binary
        self.url = url
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update({"OS_MISTRAL_URL": url + "/v2", "PYTHONWARNINGS": "ignore"})
        self.env = env

    def __call__(self, *args: str) -> Result:
        proc = subprocess.run([str(self.binary), *args], capture_output=True, text=True,
                              env=self.env, cwd=EXAMPLES, timeout=120)
        err = "\n".join(line for line in proc.stderr.splitlines()
                        if not re.search(r"eventlet|asyncio|strongly recommend|"
                                         r"framework\.  For more detail|migration\.html", line)
                        and line.strip())
        return Result(proc.returncode, proc.stdout, err + ("\n" if err else ""))

    def value(self, *args: str) -> str:
        result = self(*args, "-f", "value")
        assert result.rc == 0, result.text
        return result.out.strip()


@pytest.fixture(scope="module")
def mistral(mistral_bin: Path, server: ServerProcess) -> Mistral:
    return Mistral(mistral_bin, server.url)


def parse_table(text: str) -> list[dict[str, str]]:
    """Rows of a cliff table as dicts (multi-line cells joined with newlines)."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    if not lines:
        return []
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows: list[dict[str, str]] = []
    for line in lines[1:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] or not rows:
            rows.append(dict(zip(header, cells, strict=False)))
        else:
            for key, cell in zip(header, cells, strict=False):
                if cell:
                    rows[-1][key] += "\n" + cell
    return rows


def fields(text: str) -> dict[str, str]:
    """A Field/Value table as a dict."""
    return {r["Field"]: r["Value"] for r in parse_table(text)}
