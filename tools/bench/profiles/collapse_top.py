"""Summarise a py-spy raw (collapsed) profile: top frames by inclusive and self samples.

    python tools/bench/profiles/collapse_top.py profile.txt [--grep wfaas] [--top 40]

Each input line is ``frame;frame;...;frame COUNT`` (``py-spy record -f raw``).
Inclusive counts each frame once per stack; self counts the leaf frame.
"""

from __future__ import annotations

import argparse
import collections
import re


def main() -> None:
    """Print the top frames of a collapsed-stack file."""
    p = argparse.ArgumentParser()
    p.add_argument("file")
    p.add_argument("--grep", default="", help="only frames whose text contains this")
    p.add_argument("--top", type=int, default=40)
    p.add_argument("--thread", default="", help="only stacks whose thread frame matches")
    a = p.parse_args()
    incl: collections.Counter[str] = collections.Counter()
    self_: collections.Counter[str] = collections.Counter()
    total = 0
    with open(a.file) as fh:
        for line in fh:
            line = line.rstrip()
            m = re.match(r"^(.*) (\d+)$", line)
            if not m:
                continue
            stack, n = m.group(1), int(m.group(2))
            if a.thread and a.thread not in stack:
                continue
            frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
            total += n
            for f in set(frames):
                incl[f] += n
            self_[frames[-1]] += n
    print(f"total samples {total}")
    print("--- inclusive")
    for f, n in incl.most_common():
        if a.grep in f:
            print(f"{n:6d} {100 * n / total:5.1f}%  {f}")
            a.top -= 1
            if a.top <= 0:
                break
    print("--- self")
    for f, n in self_.most_common(30):
        print(f"{n:6d} {100 * n / total:5.1f}%  {f}")


if __name__ == "__main__":
    main()
