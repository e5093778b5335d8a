"""Family ``context``: the cost of a small task after a task published a large value.

The value arrives as workflow input ``blob`` and task ``big`` publishes it as ``big``;
then ``follow`` small sequential ``std.noop`` tasks run. Each rep runs the workflow with
``follow`` tasks and the same workflow with none; the reported value is
``(wall with follow - wall without) / follow``: the time per following task. With
``--pid`` the server's CPU seconds and the bytes it wrote per following task are
reported the same way (``server_cpu_per_task_s``; ``written_bytes_per_task``, from
``wchar`` in /proc/PID/io): less sensitive to other load than the wall time.
Sizes: an empty dict, a 2,000-key dict, about 100 KB and about 1 MB (lists of 100-character
strings, below Mistral's default 1024 KB field limit). ``S=env_1MB``: the 1 MB list is
the execution's environment (``params.env.big``), read by the output only (no publish).
"""

from __future__ import annotations

from typing import Any

from fam_common import Ctx, Point, cpu_seconds, expect, written_bytes

SIZES: list[tuple[str, str, int]] = [  # label, kind, size
    ("0", "dict", 0), ("2k_keys", "dict", 2000), ("100KB", "list", 100_000),
    ("1MB", "list", 1_000_000), ("env_1MB", "env", 1_000_000)]
SMOKE_SIZES = [("0", "dict", 0), ("2k_keys", "dict", 2000)]


def value_of(kind: str, size: int) -> Any:
    """The published value: ``size`` keys, or a list of strings of about ``size`` JSON bytes."""
    if kind == "dict":
        return {f"k{i}": i for i in range(size)}
    return ["x" * 100] * (size // 104)


def definition(name: str, follow: int, env: bool = False) -> str:
    """``big`` publishes the input ``blob`` (``env``: nothing; the output reads
    ``env().big``); then ``follow`` sequential noop tasks."""
    lines = ["version: '2.0'", f"{name}:", "  input: [blob]", "  output:",
             f"    n: <% len({'env().big' if env else '$.big'}) %>", "  tasks:", "    big:",
             "      action: std.noop"]
    if not env:
        lines += ["      publish:", "        big: <% $.blob %>"]
    if follow:
        lines.append("      on-success: [t0]")
    for i in range(follow):
        lines += [f"    t{i}:", "      action: std.noop"]
        if i + 1 < follow:
            lines.append(f"      on-success: [t{i + 1}]")
    return "\n".join(lines) + "\n"


def _point(label: str, kind: str, size: int, follow: int) -> Point:
    env = kind == "env"
    value = value_of("list" if env else kind, size)
    names = {n: f"fam_ctx{'_env' if env else ''}_f{n}" for n in (0, follow)}

    def setup(ctx: Ctx) -> None:
        for n, name in names.items():
            ctx.register(name, definition(name, n, env))

    def timed(ctx: Ctx, n: int) -> tuple[float, float | None, float | None]:
        """Wall, server CPU seconds and bytes written by the server for one execution."""
        io0, cpu0 = written_bytes(ctx.pids), cpu_seconds(ctx.pids)
        if env:
            dt, ex = ctx.run_wf(names[n], {"blob": None}, {"env": {"big": value}})
        else:
            dt, ex = ctx.run_wf(names[n], {"blob": value})
        io1, cpu1 = written_bytes(ctx.pids), cpu_seconds(ctx.pids)
        expect(ex, "n", len(value))
        cpu = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
        io = None if io0 is None or io1 is None else io1 - io0
        return dt, cpu, io

    def rep(ctx: Ctx) -> dict[str, Any]:
        base, base_cpu, base_io = timed(ctx, 0)
        full, full_cpu, full_io = timed(ctx, follow)
        out: dict[str, Any] = {"value": (full - base) / follow, "wall_follow_s": full,
                               "wall_alone_s": base}
        if base_io is not None and full_io is not None:
            out["written_bytes_per_task"] = (full_io - base_io) / follow
        if base_cpu is not None and full_cpu is not None:
            out["server_cpu_per_task_s"] = round((full_cpu - base_cpu) / follow, 6)
        return out

    return Point("context", f"S={label}", {"value": label, "kind": kind, "size": size,
                 "follow": follow}, "s per following task", rep, setup)


def points(smoke: bool) -> list[Point]:
    """One point per value size."""
    follow = 3 if smoke else 20
    return [_point(label, kind, size, follow)
            for label, kind, size in (SMOKE_SIZES if smoke else SIZES)]

