"""Shared helpers of the lang tests."""

from __future__ import annotations

import re
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "workflows"
EXPECT_RE = re.compile(r"^# expect: (\d+|None):(\d+|None) (.*?) ?\| (.*)$")


def fixture_kind(path: Path) -> str | None:
    """Fixtures named wb_* are workbooks, act_* action files, others are detected."""
    if path.name.startswith("wb_"):
        return "workbook"
    if path.name.startswith("act_"):
        return "actions"
    return None


def expected_problems(text: str) -> list[tuple[int | None, int | None, str, str]]:
    """The ``# expect:`` lines of an invalid fixture."""
    out = []
    for line in text.splitlines():
        m = EXPECT_RE.match(line)
        if m:
            ln, col, path, msg = m.groups()
            out.append((None if ln == "None" else int(ln), None if col == "None" else int(col),
                        path, msg))
    return out
