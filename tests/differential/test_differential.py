"""Replays every golden case (recorded on the real Mistral 23) against a real wfaas-server.

The golden files come from ``python -m tools.difftest --record --url <mistral>/v2``; CI needs no
Mistral. A case listed in known_differences.yaml that differs is an xfail whose reason points at
its docs/compatibility.md row; every other difference fails.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.functional.client.server import ServerProcess
from tools.difftest.cases import Case, load_cases
from tools.difftest.main import (
    ROOT,
    compare_case,
    golden_path,
    known_reason,
    load_known,
    run_many,
)

GOLDEN = ROOT / "golden"
CASES = [c for c in load_cases(ROOT / "cases") if golden_path(GOLDEN, c.name).exists()]
KNOWN = load_known(ROOT / "known_differences.yaml")
COMPAT = (ROOT.parent.parent / "docs" / "compatibility.md").read_text()


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    """Every case run once, concurrently, against one wfaas-server."""
    server = ServerProcess(Path(tmp_path_factory.mktemp("difftest"))).start()
    try:
        yield run_many(CASES, server.url + "/v2", jobs=16)
    finally:
        server.stop()


def test_enough_cases_recorded() -> None:
    assert len(CASES) >= 1
    for entry in KNOWN:
        assert entry.get("reason") and entry.get("compat") and entry.get("cases"), entry
        assert entry["compat"] in COMPAT, f"no docs/compatibility.md row {entry['compat']!r}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(case: Case, replayed: dict[str, dict[str, Any]]) -> None:
    golden = json.loads(golden_path(GOLDEN, case.name).read_text())
    diffs = compare_case(case, golden, replayed[case.name])
    if not diffs:
        return
    text = "\n".join(f"{p}: mistral={json.dumps(g, default=str)[:300]} "
                     f"wfaas={json.dumps(a, default=str)[:300]}" for p, g, a in diffs)
    entry = known_reason(KNOWN, case.name, diffs)
    if entry:
        pytest.xfail(f"{entry['reason']} (docs/compatibility.md: {entry['compat']})")
    pytest.fail(text)
