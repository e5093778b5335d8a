"""``/metrics`` scraped after real executions on a real server (Prometheus text format)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.functional.client.server import ServerProcess, free_port
from tests.functional.ui.conftest import api, wait_state, wait_until

FLOW = """
version: '2.0'
metered:
  input: [fail]
  tasks:
    first:
      action: std.echo output=1
      on-success: [second]
    second:
      action: std.sleep seconds=0.05
      on-success: [maybe_fail]
    maybe_fail:
      action: std.fail
      on-success: []
    """


def _samples(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = requests.get(url, timeout=10).text
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _grafana_metrics() -> set[str]:
    """Every series name the shipped Grafana dashboard queries."""
    board = json.loads((Path(__file__).parents[3] / "etc" / "grafana-wfaas.json").read_text())
    exprs = [t["expr"] for panel in board["panels"] for t in panel["targets"]]
    return {m for e in exprs for m in re.findall(r"wfaas_[a-z_]+", e)}


def test_metrics_count_what_ran(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path).start()
    try:
        api(srv, "POST", "/v2/workflows", data=FLOW.replace("      on-success: []\n", ""),
            headers={"Content-Type": "text/plain"})
        ids = [api(srv, "POST", "/v2/executions", json={
            "workflow_name": "metered", "input": json.dumps({"fail": True})})["id"]
            for _ in range(3)]
        for ex_id in ids:
            assert wait_state(srv, ex_id, {"SUCCESS", "ERROR"}) == "ERROR"
        got = wait_until(lambda: (s := _samples(srv.url + "/metrics")).get(
            ("wfaas_executions_finished_total", (("state", "ERROR"),)), 0) >= 3 and s,
            what="3 finished executions in /metrics")
        assert got[("wfaas_executions_started_total", ())] >= 3
        assert got[("wfaas_task_duration_seconds_count", (("state", "SUCCESS"),))] >= 6
        assert got[("wfaas_task_duration_seconds_count", (("state", "ERROR"),))] >= 3
        assert got[("wfaas_action_duration_seconds_count", (("outcome", "error"),))] >= 3
        slow = got[("wfaas_action_duration_seconds_sum", (("outcome", "success"),))]
        assert slow >= 3 * 0.05                  # the std.sleep of each run was timed
        assert got[("wfaas_engine_step_seconds_count", ())] >= 3
        assert got[("wfaas_db_commit_seconds_count", ())] >= 6
        assert ("wfaas_queue_depth", (("queue", "executor_in_flight"),)) in got
        headers = requests.get(srv.url + "/metrics", timeout=10).headers
        assert headers["Content-Type"].startswith("text/plain")
        text = requests.get(srv.url + "/metrics", timeout=10).text
        families = {f.name for f in text_string_to_metric_families(text)}
        for name in _grafana_metrics():
            base = re.sub(r"_(bucket|count|sum|total)$", "", name)
            assert base in families, f"etc/grafana-wfaas.json uses {name}, not served"
    finally:
        assert srv.stop() == 0


@pytest.mark.slow
def test_metrics_off_and_on_their_own_port(tmp_path: Path) -> None:
    port = free_port()
    srv = ServerProcess(tmp_path, extra_conf=(
        f"[metrics]\nenabled = True\nport = {port}\n[dashboard]\nenabled = False\n")).start()
    try:
        assert requests.get(srv.url + "/ui/", timeout=10).status_code == 404
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert "wfaas_executions_started_total" in text
    finally:
        assert srv.stop() == 0
