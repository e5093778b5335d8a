"""Workflow definitions (Mistral DSL v2) used by the workloads.

The default workloads use exactly the definitions of the Mistral reference run
(/work/shared/bench), so their numbers compare; only the size is a parameter.
"""

from __future__ import annotations


def _head(name: str) -> list[str]:
    return ["---", "version: '2.0'", f"{name}:", "  type: direct"]


def sequence(name: str, n: int) -> str:
    """``n`` std.noop tasks t0 -> t1 -> ... chained with on-success."""
    lines = _head(name) + ["  tasks:"]
    for i in range(n):
        lines += [f"    t{i}:", "      action: std.noop"]
        if i < n - 1:
            lines.append(f"      on-success: [t{i + 1}]")
    return "\n".join(lines) + "\n"


def with_items(name: str, items: int, concurrency: int | None = None) -> str:
    """with-items over range(items) running std.echo, then a task publishing the count.

    Output: ``{"n": items}``.
    """
    lines = _head(name) + [
        "  output:",
        "    n: <% $.n %>",
        "  tasks:",
        "    loop:",
        f"      with-items: i in <% range({items}) %>",
    ]
    if concurrency:
        lines.append(f"      concurrency: {concurrency}")
    lines += [
        "      action: std.echo output=<% $.i %>",
        "      on-success: [count]",
        "    count:",
        "      action: std.noop",
        "      publish:",
        "        n: <% len(task(loop).result) %>",
    ]
    return "\n".join(lines) + "\n"


def fanout_join(name: str, width: int) -> str:
    """start -> b0..b(width-1) in parallel -> final (join: all). Output: joined: true."""
    lines = _head(name) + [
        "  output:",
        "    joined: <% $.joined %>",
        "  tasks:",
        "    start:",
        "      action: std.noop",
        "      on-success:",
    ]
    lines += [f"        - b{i}" for i in range(width)]
    for i in range(width):
        lines += [f"    b{i}:", "      action: std.noop", "      on-success: [final]"]
    lines += ["    final:", "      join: all", "      action: std.noop",
              "      publish:", "        joined: true"]
    return "\n".join(lines) + "\n"


def publish_chain(name: str, n: int, chunk: int) -> str:
    """``n`` sequential tasks, each appending ``chunk`` ints to the published list ``acc``.

    Output: ``{"count": n * chunk}``.
    """
    lines = _head(name) + [
        "  vars:",
        "    acc: []",
        "  output:",
        "    count: <% len($.acc) %>",
        "  tasks:",
    ]
    for i in range(n):
        lines += [f"    t{i}:", "      action: std.noop", "      publish:",
                  f"        acc: <% $.acc + range({chunk}).toList() %>"]
        if i < n - 1:
            lines.append(f"      on-success: [t{i + 1}]")
    return "\n".join(lines) + "\n"
