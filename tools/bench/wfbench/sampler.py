"""Server-side measurements: peak RSS (process tree) and database file size."""

from __future__ import annotations

import os
import threading
import time
from types import TracebackType


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return 0


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (via /proc/PID/task/*/children, else a /proc scan)."""
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
        return out
    except FileNotFoundError:
        if not os.path.exists(f"/proc/{pid}"):
            return []
    except OSError:
        return []
    for entry in os.listdir("/proc"):  # kernel without CONFIG_PROC_CHILDREN
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    out.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return out


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (a forking server's workers count too)."""
    seen: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.append(p)
        todo += _children(p)
    return seen


def tree_rss_kb(pid: int) -> int:
    """Sum of VmRSS over the process tree of ``pid``, in KiB (0 if it is gone)."""
    return sum(_status_kb(p, "VmRSS") for p in process_tree(pid))


def peak_rss_kb(pid: int) -> int:
    """VmHWM (peak RSS since start) of ``pid`` itself, in KiB."""
    return _status_kb(pid, "VmHWM")


def db_bytes(path: str) -> int | None:
    """Size of a SQLite database including its -wal/-journal files; None if absent."""
    if not os.path.exists(path):
        return None
    return sum(os.path.getsize(p) for p in (path, path + "-wal", path + "-journal")
               if os.path.exists(p))


class RssSampler:
    """Samples the RSS of a process tree in a thread; use as a ``with`` block.

    ``start_kb`` is the RSS when the block began, ``peak_kb`` the highest sample.
    Reading one status file is cheap but walking the tree is not (a threaded server
    has a children file per thread), so the tree is re-walked only every
    ``tree_every`` seconds. Without a pid it records nothing (both stay None).
    """

    def __init__(self, pid: int | None, interval: float = 0.02, tree_every: float = 1.0) -> None:
        self.pid = pid
        self.interval = interval
        self.tree_every = tree_every
        self.start_kb: int | None = None
        self.peak_kb: int | None = None
        self.samples = 0
        self._pids: list[int] = []
        self._tree_at = float("-inf")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self, force_tree: bool = False) -> None:
        assert self.pid is not None
        now = time.monotonic()
        if force_tree or now - self._tree_at >= self.tree_every:
            self._pids = process_tree(self.pid)
            self._tree_at = now
        kb = sum(_status_kb(p, "VmRSS") for p in self._pids)
        self.samples += 1
        self.peak_kb = max(self.peak_kb or 0, kb)

    def __enter__(self) -> RssSampler:
        if self.pid is not None:
            self._sample(force_tree=True)
            self.start_kb = self.peak_kb
            self._thread = threading.Thread(target=self._loop, name="rss", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._sample(force_tree=True)
