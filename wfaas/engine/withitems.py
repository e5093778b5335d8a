"""The progress of a with-items task: :class:`WithItems`.

It is stored in the task's ``runtime_context`` under ``"wi"`` as a plain dict
(``count``, ``todo``, ``pos``, ``running``, ``ok``, ``err``, ``cancel``, ``conc``,
``base``), the format the REST API shows and older rows hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wfaas.engine.states import ERROR, SUCCESS

#: the key of the with-items progress in a task's ``runtime_context``
RUNTIME_KEY = "wi"


@dataclass
class WithItems:
    """Counters of the iterations of a with-items task (updated in place by the engine).

    ``count`` items in all; ``todo`` the indexes to run (a rerun without reset), None
    for all of them; ``pos`` how many of those were started; ``running``, ``ok``,
    ``err``, ``cancel`` the iterations running and finished by outcome; ``conc`` the
    concurrency (0: no limit); ``base`` the first task attempt whose results count.
    """

    count: int
    todo: list[int] | None = None
    pos: int = 0
    running: int = 0
    ok: int = 0
    err: int = 0
    cancel: int = 0
    conc: int = 0
    base: int = 0

    #: how many iterations this launch runs (``len(todo)``, else ``count``; not stored)
    total: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.total = len(self.todo) if self.todo is not None else self.count

    @property
    def finished(self) -> int:
        """How many iterations of this launch are over (any outcome)."""
        return self.ok + self.err + self.cancel

    def record(self, state: str) -> bool:
        """Count a running iteration that ended in ``state`` (SUCCESS, ERROR, else
        cancelled); True when every iteration of this launch is over."""
        self.running -= 1
        if state == SUCCESS:
            self.ok += 1
        elif state == ERROR:
            self.err += 1
        else:
            self.cancel += 1
        return self.ok + self.err + self.cancel >= self.total

    def next_index(self) -> int:
        """Take the item index of the next iteration to start (counted as running)."""
        idx = self.todo[self.pos] if self.todo is not None else self.pos
        self.pos += 1
        self.running += 1
        return idx

    def to_dict(self) -> dict[str, Any]:
        """The stored form (``runtime_context["wi"]``)."""
        return {"count": self.count, "todo": self.todo, "pos": self.pos,
                "running": self.running, "ok": self.ok, "err": self.err,
                "cancel": self.cancel, "conc": self.conc, "base": self.base}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WithItems:
        """Rebuild from the stored form; a missing counter (an older row) is 0."""
        todo = data.get("todo")
        return cls(count=int(data.get("count", 0)),
                   todo=None if todo is None else [int(i) for i in todo],
                   pos=int(data.get("pos", 0)), running=int(data.get("running", 0)),
                   ok=int(data.get("ok", 0)), err=int(data.get("err", 0)),
                   cancel=int(data.get("cancel", 0)), conc=int(data.get("conc", 0)),
                   base=int(data.get("base", 0)))
