"""The benchmark harness (tools/bench) must not rot.

* Pure parts (workload selection, definitions, statistics, growth, compare): no network.
* The harness against a scripted loopback stub: a failed or wrong execution is
  reported as failed, not timed, and the long-poll strategy asks for ``?wait=``.
* ``bench.py --smoke`` against a real ``wfaas-server`` subprocess (temp config,
  free port, temp SQLite): every workload must end with status ok.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "tools" / "bench" / "bench.py"
sys.path.insert(0, str(BENCH.parent))

from wfbench import cli, definitions, report, sampler, workloads  # noqa: E402
from wfbench.client import Client, make_waiter  # noqa: E402

# --------------------------------------------------------------- pure parts


def test_select_resolves_groups_names_and_rejects_unknown() -> None:
    assert [w.name for w in workloads.select(None, smoke=False)] == workloads.DEFAULT
    assert [w.name for w in workloads.select(None, smoke=True)] == [w.name for w in workloads.ALL]
    got = [w.name for w in workloads.select("seq10,scaling,seq10", smoke=False)]
    assert got == ["seq10"] + workloads.SCALING  # order kept, duplicates dropped
    with pytest.raises(ValueError, match="unknown workload 'nope'"):
        workloads.select("seq10,nope", smoke=False)


def test_definitions_are_the_reference_shapes() -> None:
    seq = yaml.safe_load(definitions.sequence("s", 10))["s"]["tasks"]
    assert list(seq) == [f"t{i}" for i in range(10)]
    assert seq["t3"] == {"action": "std.noop", "on-success": ["t4"]}
    assert "on-success" not in seq["t9"]
    wi = yaml.safe_load(definitions.with_items("w", 1000, 20))["w"]
    assert wi["tasks"]["loop"]["with-items"] == "i in <% range(1000) %>"
    assert wi["tasks"]["loop"]["concurrency"] == 20
    assert wi["tasks"]["count"]["publish"] == {"n": "<% len(task(loop).result) %>"}
    fan = yaml.safe_load(definitions.fanout_join("f", 100))["f"]["tasks"]
    assert len(fan) == 102 and len(fan["start"]["on-success"]) == 100
    assert fan["final"]["join"] == "all"
    pub = yaml.safe_load(definitions.publish_chain("p", 50, 100))["p"]
    assert pub["vars"] == {"acc": []} and len(pub["tasks"]) == 50
    assert pub["tasks"]["t0"]["publish"]["acc"] == "<% $.acc + range(100).toList() %>"


def test_definitions_parse_with_wfaas_lang_when_present() -> None:
    lang = pytest.importorskip("wfaas.lang")
    if not hasattr(lang, "parse_workflows"):
        pytest.skip("wfaas.lang.parse_workflows not built yet")
    for text in (definitions.sequence("s", 10), definitions.with_items("w", 10, 2),
                 definitions.fanout_join("f", 5), definitions.publish_chain("p", 5, 10)):
        specs = lang.parse_workflows(text)
        assert len(specs) == 1


def test_summarise_times_only_successful_reps() -> None:
    runs = [{"ok": True, "value": 2.0, "unit": "s", "derived": {"tasks_per_s": 5.0},
             "peak_rss_mb": 100.0, "rss_start_mb": 90.0},
            {"ok": False, "value": None, "error": "CheckFailed: ended ERROR",
             "peak_rss_mb": 120.0, "rss_start_mb": 95.0},
            {"ok": True, "value": 4.0, "unit": "s", "derived": {"tasks_per_s": 2.5},
             "peak_rss_mb": 110.0, "rss_start_mb": 92.0}]
    s = report.summarise(runs)
    assert s["status"] == "partial" and s["ok_reps"] == 2 and s["reps"] == 3
    assert (s["median"], s["min"], s["max"]) == (3.0, 2.0, 4.0)
    assert s["derived"] == {"tasks_per_s": 3.75}
    assert s["peak_rss_mb"] == 120.0 and s["rss_start_mb"] == 90.0
    assert s["errors"] == ["CheckFailed: ended ERROR"]
    assert report.summarise(runs[1:2])["status"] == "failed"
    assert "median" not in report.summarise(runs[1:2])


def test_growth_factors_between_sizes() -> None:
    results = {
        "withitems1000": {"family": "withitems", "size": 1000, "median": 2.0,
                          "peak_rss_mb": 150.0, "rss_start_mb": 140.0},
        "withitems_10k": {"family": "withitems", "size": 10000, "median": 30.0,
                          "peak_rss_mb": 300.0, "rss_start_mb": 150.0},
        "seq10": {"family": None, "size": None, "median": 1.0},
    }
    (g,) = report.growth(results)
    assert (g["from"], g["to"], g["size_factor"], g["time_factor"]) == (
        "withitems1000", "withitems_10k", 10.0, 15.0)
    assert g["rss_delta_factor"] == 15.0 and g["peak_rss_factor"] == 2.0
    assert g["s_per_unit_to"] == pytest.approx(0.003)


def test_compare_reports_speed_up_and_flags_different_sizes() -> None:
    a = {"info": {}, "results": {"seq10": {"median": 0.5, "unit": "s", "peak_rss_mb": 50.0},
                                 "publish50": {"status": "failed"}}}
    b = {"info": {}, "results": {"seq10": {"median": 1.0, "unit": "s", "peak_rss_mb": 200.0},
                                 "publish50": {"median": 5.0}}}
    text = report.compare(a, b, "wfaas", "mistral")
    seq_row = next(line for line in text.splitlines() if line.startswith("seq10"))
    assert "x2.00" in seq_row and "0.25" in seq_row
    assert "FAILED" in next(line for line in text.splitlines() if line.startswith("publish50"))
    a["info"]["smoke"] = True
    assert "sizes differ" in report.compare(a, b)


def test_rss_counts_child_processes_and_db_size_counts_wal(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "x = bytearray(60_000_000); x[::4096] = b'1' * len(x[::4096]); "
         "print('ready', flush=True); input()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        own = sampler.tree_rss_kb(child.pid)
        assert own > 55_000
        assert child.pid in sampler.process_tree(os.getpid())
        with sampler.RssSampler(os.getpid()) as rss:
            pass
        assert rss.peak_kb is not None and rss.peak_kb >= own
    finally:
        child.communicate("")
    db = tmp_path / "x.db"
    db.write_bytes(b"a" * 100)
    (tmp_path / "x.db-wal").write_bytes(b"b" * 50)
    assert sampler.db_bytes(str(db)) == 150
    assert sampler.db_bytes(str(tmp_path / "missing.db")) is None


# ------------------------------------------------------ scripted stub server


class _Stub(BaseHTTPRequestHandler):
    """Answers like Mistral for the calls the harness makes; outcomes are scripted."""

    outcomes: dict[str, dict[str, Any]] = {}
    executions: dict[str, str] = {}
    paths: list[str] = []
    workflows: set[str] = set()
    reject_wait = False

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        self.paths.append(self.path)
        if self.path == "/v2/":
            return self._send(200, {"uri": "http://stub/v2"})
        if "?wait=" in self.path and self.reject_wait:  # what Mistral does
            return self._send(400, {"faultcode": "Client", "faultstring": "Unknown argument"})
        if self.path.startswith("/v2/tasks?"):
            return self._tasks()
        ex_id = self.path.split("/")[-1].split("?")[0]
        wf = self.executions[ex_id]
        out = self.outcomes.get(wf, {"state": "SUCCESS", "output": {}})
        self._send(200, {"id": ex_id, "state": out["state"], "state_info": "boom",
                         "output": json.dumps(out["output"])})

    def _tasks(self) -> None:
        """Two tasks per page with an absolute ``next`` link, like Mistral."""
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        wf = self.executions[query["workflow_execution_id"][0]]
        names = self.outcomes[wf]["tasks"]
        start = int(query.get("marker", ["0"])[0])
        page = [{"id": f"x{i}", "name": n, "state": "SUCCESS"}
                for i, n in enumerate(names[start:start + 2], start)]
        body: dict[str, Any] = {"tasks": page}
        if start + 2 < len(names):
            q = urllib.parse.urlencode({"workflow_execution_id": query["workflow_execution_id"][0],
                                        "limit": 2, "marker": start + 2})
            body["next"] = f"http://{self.headers['Host']}/v2/tasks?{q}"
        self._send(200, body)

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        if self.path == "/v2/workflows":
            name = body.splitlines()[2].rstrip(":")
            if name in self.workflows:
                return self._send(409, {"faultstring": "Duplicate entry"})
            self.workflows.add(name)
            return self._send(201, {"workflows": [{"name": name}]})
        ex_id = str(uuid.uuid4())
        self.executions[ex_id] = json.loads(body)["workflow_name"]
        self._send(201, {"id": ex_id, "state": "RUNNING"})

    def do_PUT(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        self._send(200, {"workflows": []})


@pytest.fixture()
def stub() -> Iterator[str]:
    _Stub.outcomes, _Stub.executions, _Stub.paths, _Stub.workflows = {}, {}, [], {"bench_seq3"}
    _Stub.reject_wait = False
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_failed_and_wrong_executions_are_reported_not_timed(stub: str, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    fan = ["start", "final"] + [f"b{i}" for i in range(5)]
    _Stub.outcomes = {"bench_seq3": {"state": "ERROR", "output": {}},
                      "bench_wi10": {"state": "SUCCESS", "output": {"n": 9}},
                      "bench_fanout5": {"state": "SUCCESS", "output": {"joined": True},
                                        "tasks": fan},
                      "bench_publish5_x10": {"state": "SUCCESS", "output": {"count": 50},
                                             "tasks": ["t0", "t1", "t2", "t4"]}}
    out = tmp_path / "r.json"
    rc = cli.main(["--url", stub, "--smoke", "--workloads",
                   "seq10,withitems1000,fanout100_join,publish50", "--json", str(out)])
    assert rc == 1
    res = json.loads(out.read_text())["results"]
    assert res["seq10"]["status"] == "failed" and "median" not in res["seq10"]
    assert "ended ERROR: boom" in res["seq10"]["errors"][0]
    assert res["withitems1000"]["status"] == "failed"
    assert "expected output n=10" in res["withitems1000"]["errors"][0]
    # all 7 tasks found across 4 pages of the task list
    assert res["fanout100_join"]["status"] == "ok" and res["fanout100_join"]["median"] > 0
    assert res["publish50"]["status"] == "failed"
    assert "expected 5 tasks, got 4 (missing e.g. ['t3'])" in res["publish50"]["errors"][0]
    assert "FAILED" in capsys.readouterr().out


def test_longpoll_waiter_asks_the_server_to_wait(stub: str) -> None:
    client = Client(stub)
    ex_id = client.start_execution("anything")
    waiter = make_waiter("longpoll", client, poll=0.001, timeout=5, longpoll_s=7)
    assert waiter.wait(ex_id)["state"] == "SUCCESS"
    assert _Stub.paths[-1] == f"/v2/executions/{ex_id}?wait=7"
    assert not waiter.fell_back  # type: ignore[attr-defined]


def test_longpoll_falls_back_to_polling_when_the_server_rejects_wait(stub: str) -> None:
    _Stub.reject_wait = True
    client = Client(stub)
    ex_ids = [client.start_execution("anything") for _ in range(2)]
    waiter = make_waiter("longpoll", client, poll=0.001, timeout=5)
    assert [ex["state"] for ex in waiter.wait_all(ex_ids)] == ["SUCCESS", "SUCCESS"]
    assert waiter.fell_back  # type: ignore[attr-defined]
    assert _Stub.paths[-2:] == [f"/v2/executions/{ex_ids[0]}", f"/v2/executions/{ex_ids[1]}"]


def test_unreachable_server_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert cli.main(["--url", f"http://127.0.0.1:{port}", "--smoke"]) == 2
    assert "cannot benchmark" in capsys.readouterr().err


# ------------------------------------------------------- real wfaas-server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_command(conf: Path) -> list[str]:
    script = Path(sys.executable).with_name("wfaas-server")
    if script.exists():
        return [str(script), "--config-file", str(conf)]
    found = shutil.which("wfaas-server")
    if found:
        return [found, "--config-file", str(conf)]
    return [sys.executable, "-c", "import sys; from wfaas.cmd.server import main; "
            "sys.exit(main())", "--config-file", str(conf)]


@contextlib.contextmanager
def _wfaas_server(tmp_path: Path, extra: str = "") -> Iterator[tuple[str, int, Path]]:
    """A real ``wfaas-server`` on a free port and a temporary SQLite file; ``extra``
    is appended to its config file."""
    port, db = _free_port(), tmp_path / "wfaas.db"
    conf = tmp_path / "wfaas.conf"
    conf.write_text(f"[DEFAULT]\nstate_dir = {tmp_path}\n[api]\nhost = 127.0.0.1\n"
                    f"port = {port}\n[database]\nconnection = sqlite:///{db}\n{extra}")
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(_server_command(conf), stdout=log, stderr=subprocess.STDOUT,
                            cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"wfaas-server exited {proc.returncode}:\n"
                            + (tmp_path / "server.log").read_text()[-3000:])
            try:
                with urllib.request.urlopen(url + "/v2/", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("wfaas-server did not answer GET /v2/ within 60 s")
            time.sleep(0.1)
        yield url, proc.pid, db
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.mark.skipif(importlib.util.find_spec("wfaas.cmd.server") is None,
                    reason="wfaas/cmd/server.py (wfaas-server) does not exist yet")
@pytest.mark.parametrize("wait", ["poll", "longpoll"])
def test_smoke_against_real_wfaas_server(tmp_path: Path, wait: str) -> None:
    with _wfaas_server(tmp_path) as (url, pid, db):
        out = tmp_path / "smoke.json"
        proc = subprocess.run(
            [sys.executable, str(BENCH), "--url", url, "--smoke", "--wait", wait,
             "--pid", str(pid), "--db", str(db), "--json", str(out), "--timeout", "60"],
            capture_output=True, text=True, timeout=240,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert out.exists(), proc.stdout + proc.stderr
    doc = json.loads(out.read_text())
    assert set(doc["results"]) == {w.name for w in workloads.ALL}
    bad = {n: r.get("errors") for n, r in doc["results"].items() if r["status"] != "ok"}
    assert not bad, proc.stdout
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert all(r["median"] > 0 for r in doc["results"].values())
    assert doc["results"]["seq10"]["peak_rss_mb"] > 0
    assert doc["info"]["db_bytes"] > 0
