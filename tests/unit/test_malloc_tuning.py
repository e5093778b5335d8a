"""wfaas.utils.malloc: glibc gives freed large blocks back after the tuning."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import sys
    from wfaas.utils import malloc
    if sys.argv[1] == "tuned":
        assert malloc.tune()

    def rss_kb():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

    # one large block freed raises glibc's dynamic threshold; then 64 blocks of 1 MB
    # (as JSON texts of a large value would be) of which every other one is freed
    big = bytearray(8 * 1024 * 1024)
    del big
    start = rss_kb()
    blocks = [bytearray(1024 * 1024) for _ in range(64)]
    for i in range(0, 64, 2):
        blocks[i] = None
    print(rss_kb() - start)
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and /proc")
def test_freed_large_blocks_are_given_back_only_when_tuned() -> None:
    def kept(mode: str) -> int:
        out = subprocess.run([sys.executable, "-c", SCRIPT, mode], check=True,
                             capture_output=True, text=True, env={"PATH": "/usr/bin"})
        return int(out.stdout.strip())

    untuned, tuned = kept("plain"), kept("tuned")
    # KB: the 32 live blocks (32 MB); untuned, the 32 freed ones between them stay too
    assert tuned < 40 * 1024, (untuned, tuned)
    assert untuned > 56 * 1024, (untuned, tuned)
