"""What an import did (or would do): one outcome per source object, counts, table, JSON."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

#: outcomes, in the order of the summary table's columns
ACTIONS = ("create", "unchanged", "conflict", "skip")
KINDS = ("workbooks", "workflows", "actions", "environments", "cron_triggers",
         "event_triggers", "members", "executions")


@dataclass(frozen=True)
class Outcome:
    """What happened to one source object.

    ``action``: ``create`` (new in wfaas), ``unchanged`` (already there, identical),
    ``conflict`` (a different object holds its name: left alone) or ``skip`` (not
    importable, ``reason`` says why).
    """

    kind: str
    key: str
    action: str
    reason: str = ""


@dataclass
class ImportReport:
    """Every outcome of one run, plus whether it was a dry run."""

    source: str
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)
    revision: str | None = None

    def add(self, outcome: Outcome) -> Outcome:
        """Record one outcome; returns it."""
        self.outcomes.append(outcome)
        return outcome

    def counts(self) -> dict[str, dict[str, int]]:
        """``kind -> action -> count`` for every kind (zeros included)."""
        per = Counter((o.kind, o.action) for o in self.outcomes)
        return {k: {a: per[(k, a)] for a in ACTIONS} for k in KINDS}

    @property
    def changed(self) -> int:
        """How many objects were (or would be) created."""
        return sum(1 for o in self.outcomes if o.action == "create")

    def problems(self) -> list[Outcome]:
        """Conflicts and skips, in source order."""
        return [o for o in self.outcomes if o.action in ("conflict", "skip")]

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json``."""
        return {"source": self.source, "dry_run": self.dry_run, "revision": self.revision,
                "counts": self.counts(), "created": self.changed,
                "problems": [asdict(o) for o in self.problems()]}

    def table(self) -> str:
        """The summary for people: counts per kind, then every conflict and skip."""
        head = ("kind", *ACTIONS)
        rows = [(k, *(str(v) for v in c.values())) for k, c in self.counts().items()]
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

        def line(cells: tuple[str, ...]) -> str:
            return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
        verb = "would create" if self.dry_run else "created"
        out = [f"Mistral database: {self.source} (revision {self.revision or 'unknown'})",
               line(head), line(tuple("-" * w for w in widths)), *map(line, rows),
               f"{verb} {self.changed} object(s)" + (" (dry run: nothing written)"
                                                      if self.dry_run else "")]
        for o in self.problems():
            out.append(f"  {o.action}: {o.kind} {o.key}: {o.reason}")
        return "\n".join(out)
