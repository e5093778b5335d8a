"""Record golden files from a reference server, or replay them against another one."""

from __future__ import annotations

import argparse
import concurrent.futures
import fnmatch
import json
import sys
import traceback
from pathlib import Path
from typing import Any

import yaml

from tools.difftest.cases import Case, load_cases
from tools.difftest.compare import check_patterns, diff, normalise
from tools.difftest.runner import CaseRun

ROOT = Path(__file__).resolve().parents[2] / "tests" / "differential"
Diff = list[tuple[str, Any, Any]]


def run_case(case: Case, url: str) -> dict[str, Any]:
    """Run *case* against *url*; the normalised observations (or ``{"harness_error": ...}``)."""
    try:
        return normalise(CaseRun(case, url).run())  # type: ignore[no-any-return]
    except Exception as exc:  # noqa: BLE001 - reported per case, the others go on
        return {"harness_error": f"{type(exc).__name__}: {exc}",
                "trace": traceback.format_exc()[-1500:]}


def run_many(cases: list[Case], url: str, jobs: int) -> dict[str, dict[str, Any]]:
    """All *cases* concurrently (*jobs* in flight)."""
    results: dict[str, dict[str, Any]] = {}
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        futs = {pool.submit(run_case, c, url): c for c in cases}
        for fut in concurrent.futures.as_completed(futs):
            results[futs[fut].name] = fut.result()
    return results


def golden_path(golden_dir: Path, name: str) -> Path:
    """Where the golden file of case *name* lives."""
    return golden_dir / f"{name}.json"


def record(cases: list[Case], url: str, golden_dir: Path, jobs: int) -> int:
    """Run *cases* against the reference and write their golden files; returns #failures."""
    golden_dir.mkdir(parents=True, exist_ok=True)
    bad = 0
    for name, obs in sorted(run_many(cases, url, jobs).items()):
        case = next(c for c in cases if c.name == name)
        problems = check_patterns(case.get("expect"), obs) if "harness_error" not in obs else []
        if "harness_error" in obs or problems or _timed_out(obs):
            bad += 1
            print(f"NOT RECORDED {name}: {obs.get('harness_error') or problems or 'timeout'}")
            continue
        golden = {"case": name, "source": str(case.source.relative_to(ROOT.parent.parent)),
                  "observed": obs}
        golden_path(golden_dir, name).write_text(json.dumps(golden, indent=1, sort_keys=True))
    print(f"recorded {len(cases) - bad} of {len(cases)} cases")
    return bad


def _timed_out(obs: dict[str, Any]) -> bool:
    return any("wait_timeout" in s for s in obs.get("steps", []))


def compare_case(case: Case, golden: dict[str, Any], actual: dict[str, Any]) -> Diff:
    """Differences between the golden observations and *actual*."""
    if "harness_error" in actual:
        return [("harness_error", None, actual["harness_error"])]
    return diff(golden["observed"], actual) + check_patterns(case.get("expect"), actual)


def load_known(path: Path) -> dict[str, dict[str, str]]:
    """Known differences: case-name glob -> {reason, compat} (a docs/compatibility.md row)."""
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    return {k: v for k, v in data.items()}


def known_reason(known: dict[str, dict[str, str]], name: str) -> dict[str, str] | None:
    """The known-difference entry covering case *name*, if any."""
    for pattern, entry in known.items():
        if fnmatch.fnmatchcase(name, pattern):
            return entry
    return None


def replay(cases: list[Case], url: str, golden_dir: Path, jobs: int) -> dict[str, Diff]:
    """Replay every case that has a golden file against *url*: name -> differences."""
    with_golden = [c for c in cases if golden_path(golden_dir, c.name).exists()]
    actual = run_many(with_golden, url, jobs)
    out: dict[str, Diff] = {}
    for case in with_golden:
        golden = json.loads(golden_path(golden_dir, case.name).read_text())
        out[case.name] = compare_case(case, golden, actual[case.name])
    return out


def _short(value: Any, width: int = 60) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= width else text[:width - 3] + "..."


def print_table(results: dict[str, Diff], known: dict[str, dict[str, str]]) -> int:
    """Table of differences; returns the number of cases with unknown differences."""
    failing = 0
    for name, diffs in sorted(results.items()):
        if not diffs:
            continue
        entry = known_reason(known, name)
        tag = "KNOWN " if entry else "DIFF  "
        failing += 0 if entry else 1
        for path, g, a in diffs:
            print(f"{tag}{name:50} {path:40} mistral={_short(g)} got={_short(a)}")
    same = sum(1 for d in results.values() if not d)
    print(f"{same} of {len(results)} cases identical, {failing} with unknown differences")
    return failing


def main(argv: list[str] | None = None) -> int:
    """Command line entry point (``python -m tools.difftest``)."""
    ap = argparse.ArgumentParser(prog="difftest", description=__doc__)
    ap.add_argument("--url", required=True, help="API root, e.g. http://127.0.0.1:8989/v2")
    ap.add_argument("--record", action="store_true", help="write golden files from --url")
    ap.add_argument("--cases", type=Path, default=ROOT / "cases")
    ap.add_argument("--golden", type=Path, default=ROOT / "golden")
    ap.add_argument("--known", type=Path, default=ROOT / "known_differences.yaml")
    ap.add_argument("-k", action="append", help="only cases whose name matches this regex")
    ap.add_argument("-j", "--jobs", type=int, default=32, help="cases in flight")
    ap.add_argument("--missing", action="store_true", help="with --record: only cases without golden")
    args = ap.parse_args(argv)
    cases = load_cases(args.cases, args.k)
    if args.record:
        if args.missing:
            cases = [c for c in cases if not golden_path(args.golden, c.name).exists()]
        return 1 if record(cases, args.url, args.golden, args.jobs) else 0
    results = replay(cases, args.url, args.golden, args.jobs)
    return 1 if print_table(results, load_known(args.known)) else 0


if __name__ == "__main__":
    sys.exit(main())
