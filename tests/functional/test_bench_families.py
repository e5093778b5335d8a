"""The scaling families of the bench (tools/bench/families) and their report.

* ``report.py`` on a small fixture (wfaas and Mistral files): medians, ratios, a failed
  point, the notes; the marked README block is rewritten and nothing else changes.
* ``families/run.py --smoke --family all,<standalone script>`` against a real
  ``wfaas-server`` (default configuration and the executor path): every family and
  every point ends ``ok`` and the generator renders the result. This is the CI smoke run
  of the families: the sizes are the smallest and nothing is timed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.functional.test_bench_smoke import _wfaas_server

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "tools" / "bench"
RUN = BENCH / "families" / "run.py"
REPORT = BENCH / "report.py"
FIXTURES = ROOT / "tests" / "fixtures" / "bench"


def _module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


report = _module("bench_families_report", REPORT)
runner = _module("bench_families_run", RUN)

# ------------------------------------------------------------------ generator


def _docs() -> list[tuple[str, dict]]:
    return [report.load(str(FIXTURES / f"families-{x}.json")) for x in ("wfaas", "mistral")]


def test_tables_give_medians_ratios_failures_and_notes() -> None:
    text = report.render(_docs(), markdown=True)
    lines = text.splitlines()
    assert "### seq_n" in lines and "### context" in lines and "### retries" in lines
    seq = next(line for line in lines if line.startswith("| n=10 |"))
    assert seq.split(" | ")[2:5] == ["2 ms", "100 ms", "x50"]  # Mistral / wfaas
    big = next(line for line in lines if line.startswith("| S=1MB |"))
    assert "4 ms" in big and "300 ms" in big and "x75" in big
    assert "written 2 KB/task" in big
    retry = next(line for line in lines if line.startswith("| N=1 delay=1 |"))
    assert "FAILED" in retry and "wfaas: late 3 ms" in retry
    assert retry.split(" | ")[4] == "-"  # no ratio against a failed point
    assert "- mistral: 2026-12-03 12:00:00 UTC, 3 rep(s), load average 0.5 -> 0.7" in text


def test_without_mistral_the_ratio_is_against_the_first_file() -> None:
    wfaas, _ = _docs()
    slower = json.loads(json.dumps(wfaas[1]))
    slower["info"]["label"] = "wfaas-executor"
    for point in slower["families"]["seq_n"]["points"]:
        point["median"] *= 3
    text = report.render([wfaas, ("wfaas-executor", slower)], markdown=True)
    assert "| point | value | wfaas | wfaas-executor | wfaas-executor / wfaas | notes |" in text
    assert "| 2 ms | 6 ms | x3 |" in text


def test_markdown_rewrites_only_the_marked_block(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\nbefore\n{report.BEGIN}\nold table\n{report.END}\nafter\n")
    files = [str(FIXTURES / "families-wfaas.json"), str(FIXTURES / "families-mistral.json")]
    proc = subprocess.run([sys.executable, str(REPORT), *files, "--markdown",
                           "--readme", str(readme)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    new = readme.read_text()
    assert new.startswith(f"# title\n\nbefore\n{report.BEGIN}\n- wfaas: ")
    assert new.endswith(f"\n{report.END}\nafter\n") and "old table" not in new
    assert proc.stdout.strip() in new
    again = subprocess.run([sys.executable, str(REPORT), *files, "--markdown",
                            "--readme", str(readme)], capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and readme.read_text() == new  # idempotent


def test_missing_markers_or_wrong_file_is_exit_2(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n")
    fixture = str(FIXTURES / "families-wfaas.json")
    proc = subprocess.run([sys.executable, str(REPORT), fixture, "--markdown", "--readme",
                           str(readme)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "markers" in proc.stderr
    assert readme.read_text() == "no markers\n"
    bad = tmp_path / "bench.json"
    bad.write_text('{"results": {}}')
    proc = subprocess.run([sys.executable, str(REPORT), str(bad)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and "no 'families' key" in proc.stderr


def test_the_repository_readme_has_the_markers() -> None:
    text = (BENCH / "README.md").read_text()
    assert text.count(report.BEGIN) == 1 and text.count(report.END) == 1


def test_select_families_and_scripts() -> None:
    assert runner.select("all") == list(runner.FAMILIES)
    assert runner.select("context,x/y.py,context") == ["context", "x/y.py"]
    with pytest.raises(ValueError, match="unknown family 'nope'"):
        runner.select("context,nope")


def test_skip_leaves_out_the_named_points_only() -> None:
    import fam_nesting
    import fam_seq

    pts = fam_seq.points(False) + fam_nesting.points(False)
    skip = runner.skipped("seq_n:n=1000, nesting:d=[23] w=50")
    kept = [f"{p.family}:{p.name}" for p in pts if not skip(p)]
    assert "seq_n:n=1000" not in kept and "seq_n:n=100" in kept
    assert "nesting:d=1 w=50" in kept
    assert "nesting:d=2 w=50" not in kept and "nesting:d=3 w=50" not in kept
    assert len(kept) == len(pts) - 3
    assert not any(runner.skipped("")(p) for p in pts)


def test_a_point_folds_only_successful_reps() -> None:
    import fam_common  # on sys.path once run.py is loaded

    point = fam_common.Point("f", "p", {"n": 1}, "s per task", lambda ctx: {"value": 0.0})
    runs = [{"ok": True, "value": 2.0, "wall_s": 20.0, "server_cpu_s": 1.0},
            {"ok": False, "error": "CheckFailed: ended ERROR", "wall_s": 1.0},
            {"ok": True, "value": 4.0, "wall_s": 40.0, "server_cpu_s": 3.0}]
    res = fam_common.fold(point, runs)
    assert (res["status"], res["reps"], res["ok_reps"]) == ("partial", 3, 2)
    assert (res["median"], res["min"], res["max"]) == (3.0, 2.0, 4.0)
    assert res["wall_s"] == {"median": 30.0, "min": 20.0, "max": 40.0}
    assert res["extra"] == {"server_cpu_s": 2.0, "wall_s": 30.0}
    assert res["errors"] == ["CheckFailed: ended ERROR"]
    failed = fam_common.fold(point, runs[1:2])
    assert failed["status"] == "failed" and "median" not in failed


# ------------------------------------------------------ smoke against wfaas

_SCRIPT = """\
import argparse, json
p = argparse.ArgumentParser()
p.add_argument("--url")
p.add_argument("--size", type=int)
a = p.parse_args()
print(json.dumps({"url": a.url, "size": a.size, "points": [
    {"name": "one", "unit": "s", "status": "ok", "median": 0.5}]}))
"""


@pytest.mark.skipif(importlib.util.find_spec("wfaas.cmd.server") is None,
                    reason="wfaas-server is not installed")
@pytest.mark.parametrize("conf", ["", "[engine]\npure_actions_per_step = 0\n"],
                         ids=["default", "executor-path"])
def test_families_smoke_against_real_wfaas_server(tmp_path: Path, conf: str) -> None:
    script = tmp_path / "standalone.py"
    script.write_text(_SCRIPT)
    out = tmp_path / "families.json"
    # std.http must reach the runner's loopback server (refused by default, as in Mistral)
    extra = "[action_std_http]\ndenied_cidrs =\n" + conf
    with _wfaas_server(tmp_path, extra) as (url, pid, _db):
        proc = subprocess.run(
            [sys.executable, str(RUN), "--url", url, "--smoke", "--pid", str(pid),
             "--family", f"all,{script}", "--label", "wfaas", "--json", str(out),
             "--timeout", "60", "--", "--size", "3"],
            capture_output=True, text=True, timeout=240,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert out.exists(), proc.stdout + proc.stderr
    doc = json.loads(out.read_text())
    assert list(doc["families"]) == [*runner.FAMILIES, "standalone"]
    bad = {f"{fam}/{p['name']}": p.get("errors") for fam, res in doc["families"].items()
           for p in res.get("points", []) if p["status"] != "ok"}
    assert not bad, proc.stdout
    assert proc.returncode == 0, proc.stdout + proc.stderr
    fams = doc["families"]
    assert [p["name"] for p in fams["real_action"]["points"]] == [
        "noop x3", "echo x3", "sleep0 x3", "http x3"]
    assert len(fams["nesting"]["points"]) == 2 and len(fams["context"]["points"]) == 2
    for fam in ("seq_n", "real_action", "retries", "nesting", "listing"):
        assert all(p["median"] > 0 for p in fams[fam]["points"]), fam
    retries = {p["name"]: p for p in fams["retries"]["points"]}
    assert set(retries) == {"fail N=2 delay=0", "fail N=1 delay=1", "http N=1 delay=1"}
    delayed = retries["fail N=1 delay=1"]
    assert delayed["median"] * 2 >= 1.0  # two attempts, one second apart at least
    assert "lateness_s" in delayed["extra"]
    gap = retries["http N=1 delay=1"]  # arrival times of the attempts at the runner's server
    assert gap["median"] >= 1.0 and gap["extra"]["lateness_s"] >= 0
    assert all("server_cpu_s" in p["extra"] for p in fams["seq_n"]["points"])
    assert fams["standalone"]["output"]["size"] == 3
    assert fams["standalone"]["output"]["url"] == doc["info"]["url"]
    assert fams["standalone"]["points"][0]["median"] == 0.5
    text = report.render([report.load(str(out))], markdown=True)
    for fam in runner.FAMILIES:
        assert f"### {fam}" in text
