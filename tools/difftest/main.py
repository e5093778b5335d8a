"""Record golden files from a reference server, or replay them against another one."""

from __future__ import annotations

import argparse
import concurrent.futures
import fnmatch
import hashlib
import json
import re
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


def case_hash(case: Case) -> str:
    """Digest of the case as written; a golden file recorded from another text is stale."""
    text = json.dumps(case.data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def is_current(golden_dir: Path, case: Case) -> bool:
    """A golden file exists for *case* and was recorded from its present text."""
    path = golden_path(golden_dir, case.name)
    return path.exists() and json.loads(path.read_text()).get("hash") == case_hash(case)


def golden_path(golden_dir: Path, name: str) -> Path:
    """Where the golden file of case *name* lives."""
    return golden_dir / f"{name}.json"


def record(cases: list[Case], url: str, golden_dir: Path, jobs: int) -> int:
    """Run *cases* against the reference and write their golden files; returns #failures."""
    golden_dir.mkdir(parents=True, exist_ok=True)
    bad = 0
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        futs = {pool.submit(run_case, c, url): c for c in cases}
        for fut in concurrent.futures.as_completed(futs):
            case, obs = futs[fut], fut.result()
            problems = check_patterns(case.get("expect"), obs) if "harness_error" not in obs else []
            if "harness_error" in obs or problems or _timed_out(obs):
                bad += 1
                why = obs.get("harness_error") or problems or "timeout"
                print(f"NOT RECORDED {case.name}: {why}", flush=True)
                continue
            golden = {"case": case.name, "hash": case_hash(case),
                      "source": str(case.source.relative_to(ROOT.parent.parent)), "observed": obs}
            golden_path(golden_dir, case.name).write_text(
                json.dumps(golden, indent=1, sort_keys=True) + "\n")
    print(f"recorded {len(cases) - bad} of {len(cases)} cases")
    return bad


def _timed_out(obs: dict[str, Any]) -> bool:
    return any("wait_timeout" in s for s in obs.get("steps", []))


def compare_case(case: Case, golden: dict[str, Any], actual: dict[str, Any]) -> Diff:
    """Differences between the golden observations and *actual*."""
    if golden.get("hash") != case_hash(case):
        return [("golden", "stale: re-record this case", None)]
    if "harness_error" in actual:
        return [("harness_error", None, actual["harness_error"])]
    found = diff(golden["observed"], actual, exact=bool(case.get("exact_info")))
    return found + check_patterns(case.get("expect"), actual)


Known = list[dict[str, Any]]


def load_known(path: Path) -> Known:
    """Known differences: a list of {cases: [glob], paths: [regex] (optional), reason, compat}.

    ``compat`` names the docs/compatibility.md row; without ``paths`` every difference of a
    matching case is covered, with it only differences at a matching path.
    """
    if not path.exists():
        return []
    return list(yaml.safe_load(path.read_text()) or [])


def _covers(entry: dict[str, Any], name: str, path: str) -> bool:
    if not any(fnmatch.fnmatchcase(name, g) for g in entry["cases"]):
        return False
    pats = entry.get("paths")
    return not pats or any(re.search(p, path) for p in pats)


def known_reason(known: Known, name: str, diffs: Diff) -> dict[str, Any] | None:
    """The known-difference entry covering every difference of case *name*, if there is one.

    When several entries share the differences, the first one that covers any is returned
    (all of them must together cover every difference)."""
    if not diffs:
        return None
    first = None
    for path, _, _ in diffs:
        entry = next((e for e in known if _covers(e, name, path)), None)
        if entry is None:
            return None
        first = first or entry
    return first


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


def print_table(results: dict[str, Diff], known: Known) -> int:
    """Table of differences; returns the number of cases with unknown differences."""
    failing = 0
    for name, diffs in sorted(results.items()):
        if not diffs:
            continue
        entry = known_reason(known, name, diffs)
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
    ap.add_argument("--url", help="API root, e.g. http://127.0.0.1:8989/v2")
    ap.add_argument("--wfaas", action="store_true",
                    help="replay against a fresh local wfaas-server (started and stopped here)")
    ap.add_argument("--record", action="store_true", help="write golden files from --url")
    ap.add_argument("--cases", type=Path, default=ROOT / "cases")
    ap.add_argument("--golden", type=Path, default=ROOT / "golden")
    ap.add_argument("--known", type=Path, default=ROOT / "known_differences.yaml")
    ap.add_argument("-k", action="append", help="only cases whose name matches this regex")
    ap.add_argument("-j", "--jobs", type=int, default=32, help="cases in flight")
    ap.add_argument("--missing", action="store_true",
                    help="with --record: only cases without a current golden file")
    args = ap.parse_args(argv)
    cases = load_cases(args.cases, args.k)
    if args.record:
        if args.missing:
            cases = [c for c in cases if not is_current(args.golden, c)]
        return 1 if record(cases, args.url, args.golden, args.jobs) else 0
    if args.wfaas:
        return _replay_local(cases, args)
    if not args.url:
        ap.error("--url or --wfaas is required")
    results = replay(cases, args.url, args.golden, args.jobs)
    return 1 if print_table(results, load_known(args.known)) else 0


def _replay_local(cases: list[Case], args: argparse.Namespace) -> int:
    import tempfile

    from tests.functional.client.server import ServerProcess

    with tempfile.TemporaryDirectory(prefix="difftest-") as tmp:
        server = ServerProcess(Path(tmp)).start()
        try:
            results = replay(cases, server.url + "/v2", args.golden, args.jobs)
        finally:
            server.stop()
    return 1 if print_table(results, load_known(args.known)) else 0


if __name__ == "__main__":
    sys.exit(main())
