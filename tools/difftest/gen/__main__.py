"""Write every generated family to tests/differential/cases/gen_*.yaml."""

from __future__ import annotations

from tools.difftest.gen import api, expr, flow, flow_more, policies
from tools.difftest.gen.common import write
from tools.difftest.main import ROOT


def main() -> None:
    """Regenerate the generated case files."""
    total = 0
    for module in (expr, flow, flow_more, policies, api):
        for fname, cases in module.families().items():
            write(ROOT / "cases" / f"{fname}.yaml", cases, (module.__doc__ or "").splitlines()[0])
            total += len(cases)
    print(f"{total} generated cases")


main()
